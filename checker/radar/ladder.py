"""The penalty ladder (policies/penalties.toml, RULES.md 7), and what it makes of a radar task.

The ladder is data: classes of penalty, the families they cover, how long a
task may stay unrectified, how often it may be appealed, and the actions of
a first and of a repeat offence. Everything the radar shows about a task
(its offence number, deadline, status, actions) is computed here from the
facts the ledger keeps (opened, rectified, appealed, at what times) and the
ladder as loaded, as of a time: nothing is stored by hand.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Iterable, Sequence

import attrs

from ..policy.files import LADDER_FILE, pack_meta_files
from ..policy.model import PolicyError, Text

#: actions of the ladder, in the order the radar lists them
ACTIONS = ("product-downrank", "product-delete", "product-delist", "store-points", "store-downrank")
#: actions that take the product off the market at the deadline
REMOVALS = ("product-delete", "product-delist")
#: offence levels
FIRST, REPEAT = "first", "repeat"
#: task statuses (SNAPSHOTS-style names used by `compliance radar --format json`)
OPEN, APPEALED, RECTIFIED, EXPIRED = "open", "appealed", "rectified", "expired"


@attrs.frozen
class Action:
    """One action of an offence: `days` long, or until the task is rectified, or `points` deducted."""

    action: str
    days: int | None = None
    until_rectified: bool = False
    points: int | None = None

    def covers(self, other: Action) -> bool:
        """At least as heavy as `other`: the same action, as long or as many points."""
        if self.action != other.action:
            return False
        if other.until_rectified or self.until_rectified:
            return self.until_rectified == other.until_rectified
        return (self.days or 0) >= (other.days or 0) and (self.points or 0) >= (other.points or 0)

    def describe(self) -> str:
        if self.points is not None:
            return f"{self.action} -{self.points}"
        if self.days is not None:
            return f"{self.action} {self.days} days"
        if self.until_rectified:
            return f"{self.action} until rectified"
        return f"{self.action} at the deadline unless rectified"


@attrs.frozen
class PenaltyClass:
    name: str
    title: Text
    families: tuple[str, ...]
    rectify_days: int
    appeals: int
    first: tuple[Action, ...]
    repeat: tuple[Action, ...]

    def actions(self, offence: str) -> tuple[Action, ...]:
        return self.repeat if offence == REPEAT else self.first

    def deadline(self, opened_at: _dt.datetime) -> _dt.datetime:
        """`rectify_days` x 24 hours after the opening, to the second (absolute time: a daylight-saving
        change in platform time does not move it). In UTC, like every time the radar compares."""
        return _utc(opened_at) + _dt.timedelta(days=self.rectify_days)


def heavier_or_equal(heavier: Sequence[Action], lighter: Sequence[Action]) -> Action | None:
    """None when `heavier` has everything `lighter` has, at least as long or as much; else the first
    action of `lighter` it lacks."""
    for action in lighter:
        if not any(a.covers(action) for a in heavier):
            return action
    return None


@attrs.frozen
class Ladder:
    classes: dict[str, PenaltyClass]
    #: an offence is a repeat when at least `repeat_count` earlier tasks of its class exist (in the window)
    repeat_count: int
    #: look-back window of the repeat count, in days; None: no window
    window_days: int | None
    file: str
    #: sha256 of the ladder file: recorded with each scan in the ledger
    content_hash: str

    def earlier_count(self, earlier: Iterable[_dt.datetime], opened_at: _dt.datetime, *, after: bool = False) -> int:
        """How many of the merchant's tasks of the class (opening times `earlier`) count before one
        opened at `opened_at`: those opened strictly before (the problems one scan finds at once are one
        round of penalties, not repeats of each other), within the look-back window if there is one.
        `after`: for one opened however soon after `opened_at` (those opened at it count too: a later scan
        is a later round; the window is the one of a moment later)."""
        opened_at = _utc(opened_at)
        since = None if self.window_days is None else opened_at - _dt.timedelta(days=self.window_days)
        return sum(1 for t in map(_utc, earlier)
                   if (t <= opened_at if after else t < opened_at) and (since is None or t > since))

    def offence(self, earlier: Iterable[_dt.datetime], opened_at: _dt.datetime, *, after: bool = False) -> str:
        """`first` or `repeat` (see earlier_count)."""
        return REPEAT if self.earlier_count(earlier, opened_at, after=after) >= self.repeat_count else FIRST

    def next_offence(self, earlier: Iterable[_dt.datetime], as_of: _dt.datetime) -> str:
        """`first` or `repeat`: the offence a scan after `as_of` would open, however soon after."""
        return self.offence(earlier, as_of, after=True)


# -- what a task comes to, as of a time -------------------------------------------------------------


@attrs.frozen
class Due:
    """An action with its time: `at`, and `until` for the ones that last. `due` is whether it has
    happened by the as-of time (a removal at the deadline of an open task is still to come)."""

    action: str
    at: _dt.datetime
    until: _dt.datetime | None = None
    points: int | None = None
    due: bool = True


def task_status(
    cls: PenaltyClass, opened_at: _dt.datetime, rectified_at: _dt.datetime | None, appealed_at: _dt.datetime | None,
    as_of: _dt.datetime,
) -> str:
    """The status as of `as_of`, from the facts known by then. The rectification period is
    [opened, deadline): rectified before the deadline is in time; at the deadline the task expires."""
    opened_at, rectified_at, appealed_at, as_of = _utc(opened_at), _utc(rectified_at), _utc(appealed_at), _utc(as_of)
    deadline = cls.deadline(opened_at)
    if rectified_at is not None and rectified_at <= as_of and rectified_at < deadline:
        return RECTIFIED
    if as_of >= deadline:
        return EXPIRED
    if appealed_at is not None and appealed_at <= as_of:
        return APPEALED
    return OPEN


def task_actions(
    cls: PenaltyClass, offence: str, opened_at: _dt.datetime, rectified_at: _dt.datetime | None,
    as_of: _dt.datetime,
) -> list[Due]:
    """The actions of a task as of `as_of`: what has happened, and what will unless it is rectified."""
    opened_at, rectified_at, as_of = _utc(opened_at), _utc(rectified_at), _utc(as_of)
    known = rectified_at if rectified_at is not None and rectified_at <= as_of else None
    deadline = cls.deadline(opened_at)
    in_time = known is not None and known < deadline
    actions = cls.actions(offence)
    removed = not in_time and any(a.action in REMOVALS for a in actions)
    out = []
    for a in actions:
        if a.action in REMOVALS:
            if not in_time:
                out.append(Due(a.action, deadline, due=deadline <= as_of))
        elif a.until_rectified:
            until = known if in_time else (deadline if removed else known)
            out.append(Due(a.action, opened_at, until))
        elif a.days is not None:
            out.append(Due(a.action, opened_at, opened_at + _dt.timedelta(days=a.days)))
        else:
            out.append(Due(a.action, opened_at, points=a.points))
    return out


def _utc(when: Any) -> Any:
    """Times compared in UTC: two platform-time datetimes compare by wall clock, which is wrong in the
    hour a daylight-saving change repeats."""
    return when if when is None or when.tzinfo is _dt.timezone.utc else when.astimezone(_dt.timezone.utc)


# -- loading -----------------------------------------------------------------------------------------


def ladder_file(dirs: Iterable[str]) -> str | None:
    """The penalties.toml of the last policy folder that has one (a team's ladder replaces the bundled)."""
    found = pack_meta_files(dirs, (LADDER_FILE,))
    return found[-1] if found else None


def load_ladder(dirs: Iterable[str]) -> Ladder:
    """The ladder of the policy folders `dirs`. Raises PolicyError naming the file and the field."""
    dirs = list(dirs)
    path = ladder_file(dirs)
    if path is None:
        raise PolicyError(", ".join(dirs) or "(no policy folders)",
                          f"no {LADDER_FILE}: the radar needs the penalty ladder (see policies/{LADDER_FILE})")
    with open(path, "rb") as f:
        data = f.read()
    return parse_ladder(data, _shown(path))


def _shown(path: str) -> str:
    from ..resources import policies_dir

    if os.path.realpath(os.path.dirname(path)) == os.path.realpath(policies_dir()):
        return f"policies/{LADDER_FILE}"
    return path


def parse_ladder(data: bytes, shown: str = LADDER_FILE) -> Ladder:
    import hashlib

    from ..policy.loader import parse_toml

    doc = parse_toml(shown, data)
    _validate(shown, doc)
    classes = {}
    owner: dict[str, str] = {}
    for name, raw in doc["class"].items():
        for family in raw["families"]:
            if family in owner:
                raise PolicyError(shown, f"family {family} is in two classes, {owner[family]} and {name}",
                                  None, f"class.{name}.families")
            owner[family] = name
        classes[name] = PenaltyClass(
            name=name,
            title=Text(**raw["title"]),
            families=tuple(raw["families"]),
            rectify_days=raw["rectify_days"],
            appeals=raw["appeals"],
            first=tuple(_action(a) for a in raw["first"]),
            repeat=tuple(_action(a) for a in raw["repeat"]),
        )
    for name, cls in classes.items():
        for level in (FIRST, REPEAT):
            seen = [a.action for a in cls.actions(level)]
            twice = sorted({a for a in seen if seen.count(a) > 1})
            if twice:
                raise PolicyError(shown, f"{twice[0]} is listed twice", None, f"class.{name}.{level}")
            if sum(a in REMOVALS for a in seen) > 1:
                raise PolicyError(shown, "a product is either deleted or delisted, not both", None,
                                  f"class.{name}.{level}")
    repeat = doc["repeat"]
    return Ladder(classes, repeat["count"], repeat.get("window_days"), shown, hashlib.sha256(data).hexdigest())


def _action(raw: dict[str, Any]) -> Action:
    return Action(raw["action"], raw.get("days"), raw.get("until") == "rectified", raw.get("points"))


def _validate(shown: str, doc: dict[str, Any]) -> None:
    from ..policy.loader import dotted, schema_error

    error = schema_error("penalties.schema.json", doc)
    if error is not None:
        message = error.message
        if error.validator == "oneOf":
            message = ("an action is one of: product-downrank or store-downrank with days; product-downrank with "
                       'until = "rectified"; product-delete; product-delist; store-points with points '
                       f"(got {error.instance!r})")
        raise PolicyError(shown, message, None, dotted(error.absolute_path) or None)
