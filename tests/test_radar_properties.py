"""Properties of the radar (RULES.md 7; checker/radar): escalation is monotone, a repeat has everything
a first offence has, no task is appealed more often than its class allows, replaying the same scans
gives the same ledger, and the SQLite ledger agrees, step by step, with a plain in-memory model of
the facts (a Hypothesis state machine driving scans, rectifications, appeals and the clock).

The model below is written from what RULES.md 7 and the README promise (see Model), not from the code
of checker/radar: every time in it is UTC and every comparison absolute. Ladders are generated as
TOML (policies/penalties.toml's shape) and read with parse_ladder, like a team's own ladder.

Platform time has daylight saving; the radar's times are absolute (ladder.py: "In UTC, like every time
the radar compares"): a deadline is rectify_days x 24 hours, `days` of down-ranking and the repeat
window's `window_days` are multiples of 24 hours too. Generated times cross the changes, and the state
machine's clock visits the hour a November change repeats (regression tests for it at the end).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import os
import shutil
import tempfile
import types
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import attrs
import pytest
from hypothesis import HealthCheck, assume, event, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from checker import resources
from checker.invariants import INVARIANTS, platform
from checker.radar.ladder import FIRST, REPEAT, Action, Ladder, heavier_or_equal, load_ladder, parse_ladder
from checker.radar.ledger import AppealRefused, Ledger, LedgerError, Task
from checker.radar.observe import Hit, Observation
from checker.values import PLATFORM_TZ

UTC = _dt.timezone.utc
SECOND, HOUR, DAY = _dt.timedelta(seconds=1), _dt.timedelta(hours=1), _dt.timedelta(days=1)
REMOVALS = ("product-delete", "product-delist")
FAMILIES = {"fake-listing": ["fake-price", "fake-moq"], "publishing-anomaly": ["tier-anomaly", "spec-anomaly"]}
#: one rule per penalty class: rule -> (family, class)
RULES = {"fake-price/page-price": ("fake-price", "fake-listing"),
         "tier-anomaly/bait-tier": ("tier-anomaly", "publishing-anomaly")}
RULE_OF = {cls: rule for rule, (_, cls) in RULES.items()}
MERCHANTS = ("M-1", "M-2")
PRODUCTS = ("P-1", "P-2", "P-3")
LISTINGS = tuple(itertools.product(MERCHANTS, PRODUCTS))
KEYS = tuple((m, p, r) for (m, p) in LISTINGS for r in RULES)

#: the bundled ladder, and RULES.md 7 written out by hand as the model's ladder (checked equal below).
#: An action is (action, days, until rectified, points).
BUNDLED = load_ladder([resources.policies_dir()])
BUNDLED_SPEC: dict[str, Any] = {
    "count": 1,
    "window_days": None,
    "classes": {
        "fake-listing": {
            "rectify_days": 14, "appeals": 0,
            "first": [("product-downrank", 14, False, None), ("product-delete", None, False, None)],
            "repeat": [("product-downrank", 14, False, None), ("product-delete", None, False, None),
                       ("store-points", None, False, 6), ("store-downrank", 7, False, None)],
        },
        "publishing-anomaly": {
            "rectify_days": 14, "appeals": 1,
            "first": [("product-downrank", None, True, None), ("product-delist", None, False, None)],
            "repeat": [("product-downrank", None, True, None), ("product-delist", None, False, None),
                       ("store-points", None, False, 6), ("store-downrank", 7, False, None)],
        },
    },
}

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def utc(t: _dt.datetime) -> _dt.datetime:
    return t.astimezone(UTC)


# -- ladders as TOML ---------------------------------------------------------------------------------


def ladder_toml(spec: dict[str, Any]) -> bytes:
    """A penalties.toml with the ladder `spec` (the shape of policies/penalties.toml)."""

    def action(a: tuple) -> str:
        name, days, until, points = a
        fields = [f"action = {json.dumps(name)}"]
        if days is not None:
            fields.append(f"days = {days}")
        if until:
            fields.append('until = "rectified"')
        if points is not None:
            fields.append(f"points = {points}")
        return "{ " + ", ".join(fields) + " }"

    lines = ["[repeat]", f"count = {spec['count']}"]
    if spec["window_days"] is not None:
        lines.append(f"window_days = {spec['window_days']}")
    for name, cls in spec["classes"].items():
        lines += [
            f"[class.{name}]",
            'title = { en = "generated", zh = "生成" }',
            f"families = {json.dumps(FAMILIES[name])}",
            f"rectify_days = {cls['rectify_days']}",
            f"appeals = {cls['appeals']}",
            f"first = [{', '.join(action(a) for a in cls['first'])}]",
            f"repeat = [{', '.join(action(a) for a in cls['repeat'])}]",
        ]
    return ("\n".join(lines) + "\n").encode()


def ladder_of(spec: dict[str, Any]) -> Ladder:
    return parse_ladder(ladder_toml(spec), "generated/penalties.toml")


def as_actions(acts: Sequence[tuple]) -> tuple[Action, ...]:
    return tuple(Action(name, days, until, points) for name, days, until, points in acts)


def escalates(spec: dict[str, Any]) -> bool:
    """The ladder check of `compliance verify`: every class's repeat covers its first offence."""
    return all(heavier_or_equal(as_actions(c["repeat"]), as_actions(c["first"])) is None
               for c in spec["classes"].values())


def durations(max_days: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(1, min(30, max_days)), st.integers(1, max_days))


@st.composite
def action_lists(draw: st.DrawFn, max_days: int = 400) -> list[tuple]:
    """The actions of one offence: at most one of each, at most one removal, in any order."""
    acts: list[tuple] = []
    downrank = draw(st.sampled_from(["none", "days", "until"]))
    if downrank == "days":
        acts.append(("product-downrank", draw(durations(max_days)), False, None))
    elif downrank == "until":
        acts.append(("product-downrank", None, True, None))
    removal = draw(st.sampled_from([None, *REMOVALS]))
    if removal:
        acts.append((removal, None, False, None))
    if draw(st.booleans()):
        acts.append(("store-points", None, False, draw(st.integers(1, 20))))
    if draw(st.booleans()):
        acts.append(("store-downrank", draw(durations(max_days)), False, None))
    return list(draw(st.permutations(acts)))


@st.composite
def covering(draw: st.DrawFn, first: list[tuple], max_days: int = 400) -> list[tuple]:
    """A repeat that has everything `first` has (as long or longer, as many points or more), plus maybe more."""
    out = []
    for name, days, until, points in first:
        if days is not None:
            days = min(days + draw(st.integers(0, 10)), max(days, max_days))
        if points is not None:
            points += draw(st.integers(0, 10))
        out.append((name, days, until, points))
    have = {a[0] for a in out}
    for extra in draw(action_lists(max_days)):
        if extra[0] in have or (extra[0] in REMOVALS and have & set(REMOVALS)):
            continue
        out.append(extra)
        have.add(extra[0])
    return list(draw(st.permutations(out)))


@st.composite
def class_specs(draw: st.DrawFn, max_days: int = 400) -> dict[str, Any]:
    """A class: its repeat mostly covering its first offence, sometimes anything."""
    first = draw(action_lists(max_days))
    repeat = draw(st.one_of(covering(first, max_days), covering(first, max_days), action_lists(max_days)))
    return {"rectify_days": draw(st.integers(1, 30)), "appeals": draw(st.integers(0, 3)), "first": first,
            "repeat": repeat}


@st.composite
def ladder_specs(draw: st.DrawFn, *, window: bool | None = False, valid: bool = True,
                 max_days: int = 400) -> dict[str, Any]:
    """Generated ladders. `window`: False none, True always one, None either. `valid`: only those whose
    repeat covers the first offence by heavier_or_equal, the check of verify (so a heavier_or_equal that
    lets a lighter repeat through is caught by the concrete checks). `max_days`: the longest down-ranking."""
    if window is None:
        window = draw(st.booleans())
    spec = {
        "count": draw(st.integers(1, 3)),
        "window_days": draw(st.integers(1, 400)) if window else None,
        "classes": {name: draw(class_specs(max_days)) for name in FAMILIES},
    }
    if valid:
        assume(escalates(spec))
    return spec


def test_the_bundled_ladder_is_rules_md_7_and_only_escalates() -> None:
    """policies/penalties.toml says what RULES.md 7 says (the model's hand-written copy), a repeat covers a
    first offence in each class, and `compliance verify`'s radar/escalation invariant accepts it."""
    assert BUNDLED.repeat_count == BUNDLED_SPEC["count"] and BUNDLED.window_days is None
    for name, spec in BUNDLED_SPEC["classes"].items():
        cls = BUNDLED.classes[name]
        assert (cls.rectify_days, cls.appeals) == (spec["rectify_days"], spec["appeals"])
        assert cls.first == as_actions(spec["first"]) and cls.repeat == as_actions(spec["repeat"])
        assert list(cls.families) == FAMILIES[name]
        assert heavier_or_equal(cls.repeat, cls.first) is None
    # the generated TOML of the same ladder reads back the same
    again = ladder_of(BUNDLED_SPEC)
    assert again.repeat_count == BUNDLED.repeat_count and again.window_days == BUNDLED.window_days
    assert {n: attrs.evolve(c, title=None) for n, c in again.classes.items()} == \
        {n: attrs.evolve(c, title=None) for n, c in BUNDLED.classes.items()}
    assert escalation_invariant(resources.policies_dir()) is None


def escalation_invariant(folder: str) -> Any:
    """What `compliance verify` says of the ladder in `folder` (radar/escalation only needs the folders)."""
    inv = next(i for i in INVARIANTS if i.name == "radar/escalation")
    return inv.check(types.SimpleNamespace(dirs=[folder]), platform())


# -- ledger helpers ----------------------------------------------------------------------------------


@contextmanager
def fresh_ledger() -> Iterator[Ledger]:
    folder = tempfile.mkdtemp(prefix="radar-prop-")
    try:
        with Ledger(os.path.join(folder, "radar.db")) as ledger:
            yield ledger
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def page(version: int) -> str:
    """Version `version` of a listing's page, as observe.page() gives it (a digest per field; here one field,
    so two pages are the same page exactly when their versions are equal)."""
    return json.dumps({"price": f"v{version}"})


def hit(key: tuple[str, str, str], kind: str, at: _dt.datetime, penalty: str | None = None,
        made_on: int = 0) -> Hit:
    """A finding on the listing (`kind` "product") or on an order made on version `made_on` of its page."""
    merchant, product, rule = key
    family, cls = RULES.get(rule, (None, None))
    if penalty is not None:
        cls, family = penalty, FAMILIES[penalty][0]
    return Hit(merchant, product, rule, family, cls, kind, None if kind == "product" else f"O-{product}",
               "products.jsonl" if kind == "product" else "orders.jsonl", at,
               "/price" if kind == "product" else "/items/0/unit_price", f"{rule} on {product}",
               None if kind == "product" else page(made_on))


def observation(at: _dt.datetime, hits: Sequence[Hit] = (), products: dict | None = None,
                rules: Sequence[str] | None = None, unevaluated: Sequence = ()) -> Observation:
    if products is None:
        products = {(h.merchant_id, h.product_id): page(0) for h in hits if h.evidence_kind == "product"}
    if rules is None:
        rules = set(RULES) | {h.rule for h in hits}
    return Observation(at, frozenset(rules), dict(products), frozenset(unevaluated), tuple(hits))


def tables(ledger: Ledger) -> dict[str, list[tuple]]:
    """The ledger's facts, without the wall-clock recording times (recorded_at, the ledger's created_at)."""
    out = {}
    for table in ("scans", "tasks", "appeals"):
        columns = [r[1] for r in ledger.db.execute(f"PRAGMA table_info({table})") if r[1] != "recorded_at"]
        out[table] = ledger.db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id").fetchall()
    return out


def due_tuple(d: Any) -> tuple:
    return (d.action, utc(d.at), None if d.until is None else utc(d.until), d.points, d.due)


# -- 1. escalation is monotone -----------------------------------------------------------------------

START = _dt.datetime(2022, 6, 1, 12, 0, tzinfo=UTC)
gaps = st.lists(
    st.one_of(
        st.sampled_from([_dt.timedelta(0), SECOND, DAY, 30 * DAY, 400 * DAY, 4000 * DAY]),
        st.builds(lambda d, s: _dt.timedelta(days=d, seconds=s), st.integers(0, 1100), st.integers(0, 86399)),
    ),
    min_size=1, max_size=7,
)

#: the state machine starts 11 days before the 2023 November change of platform time; REPEATED_HOUR:
#: the hour it repeats (01:00-01:59 PDT, then 01:00-01:59 PST), in UTC
MACHINE_START = _dt.datetime(2023, 10, 25, 12, 0, tzinfo=UTC)
REPEATED_HOUR = _dt.datetime(2023, 11, 5, 8, 0, tzinfo=UTC)


def open_in_sequence(ledger: Ledger, ladder: Ladder, penalty: str, gaps: Sequence[_dt.timedelta]) -> list[Task]:
    """One merchant's offences of class `penalty`, one listing each, opened at START and after each gap
    (a gap of 0: another scan at the same time); the tasks as of long after the last."""
    rule = RULE_OF[penalty]
    at = START
    for i, gap in enumerate([_dt.timedelta(0), *gaps]):
        at += gap
        recorded = ledger.record(observation(at, [hit(("M-1", f"P-{i}", rule), "product", at, penalty)]), ladder)
        assert len(recorded.opened) == 1
    return ledger.tasks(ladder, at + 40 * 365 * DAY, merchant="M-1")


FOREVER = _dt.timedelta(days=10**6)


def consequences(task: Task, ladder: Ladder) -> dict[str, _dt.timedelta | int]:
    """What a task costs, relative to its opening: the time to a removal, the points deducted, the length
    of each down-ranking (an until-rectified one: forever when it has no end yet, or runs into the removal
    of the product)."""
    kinds = {a.action: a for a in ladder.classes[task.penalty].actions(task.offence)}
    opened = utc(task.opened_at)
    removal = next((utc(d.at) for d in task.actions if d.action in REMOVALS), None)
    out: dict[str, _dt.timedelta | int] = {}
    for d in task.actions:
        assert utc(d.at) >= opened
        if d.action in REMOVALS:
            out["removal"] = utc(d.at) - opened
        elif d.action == "store-points":
            out[d.action] = d.points
        elif kinds[d.action].days is not None:
            out[d.action] = utc(d.until) - utc(d.at)
        elif d.until is None or (removal is not None and removal <= utc(d.until)):
            out[d.action] = FOREVER  # until rectified: never, or until the product is removed
        else:
            out[d.action] = utc(d.until) - opened
    return out


def lighter(later: dict[str, Any], earlier: dict[str, Any]) -> str | None:
    """What `earlier` has that `later` lacks or has less of (a removal: later, or none), else None."""
    for name, value in earlier.items():
        if name not in later:
            return f"no {name}"
        if name == "removal":
            if later[name] > value:
                return "a later removal"
        elif later[name] < value:
            return f"less {name}: {later[name]} < {value}"
    return None


def check_escalation(tasks: list[Task], ladder: Ladder) -> str | None:
    """None when each task's consequences are at least those of the one before; else why not."""
    for before, after in itertools.pairwise(tasks):
        assert utc(before.opened_at) <= utc(after.opened_at)
        cls = ladder.classes[after.penalty]
        missing = heavier_or_equal(cls.actions(after.offence), cls.actions(before.offence))
        if missing is not None:
            return (f"task {after.id} ({after.offence}) lacks {missing.describe()} of task {before.id} "
                    f"({before.offence})")
        why = lighter(consequences(after, ladder), consequences(before, ladder))
        if why is not None:
            return f"task {after.id} ({after.offence}) has {why} than task {before.id} ({before.offence})"
    return None


@PROPERTY
@given(st.sampled_from(sorted(FAMILIES)), gaps)
def test_a_merchants_later_offence_is_never_lighter_with_the_bundled_ladder(penalty: str, gaps: list) -> None:
    """For any times a merchant offends in a class (gaps of 0 to years), each radar task of the ledger has
    at least the ladder actions of the one before, and concretely as many points, as long down-rankings
    and as early a removal; the offences go first, ..., first, repeat, ... and never back."""
    with fresh_ledger() as ledger:
        tasks = open_in_sequence(ledger, BUNDLED, penalty, gaps)
    times = [utc(t.opened_at) for t in tasks]
    offences = [t.offence for t in tasks]
    assert offences == [REPEAT if any(t < at for t in times) else FIRST for at in times]
    assert check_escalation(tasks, BUNDLED) is None


@PROPERTY
@given(ladder_specs(window=False), st.sampled_from(sorted(FAMILIES)), gaps)
def test_escalation_is_monotone_for_any_ladder_without_a_window(spec: dict, penalty: str, gaps: list) -> None:
    """The same for any ladder verify accepts without a look-back window (any repeat count, any actions
    whose repeat covers the first offence): the first `count` offences are first, the rest repeats."""
    ladder = ladder_of(spec)
    with fresh_ledger() as ledger:
        tasks = open_in_sequence(ledger, ladder, penalty, gaps)
    times = [utc(t.opened_at) for t in tasks]
    for task, at in zip(tasks, times):
        earlier = sum(t < at for t in times)
        assert task.offence == (REPEAT if earlier >= spec["count"] else FIRST)
    assert check_escalation(tasks, ladder) is None


@PROPERTY
@given(ladder_specs(window=True, valid=False), st.sampled_from(sorted(FAMILIES)), st.data())
def test_with_a_window_an_offence_counts_the_earlier_tasks_inside_it(spec: dict, penalty: str,
                                                                     data: st.DataObject) -> None:
    """With `window_days`, an offence is a repeat when at least `count` of the merchant's tasks of the class
    were opened strictly before it and strictly after window_days before it (gaps of the window, a second
    either side, none, a second, a day), in absolute time across daylight-saving changes."""
    window = spec["window_days"] * DAY
    steps = st.sampled_from([_dt.timedelta(0), SECOND, DAY, window - SECOND, window, window + SECOND])
    gaps = data.draw(st.lists(steps, min_size=1, max_size=6), "gaps")
    ladder = ladder_of(spec)
    with fresh_ledger() as ledger:
        tasks = open_in_sequence(ledger, ladder, penalty, gaps)
    times = [utc(t.opened_at) for t in tasks]
    for task, at in zip(tasks, times):
        inside = sum(at - window < t < at for t in times)
        assert task.offence == (REPEAT if inside >= spec["count"] else FIRST), (gaps, times, task.id)


def test_a_look_back_window_makes_a_later_offence_lighter_and_verify_rejects_it(tmp_path: Any) -> None:
    """With `window_days`, a merchant's offence after a quiet spell is a first offence again, lighter than
    the repeat before it: the search finds such a sequence in the ledger every time (derandomized), and
    that is why `compliance verify`'s radar/escalation rejects a ladder with a window."""
    spec = dict(BUNDLED_SPEC, window_days=30)
    ladder = ladder_of(spec)

    def lighter_somewhere(gaps: list) -> bool:
        with fresh_ledger() as ledger:
            return check_escalation(open_in_sequence(ledger, ladder, "fake-listing", gaps), ladder) is not None

    found = find(gaps, lighter_somewhere, settings=settings(database=None, derandomize=True, max_examples=500))
    with fresh_ledger() as ledger:
        tasks = open_in_sequence(ledger, ladder, "fake-listing", found)
    levels = [t.offence for t in tasks]
    assert any(a == REPEAT and b == FIRST for a, b in itertools.pairwise(levels)), (found, levels)
    # a quiet spell of at least the window (the window is open: a task exactly 30 days before no longer counts)
    assert any(g >= 30 * DAY for g in found), found
    # the same ladder without the window escalates on the same offences
    with fresh_ledger() as ledger:
        assert check_escalation(open_in_sequence(ledger, BUNDLED, "fake-listing", found), BUNDLED) is None
    (tmp_path / "penalties.toml").write_bytes(ladder_toml(spec))
    violation = escalation_invariant(str(tmp_path))
    assert violation is not None and "lighter than the repeat" in violation.counterexample


# -- 2. a repeat has everything a first offence has ----------------------------------------------------


def covers(repeat: Sequence[Any], first: Sequence[Any]) -> str | None:
    """None when the actions (Due) of a repeat task include everything those of a first-offence task with
    the same times do: the same removal at the same time, as many points as early, every down-ranking
    from as early and as long (or running into a removal of the product); else what is missing."""
    removal = next((utc(d.at) for d in repeat if d.action in REMOVALS), None)
    for d in first:
        same = [e for e in repeat if e.action == d.action]
        if not same:
            return f"no {d.action}"
        e = same[0]
        if d.action in REMOVALS:
            if (utc(e.at), e.due) != (utc(d.at), d.due):
                return f"{d.action} at {e.at} (due {e.due}), not {d.at} (due {d.due})"
        elif d.action == "store-points":
            if e.points < d.points or utc(e.at) > utc(d.at):
                return f"store-points -{e.points} at {e.at}, not -{d.points} at {d.at}"
        else:
            if utc(e.at) > utc(d.at):
                return f"{d.action} from {e.at}, not {d.at}"
            if not (e.until is None or (d.until is not None and utc(e.until) >= utc(d.until))
                    or (d.action == "product-downrank" and removal is not None and removal <= utc(e.until))):
                return f"{d.action} until {e.until}, not {d.until}"
    return None


@st.composite
def fix_times(draw: st.DrawFn, rectify_days: int) -> _dt.timedelta | None:
    """When (after the opening) a task is found rectified: never, within the period, at or after the deadline."""
    deadline = rectify_days * DAY
    return draw(st.one_of(
        st.none(),
        st.sampled_from([_dt.timedelta(0), SECOND, deadline - SECOND, deadline, deadline + SECOND]),
        st.builds(lambda s: _dt.timedelta(seconds=s), st.integers(0, int(2 * deadline.total_seconds()))),
    ))


@PROPERTY
@given(st.one_of(st.just(BUNDLED_SPEC), ladder_specs(window=None)), st.sampled_from(sorted(FAMILIES)), st.data())
def test_a_repeat_offence_has_everything_a_first_offence_has(spec: dict, penalty: str, data: st.DataObject) -> None:
    """For the bundled ladder and any ladder verify accepts (a repeat covers a first offence), a repeat
    task opened and rectified (or not) at the same times as a first-offence task has, as of any time,
    every action the first one has: as early, as long, as many points (a down-ranking that ends when
    the product is removed at the deadline covers one that never ends)."""
    ladder = ladder_of(spec)
    cls = ladder.classes[penalty]
    rule = RULE_OF[penalty]
    opened = START + 100 * DAY
    fix = data.draw(fix_times(cls.rectify_days), "rectified after")
    with fresh_ledger() as ledger:
        for j in range(spec["count"]):  # the repeat merchant's earlier tasks, just before
            at = opened - (spec["count"] - j) * SECOND
            ledger.record(observation(at, [hit(("M-REP", f"P-E{j}", rule), "product", at, penalty)]), ladder)
        pair = [hit(("M-FIRST", "P-X", rule), "product", opened, penalty),
                hit(("M-REP", "P-X", rule), "product", opened, penalty)]
        assert len(ledger.record(observation(opened, pair), ladder).opened) == 2
        times = [opened, opened + cls.rectify_days * DAY + SECOND * data.draw(st.integers(-1, 1)),
                 opened + 5000 * DAY]
        if fix is not None:
            clean = observation(opened + fix, products={("M-FIRST", "P-X"): page(1), ("M-REP", "P-X"): page(1)})
            assert len(ledger.record(clean, ladder).rectified) == 2
            times += [opened + fix - SECOND, opened + fix]
        for as_of in sorted(t for t in times if t >= opened):
            first = ledger.tasks(ladder, as_of, merchant="M-FIRST")[0]
            repeat = ledger.tasks(ladder, as_of, merchant="M-REP")[-1]
            assert (first.offence, repeat.offence) == (FIRST, REPEAT)
            assert (first.status, first.rectified_at, first.deadline) == (repeat.status, repeat.rectified_at,
                                                                          repeat.deadline)
            assert covers(repeat.actions, first.actions) is None, (as_of, covers(repeat.actions, first.actions))


# -- the model -----------------------------------------------------------------------------------------


class MTask:
    """A task as the model keeps it: the facts only (every time UTC)."""

    def __init__(self, id: int, key: tuple, family: str, penalty: str, opened_at: _dt.datetime, kind: str) -> None:
        self.id, self.key, self.family, self.penalty, self.opened_at = id, key, family, penalty, opened_at
        self.kind = kind
        #: the pages the key's orders were made on while the task was live: pages not honoured
        self.not_honoured: set[str] = set()
        self.rectified_at: _dt.datetime | None = None
        self.appeals: list[_dt.datetime] = []


class Model:
    """The radar ledger's semantics in plain Python over a ladder spec, as RULES.md 7 and the README put them
    (not as ledger.py computes them):

    - scans are recorded in time order; the same scan again at its time changes nothing, after later ones too;
    - a finding opens a task for its key (merchant, listing, rule) unless one is live, or all its evidence is
      orders created by the key's last rectification (a quote already dealt with);
    - an order is evidence about the page it was made on, whenever it was created: against the listing only
      while the listing's page is still that page;
    - a scan that read the listing (its page, and the rule ran on it) rectifies a live task when it has no
      evidence against the page as it is: no finding on the listing, no order made on this page; and, for a
      task opened on orders, when the page is none of those the key's orders in the scans since it opened
      were made on (each a page not honoured; a page the ledger first sees already edited is an edited page);
    - the next offence of a merchant is one a later scan opens: every task opened by then counts.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.tasks: list[MTask] = []
        self.seen: set[tuple] = set()
        self.last: _dt.datetime | None = None

    # facts

    @staticmethod
    def content(obs: Observation) -> tuple:
        hits = sorted((h.key, h.evidence_kind, h.evidence_id or "", h.evidence_source, utc(h.evidence_at), h.path,
                       h.page) for h in obs.hits)
        return (utc(obs.as_of), tuple(sorted(obs.rules)), tuple(sorted(obs.products.items())),
                tuple(sorted(obs.unevaluated)), tuple(hits))

    def record(self, obs: Observation) -> tuple[bool, tuple[int, ...], set[int]] | None:
        """(already, opened, rectified), or None where the ledger must refuse (an earlier time)."""
        now = utc(obs.as_of)
        content = self.content(obs)
        if content in self.seen:  # the same scan again, after later ones too
            return True, (), set()
        if self.last is not None and now < self.last:
            return None
        self.seen.add(content)
        self.last = now
        live = {t.key: t for t in self.tasks if t.rectified_at is None}
        by_key: dict[tuple, list[Hit]] = {}
        for h in obs.hits:
            by_key.setdefault(h.key, []).append(h)
        opened = []
        for key, hits in by_key.items():
            task = live.get(key)
            if task is None:
                fixes = [t.rectified_at for t in self.tasks if t.key == key and t.rectified_at is not None]
                last_fix = max(fixes) if fixes else None
                fresh = [h for h in hits
                         if h.evidence_kind == "product" or last_fix is None or utc(h.evidence_at) > last_fix]
                if not fresh:
                    continue
                task = MTask(len(self.tasks) + 1, key, fresh[0].family, fresh[0].penalty, now, fresh[0].evidence_kind)
                self.tasks.append(task)
                opened.append(task.id)
            task.not_honoured |= {h.page for h in hits if h.evidence_kind == "order"}
        rectified = set()
        for key, task in live.items():
            now_page = obs.products.get(key[:2])
            if now_page is None or key[2] not in obs.rules or key in obs.unevaluated:
                continue  # the scan did not look
            against = [h for h in by_key.get(key, ()) if h.evidence_kind == "product" or h.page == now_page]
            if against or (task.kind == "order" and now_page in task.not_honoured):
                continue
            task.rectified_at = now
            rectified.add(task.id)
        return False, tuple(opened), rectified

    def appeal(self, task_id: int, reason: str, at: _dt.datetime) -> bool:
        at = utc(at)
        task = next((t for t in self.tasks if t.id == task_id), None)
        if not reason.strip() or task is None:
            return False
        cls = self.spec["classes"][task.penalty]
        if cls["appeals"] == 0 or len(task.appeals) >= cls["appeals"] or at < task.opened_at:
            return False
        if task.rectified_at is not None and task.rectified_at <= at:
            return False
        if at >= self.deadline(task):
            return False
        task.appeals.append(at)
        return True

    # what the facts come to, as of a time

    def deadline(self, task: MTask) -> _dt.datetime:
        return task.opened_at + self.spec["classes"][task.penalty]["rectify_days"] * DAY

    def earlier(self, merchant: str, penalty: str, opened_at: _dt.datetime) -> int:
        """The merchant's tasks of the class that count before one opened at `opened_at`."""
        window = self.spec["window_days"]
        return sum(1 for t in self.tasks if t.key[0] == merchant and t.penalty == penalty and t.opened_at < opened_at
                   and (window is None or t.opened_at > opened_at - window * DAY))

    def offence(self, merchant: str, penalty: str, opened_at: _dt.datetime) -> str:
        return REPEAT if self.earlier(merchant, penalty, opened_at) >= self.spec["count"] else FIRST

    def view(self, task: MTask, as_of: _dt.datetime) -> dict[str, Any]:
        cls = self.spec["classes"][task.penalty]
        deadline = self.deadline(task)
        fixed = task.rectified_at if task.rectified_at is not None and task.rectified_at <= as_of else None
        appeals = [a for a in task.appeals if a <= as_of]
        in_time = fixed is not None and fixed < deadline
        if in_time:
            status = "rectified"
        elif as_of >= deadline:
            status = "expired"
        elif appeals:
            status = "appealed"
        else:
            status = "open"
        offence = self.offence(task.key[0], task.penalty, task.opened_at)
        acts = cls[offence]
        removed = not in_time and any(a[0] in REMOVALS for a in acts)
        actions = []
        for name, days, until, points in acts:
            if name in REMOVALS:
                if not in_time:
                    actions.append((name, deadline, None, None, deadline <= as_of))
            elif until:
                actions.append((name, task.opened_at, fixed if in_time or not removed else deadline, None, True))
            elif days is not None:
                actions.append((name, task.opened_at, task.opened_at + days * DAY, None, True))
            else:
                actions.append((name, task.opened_at, None, points, True))
        return {
            "id": task.id, "key": task.key, "family": task.family, "penalty": task.penalty, "offence": offence,
            "offence_number": 1 + self.earlier(task.key[0], task.penalty, task.opened_at), "opened_at": task.opened_at, "deadline": deadline, "status": status, "rectified_at": fixed,
            "appeals": appeals, "actions": sorted(actions, key=repr),
        }

    def views(self, as_of: _dt.datetime, merchant: str | None = None) -> dict[int, dict[str, Any]]:
        return {t.id: self.view(t, as_of) for t in self.tasks
                if t.opened_at <= as_of and (merchant is None or t.key[0] == merchant)}

    def standing(self, as_of: _dt.datetime) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for view in self.views(as_of).values():
            s = out.setdefault(view["key"][0], {"points": 0, "store_until": None, "open": 0, "appealed": 0,
                                                "expired": 0, "rectified": 0})
            s[view["status"]] += 1
            for name, at, until, points, _ in view["actions"]:
                if name == "store-points":
                    s["points"] += points
                if name == "store-downrank" and at <= as_of < until:
                    s["store_until"] = until if s["store_until"] is None else max(s["store_until"], until)
        for merchant, s in out.items():
            # an offence a later scan opens, however soon: the tasks opened at `as_of` are before it
            s["next"] = {name: self.offence(merchant, name, as_of + _dt.timedelta(microseconds=1))
                         for name in self.spec["classes"]}
        return out


def ledger_view(task: Task) -> dict[str, Any]:
    return {
        "id": task.id, "key": (task.merchant_id, task.product_id, task.rule), "family": task.family,
        "penalty": task.penalty, "offence": task.offence, "offence_number": task.offence_number,
        "opened_at": utc(task.opened_at),
        "deadline": utc(task.deadline), "status": task.status,
        "rectified_at": None if task.rectified_at is None else utc(task.rectified_at),
        "appeals": None if task.appeal is None else utc(task.appeal.at),
        "actions": sorted((due_tuple(d) for d in task.actions), key=repr),
    }


def assert_agree(ledger: Ledger, ladder: Ladder, model: Model, as_of: _dt.datetime,
                 merchant: str | None = None) -> None:
    """The ledger's tasks as of `as_of` are the model's, field by field (and the standing of each merchant)."""
    got = {t.id: ledger_view(t) for t in ledger.tasks(ladder, as_of, merchant)}
    want = model.views(utc(as_of), merchant)
    assert sorted(got) == sorted(want), f"as of {as_of}: ledger tasks {sorted(got)}, model {sorted(want)}"
    for task_id, g in got.items():
        w = dict(want[task_id])
        appeals, shown = w.pop("appeals"), g.pop("appeals")
        # the task shows its first appeal (a ladder may allow several)
        assert (min(appeals) if appeals else None) == shown, (task_id, shown, appeals)
        assert g == w, f"as of {as_of}, task {task_id}:\nledger {g}\nmodel  {w}"
    if merchant is None:
        standing = {s.merchant_id: s for s in ledger.standing(ladder, as_of)}
        expected = model.standing(utc(as_of))
        assert sorted(standing) == sorted(expected)
        for m, s in standing.items():
            e = expected[m]
            got_s = {"points": s.points_deducted, "open": s.open_tasks, "appealed": s.appealed_tasks,
                     "expired": s.expired_tasks, "rectified": s.rectified_tasks,
                     "store_until": None if s.store_downranked_until is None else utc(s.store_downranked_until),
                     "next": {c: level for c, (level, _) in s.next_offence.items()}}
            assert got_s == e, f"as of {as_of}, merchant {m}:\nledger {got_s}\nmodel  {e}"


# -- 3. no task is appealed more often than its class allows ---------------------------------------------


@st.composite
def appeal_plans(draw: st.DrawFn) -> dict[str, Any]:
    spec = draw(st.one_of(st.just(BUNDLED_SPEC), ladder_specs(window=None, valid=False, max_days=30)))
    n = draw(st.integers(1, 4))
    tasks = []
    for i in range(n):
        penalty = draw(st.sampled_from(sorted(FAMILIES)))
        opened = MACHINE_START + draw(st.integers(0, 20 * 86400)) * SECOND
        fix = draw(fix_times(spec["classes"][penalty]["rectify_days"]))
        tasks.append((penalty, opened, fix))
    return {"spec": spec, "tasks": tasks}


@PROPERTY
@given(appeal_plans(), st.data())
def test_no_task_is_appealed_more_often_than_its_class_allows(plan: dict, data: st.DataObject) -> None:
    """Any appeal attempts, at any times, on any task ids (existing or not): the ledger records exactly
    those the ladder allows (a class with appeals, fewer than `appeals` so far, within [opened, deadline),
    before the task was found rectified, with a reason) and refuses the rest with AppealRefused, so no
    task ever has more than `appeals` appeals (a bundled publishing-anomaly task: once; fake-listing: never)."""
    spec, ladder = plan["spec"], ladder_of(plan["spec"])
    model = Model(spec)
    events = []  # (time, order, observation): openings and rectifications of each task, on its own listing
    for i, (penalty, opened, fix) in enumerate(plan["tasks"]):
        key = ("M-1", f"P-{i}", RULE_OF[penalty])
        events.append((opened, 0, observation(opened, [hit(key, "product", opened, penalty)])))
        if fix is not None:
            clean = observation(opened + fix, products={key[:2]: page(1)}, rules=[key[2]])
            events.append((opened + fix, 1, clean))
    with fresh_ledger() as ledger:
        for _, _, obs in sorted(events, key=lambda e: (e[0], e[1])):
            model.record(obs)
            ledger.record(obs, ladder)
        assert len(model.tasks) == len(plan["tasks"])
        moments = sorted({m for t in model.tasks for m in (
            t.opened_at - SECOND, t.opened_at, model.deadline(t) - SECOND, model.deadline(t),
            *(() if t.rectified_at is None else (t.rectified_at - SECOND, t.rectified_at)))})
        ids = [t.id for t in model.tasks]
        attempts = data.draw(st.lists(st.tuples(
            st.one_of(st.sampled_from(ids), st.integers(0, len(ids) + 1)),
            st.one_of(st.sampled_from(moments),
                      st.sampled_from(model.tasks).flatmap(lambda t: st.builds(  # within its period
                          lambda s: t.opened_at + s * SECOND,
                          st.integers(0, int((model.deadline(t) - t.opened_at).total_seconds()) - 1))),
                      st.builds(lambda s: MACHINE_START + s * SECOND, st.integers(-86400, 60 * 86400))),
            st.sampled_from(["the tier table is right", "the tier table is right", "  "]),
            st.integers(1, 3),  # the same attempt, once or again and again
        ), min_size=1, max_size=12), "attempts")
        for task_id, at, reason in [(i, at, reason) for i, at, reason, n in attempts for _ in range(n)]:
            allowed = model.appeal(task_id, reason, at)
            try:
                ledger.appeal(task_id, reason, at, ladder)
                accepted = True
            except AppealRefused:
                accepted = False
            assert accepted == allowed, (task_id, at, reason, accepted)
            event("appeal recorded" if accepted else "appeal refused")
        counts = dict(ledger.db.execute("SELECT task_id, count(*) FROM appeals GROUP BY task_id").fetchall())
        for task in model.tasks:
            limit = spec["classes"][task.penalty]["appeals"]
            assert counts.get(task.id, 0) == len(task.appeals) <= limit
        assert set(counts) <= {t.id for t in model.tasks}
        for as_of in (MACHINE_START + 60 * DAY, MACHINE_START + 10**4 * DAY):
            for task in ledger.tasks(ladder, as_of):
                mine = model.tasks[task.id - 1].appeals
                assert (task.appeal is None) == (not mine)
                if task.appeal is not None:  # the first one
                    assert utc(task.appeal.at) == min(mine) and task.appeal.reason == "the tier table is right"
        for as_of in moments:
            assert_agree(ledger, ladder, model, as_of)


def test_a_task_appealed_twice_shows_its_first_appeal() -> None:
    """Under a ladder that allows two appeals, the task shows the first, as of any time after it."""
    ladder = ladder_of(OTHER_SPEC)
    opened = MACHINE_START
    with fresh_ledger() as ledger:
        ledger.record(observation(opened, [hit(("M-1", "P-1", RULE_OF["publishing-anomaly"]), "product", opened)]),
                      ladder)
        ledger.appeal(1, "the tier table is right", opened + HOUR, ladder)
        ledger.appeal(1, "the tiers were checked again", opened + DAY, ladder)
        for as_of in (opened + HOUR, opened + DAY, opened + 2 * DAY):
            appeal = ledger.tasks(ladder, as_of)[0].appeal
            assert (opened + HOUR, "the tier table is right") == (utc(appeal.at), appeal.reason)


# -- 4. replaying the same scans gives the same ledger ---------------------------------------------------


@st.composite
def scan_histories(draw: st.DrawFn) -> list[Observation]:
    """Scans of the small universe at non-decreasing times (some at the same time), with product and order
    evidence (orders at or before the scan, made on the page as it is or an older one), listings looked at or
    not, changed pages, unevaluated keys."""
    at, out = START, []
    pages = {listing: 0 for listing in LISTINGS}
    for _ in range(draw(st.integers(1, 8))):
        at += draw(st.sampled_from([_dt.timedelta(0), SECOND, DAY, 13 * DAY, 14 * DAY, 15 * DAY, 40 * DAY]))
        for listing in draw(st.sets(st.sampled_from(LISTINGS))):
            pages[listing] += 1
        covered = set(draw(st.sets(st.sampled_from(LISTINGS))))
        hits = []
        for key, kind in draw(st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(["product", "order"])),
                                       max_size=5)):
            if kind == "product":
                covered.add(key[:2])
                hits.append(hit(key, kind, at))
            else:
                made_on = draw(st.one_of(st.just(pages[key[:2]]), st.integers(0, pages[key[:2]])))
                hits.append(hit(key, kind, at - draw(st.sampled_from([0, 1, 86400, 20 * 86400])) * SECOND,
                                made_on=made_on))
        products = {listing: page(pages[listing]) for listing in covered}
        rules = draw(st.sets(st.sampled_from(sorted(RULES)), min_size=1)) | {h.rule for h in hits}
        product_hits = {h.key for h in hits if h.evidence_kind == "product"}
        candidates = [k for k in KEYS if k[:2] in covered and k not in product_hits]
        unevaluated = draw(st.sets(st.sampled_from(candidates), max_size=2)) if candidates else set()
        out.append(observation(at, hits, products, rules, unevaluated))
    return out


def replay(ledger: Ledger, ladder: Ladder, history: Sequence[Observation], twice: bool = False) -> list:
    out = []
    for obs in history:
        out.append(ledger.record(obs, ladder))
        if twice:
            again = ledger.record(Observation(obs.as_of, obs.rules, dict(obs.products), obs.unevaluated,
                                              tuple(reversed(obs.hits))), ladder)
            assert again.already and again.scan is None and not again.opened and not again.rectified
    return out


def snapshot(ledger: Ledger, ladder: Ladder, history: Sequence[Observation]) -> Any:
    last = history[-1].as_of
    times = sorted({o.as_of for o in history} | {last + d for d in (13 * DAY, 14 * DAY, 400 * DAY)})
    return tables(ledger), [[t.to_dict() for t in ledger.tasks(ladder, at)] for at in times], \
        [[s.to_dict() for s in ledger.standing(ladder, at)] for at in times]


@PROPERTY
@given(scan_histories(), st.data())
def test_replaying_the_same_scans_gives_the_same_ledger(history: list[Observation], data: st.DataObject) -> None:
    """The same observations (and appeals) recorded into a fresh ledger give the same scans, tasks and
    appeals (all but the wall-clock recording times), the same tasks and standings as of any time, and
    the same answers; recording each observation twice in a row (its hits in another order: the same
    scan) changes nothing; and the model agrees with both."""
    ladder = BUNDLED
    appeal_at = [(data.draw(st.integers(1, 8)), data.draw(st.sampled_from([0, 3600, 13 * 86400]))) for _ in range(3)]

    def run(twice: bool) -> Any:
        with fresh_ledger() as ledger:
            results = replay(ledger, ladder, history, twice)
            answers = []
            for task_id, seconds in appeal_at:
                try:
                    answers.append(ledger.appeal(task_id, "fixed", history[-1].as_of + seconds * SECOND, ladder))
                except AppealRefused:
                    answers.append(None)
            # the last scan again: already recorded, nothing changes
            assert ledger.record(history[-1], ladder).already
            return [(r.scan, r.opened, r.rectified, r.already) for r in results], answers, snapshot(ledger, ladder,
                                                                                                    history)

    once = run(False)
    assert run(False) == once
    assert run(True) == once
    model = Model(BUNDLED_SPEC)
    for obs, (_, opened, rectified, already) in zip(history, once[0]):
        assert model.record(obs) == (already, opened, set(rectified))


@PROPERTY
@given(st.lists(st.tuples(st.integers(1, 20 * 86400), st.integers(0, 20 * 86400)), min_size=1, max_size=4),
       st.sampled_from(["fake-price/page-price", "tier-anomaly/bait-tier"]), st.data())
def test_an_order_already_dealt_with_never_opens_a_task_again(cycles: list, rule: str, data: st.DataObject) -> None:
    """A listing's task opened (on the listing) and found rectified, again and again; then a scan that has
    only an order or quote about it: a new task opens exactly when the order was created after the key's
    latest rectification (one created before it, even after an earlier one, was already dealt with)."""
    key = ("M-1", "P-1", rule)
    at, fixes = START, []
    with fresh_ledger() as ledger:
        for gap, fix in cycles:
            at += gap * SECOND
            assert ledger.record(observation(at, [hit(key, "product", at)]), BUNDLED).opened
            at += fix * SECOND
            assert ledger.record(observation(at, products={key[:2]: page(len(fixes))}), BUNDLED).rectified
            fixes.append(at)
        created = data.draw(st.sampled_from(sorted({f + d for f in fixes for d in (-SECOND, 0 * SECOND, SECOND)})),
                            "order created at")
        scan = observation(at + data.draw(st.integers(1, 86400)) * SECOND, [hit(key, "order", created)], products={})
        assert bool(ledger.record(scan, BUNDLED).opened) == (created > fixes[-1]), (fixes, created)


# -- 5. the ledger and the model, step by step -------------------------------------------------------------

class RadarMachine(RuleBasedStateMachine):
    """Scans (with findings on the listing or on orders, listings looked at or not, rules that ran or not,
    unevaluated keys, pages edited or not, the same scan again, a scan from the past), appeals (any task
    id, now or earlier, in UTC or platform time) and clock moves (to a deadline, a second either side, into
    the repeated hour) against a fresh SQLite ledger and the model. What each scan and appeal does must
    agree, and after every step, as of the clock, every task (id, key, class, offence and its number,
    opening, deadline, status, rectification, appeal, actions with their times, points and `due`) and
    every merchant's standing; `look_back` compares them as of an earlier time too."""

    SPEC: dict[str, Any] = BUNDLED_SPEC
    LADDER: Ladder = BUNDLED

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="radar-machine-")
        self.ledger = Ledger(os.path.join(self.folder, "radar.db"))
        self.model = Model(self.SPEC)
        self.clock = MACHINE_START
        self.pages = {listing: 0 for listing in LISTINGS}
        self.recorded: list[Observation] = []

    def teardown(self) -> None:
        self.teardown_events()
        self.ledger.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # the clock

    @rule(step=st.one_of(st.just(0), st.sampled_from([1, 3600, 86400, 13 * 86400, 14 * 86400]),
                         st.integers(1, 3 * 86400), st.integers(1, 30 * 86400)))
    def advance(self, step: int) -> None:
        self.clock += step * SECOND

    @precondition(lambda self: self.model.tasks)
    @rule(data=st.data(), off=st.sampled_from([-1, 0, 1]))
    def to_a_deadline(self, data: st.DataObject, off: int) -> None:
        task = data.draw(st.sampled_from(self.model.tasks), "task")
        target = self.model.deadline(task) + off * SECOND
        self.clock = max(self.clock, target)

    @precondition(lambda self: self.clock < REPEATED_HOUR + 2 * HOUR)
    @rule(seconds=st.integers(0, 2 * 3600 - 1))
    def into_the_repeated_hour(self, seconds: int) -> None:
        """To a time in the hour platform time repeats (01:xx PDT, then 01:xx PST)."""
        self.clock = max(self.clock, REPEATED_HOUR + seconds * SECOND)

    # the listings

    @rule(listing=st.sampled_from(LISTINGS))
    def edit_listing(self, listing: tuple[str, str]) -> None:
        self.pages[listing] += 1

    # scans

    def evidence_time(self, data: st.DataObject, key: tuple) -> _dt.datetime:
        near = [self.clock, self.clock - SECOND, MACHINE_START - DAY]
        for t in self.model.tasks:
            if t.key == key:
                near += [t.opened_at - SECOND, t.opened_at, t.opened_at + SECOND]
                if t.rectified_at is not None:
                    near += [t.rectified_at - SECOND, t.rectified_at, t.rectified_at + SECOND]
        return data.draw(st.one_of(
            st.sampled_from(sorted(t for t in near if t <= self.clock)),
            st.builds(lambda s: self.clock - s * SECOND, st.integers(0, 40 * 86400)),
        ), "order created_at")

    def record(self, obs: Observation) -> None:
        if REPEATED_HOUR <= utc(obs.as_of) < REPEATED_HOUR + 2 * HOUR:
            event("a scan in the repeated hour")
        expected = self.model.record(obs)
        try:
            got = self.ledger.record(obs, self.LADDER)
        except LedgerError as e:
            assert expected is None, f"the ledger refused {obs.as_of}: {e}"
            return
        assert expected is not None, f"the ledger recorded a scan as of {obs.as_of} after one as of {self.model.last}"
        already, opened, rectified = expected
        assert (got.already, got.opened, set(got.rectified)) == (already, opened, rectified)
        assert (got.scan is None) == already
        if any(self.model.tasks[i - 1].kind == "order" for i in rectified):
            event("a task opened on an order is rectified")
        event("scan: already recorded" if already
              else f"scan: opened {min(len(opened), 3)}, rectified {min(len(rectified), 3)}")
        if not already:
            self.recorded.append(obs)

    def draw_scan(self, data: st.DataObject, max_hits: int, at: _dt.datetime) -> Observation:
        mostly = st.sampled_from([True, True, True, False])
        looked = data.draw(st.lists(st.booleans(), min_size=len(LISTINGS), max_size=len(LISTINGS)),
                           "listings looked at")
        covered = {listing for listing, yes in zip(LISTINGS, looked) if yes}
        hits = []
        for key, kind in data.draw(st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(["product", "order"])),
                                            max_size=max_hits), "findings"):
            if kind == "product":
                covered.add(key[:2])
                hits.append(hit(key, kind, at))
            else:
                current = self.pages[key[:2]]
                made_on = data.draw(st.one_of(st.just(current), st.integers(0, current)), "made on page")
                hits.append(hit(key, kind, min(self.evidence_time(data, key), at), made_on=made_on))
        ran = data.draw(st.lists(mostly, min_size=len(RULES) + 1, max_size=len(RULES) + 1), "rules that ran")
        rules = {rule for rule, yes in zip([*sorted(RULES), "epr/missing-registration"], ran) if yes}
        rules |= {h.rule for h in hits}
        product_hits = {h.key for h in hits if h.evidence_kind == "product"}
        candidates = [k for k in KEYS if k[:2] in covered and k not in product_hits]
        unevaluated = (data.draw(st.sets(st.sampled_from(candidates), max_size=3), "unevaluated")
                       if candidates else set())
        products = {listing: page(self.pages[listing]) for listing in covered}
        obs = observation(at, hits, products, rules, unevaluated)
        if data.draw(st.booleans(), "as of in platform time"):  # as `compliance scan --as-of` gives it
            obs = attrs.evolve(obs, as_of=at.astimezone(PLATFORM_TZ))
        return obs

    @rule(data=st.data())
    def scan_with_findings(self, data: st.DataObject) -> None:
        self.record(self.draw_scan(data, 6, self.clock))

    @rule(data=st.data())
    def scan_without_findings(self, data: st.DataObject) -> None:
        self.record(self.draw_scan(data, 0, self.clock))

    @precondition(lambda self: self.recorded)
    @rule(shuffle=st.booleans())
    def the_last_scan_again(self, shuffle: bool) -> None:
        obs = self.recorded[-1]
        hits = tuple(reversed(obs.hits)) if shuffle else obs.hits
        self.record(Observation(obs.as_of, obs.rules, dict(obs.products), obs.unevaluated, hits))

    @precondition(lambda self: self.recorded)
    @rule(data=st.data())
    def an_earlier_scan_again(self, data: st.DataObject) -> None:
        """An audit replays an old export at its time, after later scans: nothing changes."""
        self.record(data.draw(st.sampled_from(self.recorded), "an earlier scan"))

    @precondition(lambda self: self.model.last is not None)
    @rule(data=st.data(), back=st.integers(1, 5 * 86400))
    def a_scan_from_the_past(self, data: st.DataObject, back: int) -> None:
        self.record(self.draw_scan(data, 2, self.model.last - back * SECOND))

    # appeals

    @rule(data=st.data(), reason=st.sampled_from(["the tier table is right", " "]))
    def appeal(self, data: st.DataObject, reason: str) -> None:
        ids = [t.id for t in self.model.tasks]
        task_id = data.draw(st.one_of(st.sampled_from(ids), st.integers(0, len(ids) + 1)) if ids
                            else st.integers(0, 1), "task id")
        at = data.draw(st.one_of(st.just(self.clock), st.builds(lambda s: self.clock - s * SECOND,
                                                                st.integers(0, 20 * 86400))), "at")
        self.try_appeal(task_id, reason, at.astimezone(PLATFORM_TZ) if data.draw(st.booleans(), "local") else at)

    @rule(data=st.data())
    def appeal_a_task_in_its_period(self, data: st.DataObject) -> None:
        """Most random appeals are refused: also appeal, now, tasks still in their rectification period."""
        live = [t.id for t in self.model.tasks if t.rectified_at is None and self.model.deadline(t) > self.clock]
        if live:
            self.try_appeal(data.draw(st.sampled_from(live), "task id"), "the tier table is right", self.clock)

    def try_appeal(self, task_id: int, reason: str, at: _dt.datetime) -> None:
        allowed = self.model.appeal(task_id, reason, at)
        try:
            done = self.ledger.appeal(task_id, reason, at, self.LADDER)
        except AppealRefused as e:
            assert not allowed, f"the ledger refused an appeal of task {task_id} at {at}: {e}"
            event("appeal refused")
            return
        event("appeal recorded")
        assert allowed, f"the ledger accepted an appeal of task {task_id} at {at}"
        # in UTC: Python never finds a time of the repeated hour equal to one of another time zone
        assert (done.task, utc(done.at), done.reason) == (task_id, utc(at), reason.strip())

    # views

    @precondition(lambda self: self.clock > MACHINE_START)
    @rule(data=st.data(), merchant=st.sampled_from([None, *MERCHANTS]))
    def look_back(self, data: st.DataObject, merchant: str | None) -> None:
        seconds = int((self.clock - MACHINE_START).total_seconds())
        at = MACHINE_START + data.draw(st.integers(0, seconds), "as of") * SECOND
        assert_agree(self.ledger, self.LADDER, self.model, at.astimezone(PLATFORM_TZ), merchant)

    @invariant()
    def agree_as_of_the_clock(self) -> None:
        assert_agree(self.ledger, self.LADDER, self.model, self.clock)

    def teardown_events(self) -> None:
        """What the run reached (pytest --hypothesis-show-statistics)."""
        event(f"a run ends with {len(self.model.tasks) // 5 * 5}+ tasks")
        event(f"a run ends with {sum(len(t.appeals) for t in self.model.tasks)} appeals")
        views = self.model.views(self.clock).values()
        for status in sorted({v["status"] for v in views}):
            event(f"a run ends with a task {status}")
        if any(v["offence"] == REPEAT for v in views):
            event("a run ends with a repeat")
        if any(v["status"] == "rectified" and self.model.tasks[v["id"] - 1].kind == "order" for v in views):
            event("a run ends with an order task rectified")


MACHINE = settings(max_examples=100, stateful_step_count=50, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestTheLedgerAgreesWithTheModel = RadarMachine.TestCase
TestTheLedgerAgreesWithTheModel.settings = MACHINE

#: another ladder: a repeat only after two earlier tasks in 60 days, 3 days to rectify, fake-listing
#: tasks appealable once, publishing-anomaly ones twice, down-ranking that outlasts the deadline
OTHER_SPEC: dict[str, Any] = {
    "count": 2,
    "window_days": 60,
    "classes": {
        "fake-listing": {
            "rectify_days": 3, "appeals": 1,
            "first": [("product-downrank", 5, False, None), ("product-delete", None, False, None)],
            "repeat": [("store-points", None, False, 12), ("product-downrank", 9, False, None),
                       ("product-delete", None, False, None)],
        },
        "publishing-anomaly": {
            "rectify_days": 3, "appeals": 2,
            "first": [("product-downrank", None, True, None)],
            "repeat": [("product-downrank", None, True, None), ("product-delist", None, False, None),
                       ("store-downrank", 2, False, None), ("store-points", None, False, 3)],
        },
    },
}


class OtherLadderMachine(RadarMachine):
    SPEC = OTHER_SPEC
    LADDER = ladder_of(OTHER_SPEC)


TestTheLedgerAgreesWithTheModelUnderAnotherLadder = OtherLadderMachine.TestCase
TestTheLedgerAgreesWithTheModelUnderAnotherLadder.settings = settings(MACHINE, max_examples=50)


# -- the hour a daylight-saving change repeats -------------------------------------------------------------
# (regression tests: the radar once compared platform-time datetimes by wall clock, which ignores `fold`)

#: 2022-11-06 in platform time: 01:00-01:59 happens twice, first PDT (08:00-08:59 UTC), then PST (09:00-09:59 UTC)
PDT_0145 = _dt.datetime(2022, 11, 6, 8, 45, tzinfo=UTC)  # 01:45 PDT
PST_0110 = _dt.datetime(2022, 11, 6, 9, 10, tzinfo=UTC)  # 01:10 PST, 25 minutes later


def local(hour: int, minute: int, fold: int) -> _dt.datetime:
    """A platform time on 2022-11-06 as a person gives it (fold=0: the first, PDT, 01:xx; fold=1: the PST one)."""
    return _dt.datetime(2022, 11, 6, hour, minute, fold=fold, tzinfo=PLATFORM_TZ)


def test_an_offence_in_the_repeated_hour_counts_the_one_25_minutes_before_it() -> None:
    """Two fake-listing tasks of one merchant, opened at 01:45 PDT and 25 minutes later at 01:10 PST: the
    second is a repeat (by wall clock 01:10 is before 01:45)."""
    assert utc(local(1, 45, 0)) == PDT_0145 and utc(local(1, 10, 1)) == PST_0110
    with fresh_ledger() as ledger:
        for i, at in enumerate((local(1, 45, 0), local(1, 10, 1))):
            ledger.record(observation(at, [hit(("M-1", f"P-{i}", "fake-price/page-price"), "product", at)]), BUNDLED)
        tasks = ledger.tasks(BUNDLED, local(1, 20, 1))
        assert [t.offence for t in tasks] == [FIRST, REPEAT]
        assert [utc(t.opened_at) for t in tasks] == [PDT_0145, PST_0110]
        assert [t.offence for t in ledger.tasks(BUNDLED, local(1, 50, 0))] == [FIRST]  # 08:50 UTC: one task yet


#: opened 14 days before 01:50 PDT and 01:30 PST on 2022-11-06 (in this order: 08:50 and 09:30 UTC)
DEADLINE_0150_PDT = PDT_0145 + 5 * 60 * SECOND
DEADLINE_0130_PST = PST_0110 + 20 * 60 * SECOND


def two_tasks_due_in_the_repeated_hour(ledger: Ledger, rule: str) -> None:
    for i, deadline in enumerate((DEADLINE_0150_PDT, DEADLINE_0130_PST)):
        at = deadline - 14 * DAY
        ledger.record(observation(at, [hit(("M-1", f"P-{i}", rule), "product", at)]), BUNDLED)


def test_a_rectification_45_minutes_before_a_deadline_in_the_repeated_hour_is_in_time() -> None:
    """A task whose deadline is 01:30 PST on 2022-11-06, found rectified at 01:45 PDT (45 minutes before):
    rectified in time, no deletion; another whose deadline is 01:50 PDT, found rectified at 01:10 PST (20
    minutes after): expired, deleted at its deadline."""
    with fresh_ledger() as ledger:
        two_tasks_due_in_the_repeated_hour(ledger, "fake-price/page-price")
        # as of 01:35 PDT, before both deadlines and both rectifications, both are open
        assert [t.status for t in ledger.tasks(BUNDLED, local(1, 35, 0))] == ["open", "open"]
        assert ledger.record(observation(local(1, 45, 0), products={("M-1", "P-1"): page(1)}), BUNDLED).rectified
        assert ledger.record(observation(local(1, 10, 1), products={("M-1", "P-0"): page(1)}), BUNDLED).rectified
        expired, fixed = ledger.tasks(BUNDLED, local(1, 40, 1))
        assert (utc(expired.deadline), utc(fixed.deadline)) == (DEADLINE_0150_PDT, DEADLINE_0130_PST)
        assert fixed.status == "rectified" and "product-delete" not in [d.action for d in fixed.actions]
        assert expired.status == "expired"
        assert [(d.action, utc(d.at), d.due) for d in expired.actions if d.action == "product-delete"] == [
            ("product-delete", DEADLINE_0150_PDT, True)]


def test_an_appeal_in_the_repeated_hour_is_judged_by_absolute_time() -> None:
    """Publishing-anomaly tasks with deadlines at 01:50 PDT and 01:30 PST: an appeal at 01:10 PST is too late
    for the first (20 minutes after its deadline); one at 01:45 PDT is in time for the second (45 minutes
    before its deadline)."""
    with fresh_ledger() as ledger:
        two_tasks_due_in_the_repeated_hour(ledger, "tier-anomaly/bait-tier")
        with pytest.raises(AppealRefused):
            ledger.appeal(1, "the tier table is right", local(1, 10, 1), BUNDLED)
        assert utc(ledger.appeal(2, "the tier table is right", local(1, 45, 0), BUNDLED).at) == PDT_0145
        assert [t.status for t in ledger.tasks(BUNDLED, local(1, 46, 0))] == ["open", "appealed"]
        assert [t.status for t in ledger.tasks(BUNDLED, local(1, 20, 1))] == ["expired", "appealed"]
        assert [t.status for t in ledger.tasks(BUNDLED, local(1, 40, 1))] == ["expired", "expired"]
