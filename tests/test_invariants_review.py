"""`compliance verify`'s platform invariants cannot be defeated by what a CI scan or the platform
ignores (review): a rule kept but lowered below the default --fail-on ("error"), or a rule that stops
applying after a date (effective_until) or starts late (effective_from). A case is rejected when a scan
as CI runs it fails on it, and is judged from when the platform's rule applies (2022-12-01, RULES.md
6.4) to years ahead: the platform's rules do not expire."""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import checker
from checker.invariants import (
    check_invariants, order_case, platform, promotion_case, promotion_cases, scan_case, verdict,
)
from checker.values import PLATFORM_TZ

from .conftest import ROOT, compliance, write_jsonl

SPEC = platform()

#: the reviewer's scan: a Gold merchant's 9.8折 member price for L2+ buyers, on an RTS listing, 4 months from
#: 2022-12-01 (RULES.md 6.3: 9.5折 at most)
P98 = [
    {"kind": "merchant", "id": "M-1", "gold": True, "star_level": 1, "primary_industry": "home-goods"},
    {"kind": "product", "id": "P-98", "merchant_id": "M-1", "listing_type": "rts", "moq": 2,
     "created_at": "2022-10-15", "price": {"mode": "range", "range": {"min": "6.00", "max": "9.00"}},
     "promotions": [{"id": "PR-1", "type": "member-price", "audience": "L2+", "discount": "9.8",
                     "start": "2022-12-01", "end": "2023-04-01"}]},
]


def bundled_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", pack)
    return pack


def edit_rule(pack: Path, file: str, rule_id: str, *changes: tuple[str, str]) -> None:
    """Replace text in one rule of pack/file (from its id to the next [[rule]]), each change where it occurs."""
    policy = pack / file
    text = policy.read_text("utf-8")
    rule = text.split(f'id = "{rule_id}"', 1)[1].split("[[rule]]", 1)[0]
    edited = rule
    for old, new in changes:
        assert old in edited, (rule_id, old)
        edited = edited.replace(old, new)
    policy.write_text(text.replace(rule, edited), "utf-8")


def severity(level: str) -> tuple[str, str]:
    return 'severity = "error"', f'severity = "{level}"'


def limited(field: str, when: str) -> tuple[str, str]:
    """The rule applies only from or until `when`; its examples are judged on 2022-12-28, when it applies,
    so they all still hold (the reviewer's packuntil/)."""
    return '\nkind = "', f'\n{field} = {when}\nkind = "'


AS_OF_EXAMPLES = ("[[rule.example]]\n", "[[rule.example]]\nas_of = 2022-12-28T12:00:00\n")


def invariants_of(pack: Path) -> dict[str, Any]:
    compiled = checker.load_policies([pack], bundled=False)
    return {inv.name: violation for inv, violation in check_invariants(compiled)}


def failures(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("FAIL")]


# -- the reviewer's two packs, end to end ------------------------------------------------------------


def test_a_pack_that_lowers_the_discount_range_to_advice_fails_verify(tmp_path: Path) -> None:
    """packadv/: discount-range kept, but as "advice": a scan of a 9.8折 member price exits 0 (the bundled
    pack exits 1), so verify must fail, saying the finding is below what fails a scan."""
    pack = bundled_pack(tmp_path)
    edit_rule(pack, "discount-floor.toml", "discount-floor/discount-range", severity("advice"))
    p98 = write_jsonl(tmp_path / "p98.jsonl", P98)
    scan = compliance("scan", str(p98), "--as-of", "2022-12-28", "--no-bundled", "--policies", str(pack))
    assert 0 == scan.returncode
    assert 1 == compliance("scan", str(p98), "--as-of", "2022-12-28").returncode

    result = compliance("verify", "--quiet", "--no-bundled", "--policies", str(pack))
    assert 1 == result.returncode, result.stdout
    assert [(
        "FAIL invariant discount-floor/promotions: the pack accepted a member-price promotion with discount=0, "
        "start=2022-12-01T00:00:00-08:00, end=2023-04-01T00:00:00-07:00, gold=True, audience=L2+, rts=True, "
        "country_pricing=False, as of 2022-12-01T00:00:00-08:00: its discount-floor finding "
        "(discount-floor/discount-range) is of severity advice, and only error fails a scan (--fail-on error, "
        "the default)"
    )] == failures(result.stdout)
    assert "3 of 4 platform invariants hold" in result.stdout


def test_a_pack_whose_discount_range_ends_on_2023_01_01_fails_verify(tmp_path: Path) -> None:
    """packuntil/: discount-range has effective_until = 2023-01-01 (its examples judged on 2022-12-28, so
    they hold): a scan as of now finds nothing on a 9.8折 member price, so verify must fail, at a time after."""
    pack = bundled_pack(tmp_path)
    edit_rule(pack, "discount-floor.toml", "discount-floor/discount-range", limited("effective_until", "2023-01-01"),
              AS_OF_EXAMPLES)
    p98 = write_jsonl(tmp_path / "p98.jsonl", P98)
    scan = compliance("scan", str(p98), "--format", "json", "--no-bundled", "--policies", str(pack))
    assert (0, []) == (scan.returncode, json.loads(scan.stdout)["findings"])

    result = compliance("verify", "--quiet", "--no-bundled", "--policies", str(pack))
    assert 1 == result.returncode, result.stdout
    [line] = failures(result.stdout)
    assert line.startswith("FAIL invariant discount-floor/promotions: the pack accepted a member-price promotion "
                           "with discount=0, start=2022-12-01T00:00:00-08:00, ")
    shown = re.search(r", as of (\S+): ", line)
    assert shown is not None, line
    when = _dt.datetime.fromisoformat(shown[1])
    assert when.date() >= _dt.date.today() - _dt.timedelta(days=1)  # judged today: the rule has ended
    assert line.endswith(": no discount-floor finding; discount-floor/discount-range applies only until "
                         "2023-01-01T00:00:00-08:00, but the platform's rules do not expire")


def test_the_bundled_pack_passes_verify() -> None:
    result = compliance("verify", "--quiet")
    assert 0 == result.returncode, result.stdout
    assert "all 4 platform invariants hold" in result.stdout


# -- severity: "rejected" is what fails a scan by default -----------------------------------------------


PROMOTIONS, ORDERS = "discount-floor/promotions", "discount-floor/member-orders"


@pytest.mark.parametrize("rule_id, invariant, level", [
    ("discount-floor/gold-merchants-only", PROMOTIONS, "advice"),
    ("discount-floor/audience-l2-plus", PROMOTIONS, "advice"),
    ("discount-floor/discount-range", PROMOTIONS, "advice"),
    ("discount-floor/discount-range", PROMOTIONS, "warning"),
    ("discount-floor/duration", PROMOTIONS, "advice"),
    ("discount-floor/start-date", PROMOTIONS, "advice"),
    ("discount-floor/rts-listings-only", PROMOTIONS, "advice"),
    ("discount-floor/no-country-pricing", PROMOTIONS, "advice"),
    ("discount-floor/buyer-level", ORDERS, "warning"),
    ("discount-floor/member-price-floor", ORDERS, "advice"),
])
def test_a_discount_floor_rule_lowered_below_error_breaks_its_invariant(
    tmp_path: Path, rule_id: str, invariant: str, level: str
) -> None:
    """Every discount-floor rule is an error (the platform refuses the setup or the trade, RULES.md 6): one
    lowered to warning or advice no longer fails a CI scan (--fail-on error), so the promise is broken."""
    pack = bundled_pack(tmp_path)
    edit_rule(pack, "discount-floor.toml", rule_id, severity(level))
    found = invariants_of(pack)
    assert found[invariant] is not None
    assert f"({rule_id}) is of severity {level}, and only error fails a scan" in found[invariant].counterexample
    assert [invariant] == [name for name, v in found.items() if v is not None]


def test_a_rule_added_at_advice_does_not_reject_what_the_platform_allows(tmp_path: Path) -> None:
    """The other direction: a team's own advice on every member price fails no scan, so it rejects nothing
    and verify passes; the same rule as an error rejects allowed promotions and fails, naming the rule."""
    pack = bundled_pack(tmp_path)
    advice = (
        '\n[[rule]]\nid = "discount-floor/team-note"\nfamily = "discount-floor"\nseverity = "advice"\n'
        'penalty = "none"\nkind = "product"\nsource = "team"\ntitle = { en = "Note", zh = "提示" }\n'
        'description.en = "Every member price."\ndescription.zh = "所有会员价。"\n'
        "when = 'any(p.type == \"member-price\" for p in promotions)'\nrequire = 'false'\npath = \"/promotions\"\n"
        'message.en = "Has a member price."\nmessage.zh = "有会员价。"\n'
        'remedy.en = "None."\nremedy.zh = "无。"\n'
        '[[rule.example]]\nname = "a member price"\nexpect = "fail"\npaths = ["/promotions"]\n'
        '[[rule.example]]\nname = "none"\nexpect = "pass"\npatch.promotions = []\n'
    )
    policy = pack / "discount-floor.toml"
    text = policy.read_text("utf-8")
    policy.write_text(text + advice, "utf-8")
    assert checker.verify(checker.load_policies([pack], bundled=False)) == []
    policy.write_text(text + advice.replace('severity = "advice"', 'severity = "error"'), "utf-8")
    found = invariants_of(pack)
    assert found["discount-floor/promotions"].counterexample.startswith(
        "the pack rejected a member-price promotion with discount=1, ")
    assert found["discount-floor/promotions"].counterexample.endswith(": rejected by discount-floor/team-note")


def test_the_rejecting_severity_is_the_default_of_fail_on() -> None:
    """platform.toml's rejecting severity is what `compliance scan` and Report.exit_code fail on by default."""
    from checker.cli import scan
    from checker.model import Report

    default = next(p.default for p in scan.params if p.name == "fail_on")
    assert SPEC["judged"]["rejected_severity"] == default == "error"
    assert inspect.signature(Report.exit_code).parameters["fail_on"].default == default


# -- time: judged from when the rule applies to years ahead -----------------------------------------------


@pytest.mark.parametrize("rule_id, invariant, field, when", [
    # the reviewer's: over before today
    ("discount-floor/discount-range", PROMOTIONS, "effective_until", "2023-01-01"),
    ("discount-floor/gold-merchants-only", PROMOTIONS, "effective_until", "2023-01-01"),
    ("discount-floor/buyer-level", ORDERS, "effective_until", "2023-01-01"),
    ("discount-floor/member-price-floor", ORDERS, "effective_until", "2023-01-01"),
    # still on today, over within ten years
    ("discount-floor/discount-range", PROMOTIONS, "effective_until", "2031-01-01"),
    ("discount-floor/member-price-floor", ORDERS, "effective_until", "2031-01-01"),
    # a second too late: member prices start at 2022-12-01 00:00 platform time
    ("discount-floor/discount-range", PROMOTIONS, "effective_from", "2022-12-01T00:00:01"),
    ("discount-floor/member-price-floor", ORDERS, "effective_from", "2022-12-01T00:00:01"),
    # after the old fixed judging day, 2022-12-28
    ("discount-floor/discount-range", PROMOTIONS, "effective_from", "2022-12-29"),
    ("discount-floor/buyer-level", ORDERS, "effective_from", "2022-12-29"),
])
def test_a_discount_floor_rule_limited_in_time_breaks_its_invariant(
    tmp_path: Path, rule_id: str, invariant: str, field: str, when: str
) -> None:
    pack = bundled_pack(tmp_path)
    edit_rule(pack, "discount-floor.toml", rule_id, limited(field, when), AS_OF_EXAMPLES)
    if field == "effective_from" and when == "2022-12-29":  # its examples are judged after it starts
        edit_rule(pack, "discount-floor.toml", rule_id, ("as_of = 2022-12-28T12:00:00", "as_of = 2022-12-30"))
    found = invariants_of(pack)
    assert [invariant] == [name for name, v in found.items() if v is not None]
    assert " as of " in found[invariant].counterexample or " created at " in found[invariant].counterexample


def test_rules_that_start_with_member_prices_keep_the_invariants(tmp_path: Path) -> None:
    """effective_from = 2022-12-01 (00:00 platform time, when member prices start, RULES.md 6.4) on every
    discount-floor rule changes nothing the platform promises: verify still passes."""
    pack = bundled_pack(tmp_path)
    policy = pack / "discount-floor.toml"
    text = policy.read_text("utf-8")
    start = 'family = "discount-floor"\neffective_from = 2022-12-01\n'
    policy.write_text(text.replace('family = "discount-floor"\n', start), "utf-8")
    assert checker.verify(checker.load_policies([pack], bundled=False)) == []


def test_cases_are_judged_from_the_platform_start_to_years_ahead() -> None:
    """The times each case is judged at: the start of member prices, the case's own date, today, ten years on."""
    from checker.invariants import judging_times

    start = _dt.datetime(2022, 12, 1, tzinfo=PLATFORM_TZ)
    own = _dt.datetime(2022, 12, 28, tzinfo=PLATFORM_TZ)
    before = _dt.datetime.now(PLATFORM_TZ)
    times = judging_times(SPEC, start, own)
    assert times[:2] == [start, own]
    assert before - _dt.timedelta(seconds=1) <= times[2] <= _dt.datetime.now(PLATFORM_TZ)
    assert times[3].year == times[2].year + SPEC["judged"]["years_ahead"] and len(times) == 4
    # a case dated before the platform's start is judged from the start on, not before it
    assert judging_times(SPEC, start, start - _dt.timedelta(seconds=1))[0] == start
    assert len(judging_times(SPEC, start, start)) == 3


def test_the_sweep_scans_a_case_as_checker_check_does() -> None:
    """scan_case skips checker.check's copy of the documents (for speed): the same verdicts and findings."""
    pack = checker.load_policies()
    when = _dt.datetime(2022, 12, 1, tzinfo=PLATFORM_TZ)
    cases = [promotion_case(**c) for c in promotion_cases(SPEC)][::37]
    cases += [order_case(level=level, unit_price=Decimal(price), discount=Decimal("9.5"), created_at=when)
              for level in ("L1", "L2") for price in ("0.59", "0.60", "5.71")]
    for documents in cases:
        fast, slow = scan_case(pack, documents, when), checker.check(documents, as_of=when, policies=pack)
        assert (fast.findings, fast.errors, fast.not_evaluated) == (slow.findings, slow.errors, slow.not_evaluated)
        families = ("discount-floor", "fake-price")
        assert verdict(fast, families, SPEC) == verdict(slow, families, SPEC)
    assert any(verdict(scan_case(pack, d, when), ("fake-price",), SPEC).rejected for d in cases)  # 5.71 > 5.70
