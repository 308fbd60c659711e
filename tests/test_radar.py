"""The radar ledger (RULES.md 7): a merchant's history replayed through scans at successive --as-of
times, with the tasks, deadlines and actions asserted to the second; appeals; the ledger file.

The clock is always --as-of. Times below are platform time (-08:00 in December).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from checker.cli import cli
from checker.radar import ledger as ledger_module
from checker.radar.ladder import load_ladder, parse_ladder
from checker.radar.ledger import SCHEMA_VERSION, Ledger, LedgerError
from checker.policy.model import PolicyError
from checker.resources import policies_dir

from .conftest import LINEN, doc, write_jsonl

T0 = "2022-12-01T09:00:00-08:00"
DEADLINE0 = "2022-12-15T09:00:00-08:00"  # T0 + 14 x 24 h
MERCHANT = {"kind": "merchant", "id": "M-1", "gold": True, "star_level": 2, "primary_industry": "apparel"}
#: the linen dress with its bait tier fixed (10.00 -> 12.00: 34 % below 18.20, within 40 %)
FIXED = doc(LINEN, price={"mode": "tiered", "tiers": [*LINEN["price"]["tiers"][:3], {"min_qty": 10000, "price": "12.00"}]})


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def scan(ledger: Path, catalog: Path, as_of: str) -> tuple[int, str]:
    code, _, err = run("scan", str(catalog), "--ledger", str(ledger), "--as-of", as_of, "--format", "json")
    return code, err


def radar(ledger: Path, as_of: str, *more: str) -> dict[str, Any]:
    code, out, err = run("radar", "--ledger", str(ledger), "--as-of", as_of, "--format", "json", *more)
    assert 0 == code, err
    return json.loads(out)


def task(ledger: Path, as_of: str, task_id: int) -> dict[str, Any]:
    return next(t for t in radar(ledger, as_of)["tasks"] if t["id"] == task_id)


def catalog(tmp_path: Path, name: str, *docs: dict[str, Any]) -> Path:
    return write_jsonl(tmp_path / name / "catalog.jsonl", list(docs))


# -- publishing-anomaly: a listing's own finding -------------------------------------------------------


def test_a_bait_tier_opens_a_task_with_its_deadline_to_the_second(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    assert (1, ) == scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)[:1]
    t = task(book, T0, 1)
    assert {
        "id": 1, "merchant_id": "M-1", "product_id": "P-LINEN", "rule": "tier-anomaly/bait-tier",
        "family": "tier-anomaly", "penalty": "publishing-anomaly", "offence": "first", "opened_at": T0,
        "deadline": DEADLINE0, "status": "open", "rectified_at": None, "appeal": None,
    } == {k: t[k] for k in ("id", "merchant_id", "product_id", "rule", "family", "penalty", "offence", "opened_at",
                             "deadline", "status", "rectified_at", "appeal")}
    assert "/price/tiers/3/price" == t["evidence"]["path"]
    # down-ranked until rectified, at the latest until the deadline, when it is delisted unless rectified before
    assert [
        {"action": "product-downrank", "at": T0, "until": DEADLINE0, "due": True},
        {"action": "product-delist", "at": DEADLINE0, "due": False},
    ] == t["actions"]
    # one second before the deadline: still open; at the deadline: expired, the listing delisted
    assert "open" == task(book, "2022-12-15T08:59:59-08:00", 1)["status"]
    at_deadline = task(book, DEADLINE0, 1)
    assert "expired" == at_deadline["status"]
    assert [
        {"action": "product-downrank", "at": T0, "until": DEADLINE0, "due": True},
        {"action": "product-delist", "at": DEADLINE0, "due": True},
    ] == at_deadline["actions"]


def test_rectified_before_the_deadline_stops_the_downranking_and_the_delisting(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    fixed_at = "2022-12-15T08:59:59-08:00"  # the last second of the period
    assert 0 == scan(book, catalog(tmp_path, "fixed", MERCHANT, FIXED), fixed_at)[0]
    for as_of in (fixed_at, "2023-02-01"):
        t = task(book, as_of, 1)
        assert ("rectified", fixed_at) == (t["status"], t["rectified_at"])
        assert [{"action": "product-downrank", "at": T0, "until": fixed_at, "due": True}] == t["actions"]
    # the view as of before the rectification does not know it yet
    assert "open" == task(book, "2022-12-10", 1)["status"]


def test_rectified_at_the_deadline_is_too_late(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    scan(book, catalog(tmp_path, "fixed", MERCHANT, FIXED), DEADLINE0)
    t = task(book, "2023-01-01", 1)
    assert ("expired", DEADLINE0) == (t["status"], t["rectified_at"])
    assert {"action": "product-delist", "at": DEADLINE0, "due": True} in t["actions"]


def test_a_repeat_after_rectification_costs_the_store_points_and_store_downranking(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    scan(book, catalog(tmp_path, "fixed", MERCHANT, FIXED), "2022-12-05T09:00:00-08:00")
    again = "2022-12-06T09:00:00-08:00"
    scan(book, catalog(tmp_path, "again", MERCHANT, LINEN), again)
    view = radar(book, "2022-12-07")
    second = next(t for t in view["tasks"] if t["id"] == 2)
    assert ("repeat", 2, again, "2022-12-20T09:00:00-08:00") == (
        second["offence"], second["offence_number"], second["opened_at"], second["deadline"])
    assert {"action": "store-points", "at": again, "points": 6, "due": True} in second["actions"]
    assert {"action": "store-downrank", "at": again, "until": "2022-12-13T09:00:00-08:00", "due": True} in second["actions"]
    standing = view["merchants"][0]
    assert (6, 1, 1) == (standing["points_deducted"], standing["open_tasks"], standing["rectified_tasks"])
    assert "2022-12-13T09:00:00-08:00" == standing["store_downranked_until"]
    # the store down-ranking ends after 7 days to the second
    assert radar(book, "2022-12-13T09:00:00-08:00")["merchants"][0]["store_downranked_until"] is None
    assert "2022-12-13T09:00:00-08:00" == radar(book, "2022-12-13T08:59:59-08:00")["merchants"][0]["store_downranked_until"]


def test_problems_found_in_one_scan_are_one_round_not_repeats(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    other = doc(LINEN, id="P-LINEN-2")
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN, other), T0)
    view = radar(book, T0)
    assert [("first", 1), ("first", 1)] == [(t["offence"], t["offence_number"]) for t in view["tasks"]]
    assert 0 == view["merchants"][0]["points_deducted"]
    later = radar(book, "2022-12-02")["merchants"][0]["next_offence"]
    assert ("repeat", "first") == (later["publishing-anomaly"]["offence"], later["fake-listing"]["offence"])


def test_scanning_the_same_snapshots_again_changes_nothing(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    files = catalog(tmp_path, "day0", MERCHANT, LINEN)
    scan(book, files, T0)
    before = radar(book, "2023-01-01")
    code, err = scan(book, files, T0)
    assert "already recorded; nothing changed" in err
    later_code, _ = scan(book, files, "2022-12-03")  # the same listing, later: still the same task
    assert (1, 1) == (code, later_code)
    after = radar(book, "2023-01-01")
    assert before["tasks"] == after["tasks"]
    assert 2 == after["metadata"]["scans"]


def test_a_scan_that_did_not_read_the_listing_does_not_rectify_it(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    scan(book, catalog(tmp_path, "elsewhere", MERCHANT, doc(FIXED, id="P-OTHER")), "2022-12-02")
    assert "open" == task(book, "2022-12-03", 1)["status"]


def test_the_clock_only_moves_forward(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    files = catalog(tmp_path, "day0", MERCHANT, LINEN)
    scan(book, files, T0)
    code, out, err = run("scan", str(files), "--ledger", str(book), "--as-of", "2022-11-30", "--format", "json")
    assert 2 == code
    assert "the ledger has a scan as of 2022-12-01T09:00:00-08:00" in err and "give a later --as-of" in err
    assert "" == out  # refused before reading anything
    assert 1 == radar(book, "2023-01-01")["metadata"]["scans"]


# -- fake-listing: evidence in quotes ------------------------------------------------------------------

PRINTER = {
    "kind": "product", "id": "P-PRINTER", "merchant_id": "M-1", "listing_type": "customization", "unit": "set",
    "moq": 1, "price": {"mode": "sku", "skus": [{"attributes": {"Model": "SL300"}, "price": "1686.00"}]},
}


def quote(quote_id: str, created_at: str, price: str, page: dict[str, Any] = PRINTER) -> dict[str, Any]:
    listing = {k: v for k, v in page.items() if k != "kind"}
    return {"kind": "order", "id": quote_id, "type": "quote", "merchant_id": "M-1", "created_at": created_at,
            "buyer": {"id": "B-1", "level": "L1", "country": "US"}, "ship_to": "US",
            "items": [{"listing": listing, "sku": {"Model": "SL300"}, "quantity": 1, "unit_price": price}]}


def test_a_quote_above_the_page_price_opens_a_task_that_an_edit_of_the_page_rectifies(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    old_quote = quote("Q-1", "2022-11-25T20:40:00-08:00", "1850.00")
    scan(book, catalog(tmp_path, "day0", MERCHANT, PRINTER, old_quote), T0)
    t = task(book, T0, 1)
    assert ("fake-price/sku-price", "fake-listing", "first", "P-PRINTER") == (t["rule"], t["penalty"], t["offence"],
                                                                             t["product_id"])
    assert ("order", "Q-1", "/items/0/unit_price") == (t["evidence"]["kind"], t["evidence"]["id"], t["evidence"]["path"])
    assert [
        {"action": "product-downrank", "at": T0, "until": DEADLINE0, "due": True},  # 14 days, rectified or not
        {"action": "product-delete", "at": DEADLINE0, "due": False},
    ] == t["actions"]
    # the same export days later (old quote, page unchanged): still open
    scan(book, catalog(tmp_path, "day3", MERCHANT, PRINTER, old_quote), "2022-12-04")
    assert "open" == task(book, "2022-12-04", 1)["status"]
    # the page now says what the seller charges: rectified, though the old quote is still in the export
    honest = doc(PRINTER, price={"mode": "sku", "skus": [{"attributes": {"Model": "SL300"}, "price": "1850.00"}]})
    scan(book, catalog(tmp_path, "day4", MERCHANT, honest, old_quote), "2022-12-05")
    t = task(book, "2022-12-20", 1)
    assert ("rectified", "2022-12-05T00:00:00-08:00") == (t["status"], t["rectified_at"])
    # fake listing: down-ranked 14 days whether rectified or not; not deleted
    assert [{"action": "product-downrank", "at": T0, "until": DEADLINE0, "due": True}] == t["actions"]
    # the old quote does not open a new task
    scan(book, catalog(tmp_path, "day5", MERCHANT, honest, old_quote), "2022-12-06")
    assert [1] == [t["id"] for t in radar(book, "2022-12-06")["tasks"]]
    # a new quote above the new page price is a new offence: a repeat
    new_quote = quote("Q-2", "2022-12-06T10:00:00-08:00", "1900.00", honest)
    scan(book, catalog(tmp_path, "day6", MERCHANT, honest, old_quote, new_quote), "2022-12-07")
    second = task(book, "2022-12-07", 2)
    assert ("repeat", "Q-2") == (second["offence"], second["evidence"]["id"])
    assert {"action": "store-points", "at": "2022-12-07T00:00:00-08:00", "points": 6, "due": True} in second["actions"]


def test_a_quote_alone_keeps_its_task_open_until_the_page_is_seen(tmp_path: Path) -> None:
    """Without the product document, the scan cannot say the page was fixed."""
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, quote("Q-1", "2022-11-25", "1850.00")), T0)
    scan(book, catalog(tmp_path, "day1", MERCHANT, PRINTER), "2022-12-02")  # first sight of the page
    assert "open" == task(book, "2022-12-02", 1)["status"]


# -- appeals ----------------------------------------------------------------------------------------------


def appeal(book: Path, task_id: int, at: str, reason: str = "the 10000+ tier is a real wholesale price") -> tuple[int, str, str]:
    return run("radar", "appeal", str(task_id), "--reason", reason, "--ledger", str(book), "--as-of", at)


def test_an_anomaly_task_may_be_appealed_once_within_the_period(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    code, out, _ = appeal(book, 1, "2022-12-15T08:59:59-08:00")
    assert (0, "task 1 appealed at 2022-12-15T08:59:59-08:00: the 10000+ tier is a real wholesale price\n") == (code, out)
    t = task(book, "2022-12-15T08:59:59-08:00", 1)
    assert ("appealed", {"at": "2022-12-15T08:59:59-08:00", "reason": "the 10000+ tier is a real wholesale price"}) == (
        t["status"], t["appeal"])
    assert "open" == task(book, "2022-12-15T08:59:58-08:00", 1)["status"]  # before the appeal
    # the appeal does not stop the clock: unrectified at the deadline, the task expires
    assert "expired" == task(book, DEADLINE0, 1)["status"]
    code, _, err = appeal(book, 1, "2022-12-15T08:59:59-08:00", "again")
    assert 2 == code
    assert "appeal refused: task 1 was already appealed at 2022-12-15T08:59:59-08:00; a task may be appealed once" in err


def test_an_appeal_at_the_deadline_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    code, _, err = appeal(book, 1, DEADLINE0)
    assert 2 == code
    assert f"the rectification period of task 1 ended at {DEADLINE0}; an appeal is accepted only within it" in err
    assert task(book, "2023-01-01", 1)["appeal"] is None


@pytest.mark.parametrize(
    "setup, task_id, at, refusal",
    [
        ("quote", 1, "2022-12-02", "task 1 (fake-price/sku-price) is a fake-listing task: fake-listing tasks cannot be "
                                   "appealed in the radar"),
        ("bait", 7, "2022-12-02", "there is no task 7 in"),
        ("bait", 1, "2022-11-30", "task 1 opened at 2022-12-01T09:00:00-08:00, after 2022-11-30T00:00:00-08:00"),
        ("fixed", 1, "2022-12-03", "task 1 was rectified at 2022-12-02T00:00:00-08:00: there is nothing left to appeal"),
    ],
)
def test_appeals_the_platform_refuses(tmp_path: Path, setup: str, task_id: int, at: str, refusal: str) -> None:
    book = tmp_path / "radar.db"
    if setup == "quote":
        scan(book, catalog(tmp_path, "day0", MERCHANT, PRINTER, quote("Q-1", "2022-11-25", "1850.00")), T0)
    else:
        scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    if setup == "fixed":
        scan(book, catalog(tmp_path, "fixed", MERCHANT, FIXED), "2022-12-02")
    code, out, err = appeal(book, task_id, at)
    assert (2, "") == (code, out)
    assert refusal in err


def test_an_appeal_needs_a_reason(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    code, _, err = appeal(book, 1, "2022-12-02", "  ")
    assert 2 == code and "an appeal needs a reason" in err


# -- the ledger file -----------------------------------------------------------------------------------


def test_nothing_is_written_without_ledger_and_ledger_alone_uses_the_documented_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = catalog(tmp_path, "day0", MERCHANT, LINEN)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    run("scan", str(files), "--as-of", T0)
    assert [] == list(work.iterdir())
    code, _, err = run("scan", str(files), "--as-of", T0, "--ledger")
    assert 1 == code
    assert "radar ledger compliance-radar.db: scan 1 recorded, 1 task(s) opened, 0 rectified" in err
    assert (work / "compliance-radar.db").is_file()
    code, out, _ = run("radar", "--as-of", T0)  # the same default
    assert 0 == code and "task 1  OPEN" in out


def test_radar_without_a_ledger_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, err = run("radar", "--ledger", str(tmp_path / "none.db"))
    assert 2 == code
    assert f"{tmp_path / 'none.db'}: no ledger here (record one with: compliance scan PATH --ledger" in err
    assert not (tmp_path / "none.db").exists()


def test_a_file_that_is_not_a_ledger_is_refused_and_left_alone(tmp_path: Path) -> None:
    files = catalog(tmp_path, "day0", MERCHANT, LINEN)
    before = files.read_bytes()
    code, out, err = run("scan", "--ledger", str(files), str(files), "--as-of", T0)
    assert (2, "") == (code, out)
    assert "not a compliance radar ledger (file is not a database)" in err
    assert before == files.read_bytes()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE things (x)")
    code, _, err = run("radar", "--ledger", str(other))
    assert 2 == code and "a SQLite database, but not a compliance radar ledger" in err


def test_a_ledger_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    Ledger(tmp_path / "r.db").close()
    with sqlite3.connect(tmp_path / "r.db") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LedgerError, match=f"written by a newer compliance \\(ledger schema {SCHEMA_VERSION + 1}"):
        Ledger(tmp_path / "r.db")


def test_migrations_upgrade_an_existing_ledger_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    before = radar(book, "2023-01-01")["tasks"]
    monkeypatch.setattr(ledger_module, "MIGRATIONS", [*ledger_module.MIGRATIONS, "ALTER TABLE tasks ADD COLUMN note TEXT"])
    monkeypatch.setattr(ledger_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Ledger(book) as upgraded:
        assert SCHEMA_VERSION + 1 == upgraded.version
        assert "note" in [row[1] for row in upgraded.db.execute("PRAGMA table_info(tasks)")]
    assert before == radar(book, "2023-01-01")["tasks"]


def test_the_ledger_uses_write_ahead_logging(tmp_path: Path) -> None:
    with Ledger(tmp_path / "r.db") as book:
        assert "wal" == book.db.execute("PRAGMA journal_mode").fetchone()[0]


# -- the ladder as policy ------------------------------------------------------------------------------


def test_the_bundled_ladder_says_what_rules_md_7_says() -> None:
    ladder = load_ladder([policies_dir()])
    fake, anomaly = ladder.classes["fake-listing"], ladder.classes["publishing-anomaly"]
    assert (("fake-price", "fake-moq"), 14, 0) == (fake.families, fake.rectify_days, fake.appeals)
    assert (("tier-anomaly", "spec-anomaly"), 14, 1) == (anomaly.families, anomaly.rectify_days, anomaly.appeals)
    assert (1, None) == (ladder.repeat_count, ladder.window_days)
    assert ["product-downrank 14 days", "product-delete at the deadline unless rectified"] == [
        a.describe() for a in fake.first]
    assert ["product-downrank until rectified", "product-delist at the deadline unless rectified", "store-points -6",
            "store-downrank 7 days"] == [a.describe() for a in anomaly.repeat]


def edited_ladder(tmp_path: Path, old: str, new: str) -> Path:
    """A policy folder holding the bundled penalties.toml with `old` replaced by `new`."""
    pack = tmp_path / "pack"
    pack.mkdir()
    text = (Path(policies_dir()) / "penalties.toml").read_text(encoding="utf-8")
    assert old in text
    (pack / "penalties.toml").write_text(text.replace(old, new), encoding="utf-8")
    return pack


def test_changing_14_days_is_a_policy_edit(tmp_path: Path) -> None:
    pack = edited_ladder(tmp_path, "rectify_days = 14", "rectify_days = 7")
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    code, out, _ = run("radar", "--ledger", str(book), "--as-of", T0, "--format", "json", "--policies", str(pack))
    assert "2022-12-08T09:00:00-08:00" == json.loads(out)["tasks"][0]["deadline"]


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[repeat]\ncount = 0\n[class.fake-listing]\ntitle = {en = "a", zh = "b"}\nfamilies = ["fake-price"]\n'
         'rectify_days = 14\nappeals = 0\nfirst = []\nrepeat = []\n', "repeat.count: 0 is less than the minimum of 1"),
        ("[repeat]\ncount = 1\n", "'class' is a required property"),
        ('[repeat]\ncount = 1\n[class.fake-listing]\ntitle = {en = "a", zh = "b"}\nfamilies = ["fake-price"]\n'
         'rectify_days = 14\nappeals = 0\nfirst = [{action = "product-delete", days = 3}]\nrepeat = []\n',
         "class.fake-listing.first[0]: an action is one of"),
        ('[repeat]\ncount = 1\n[class.fake-listing]\ntitle = {en = "a", zh = "b"}\nfamilies = ["fake-price"]\n'
         'rectify_days = 14\nappeals = 0\nfirst = []\nrepeat = []\n[class.publishing-anomaly]\ntitle = {en = "a", zh = "b"}\n'
         'families = ["fake-price"]\nrectify_days = 14\nappeals = 1\nfirst = []\nrepeat = []\n',
         "class.publishing-anomaly.families: family fake-price is in two classes"),
        ('[repeat]\ncount = 1\n[class.fake-listing]\ntitle = {en = "a", zh = "b"}\nfamilies = ["fake-price"]\n'
         'rectify_days = 14\nappeals = 0\nfirst = [{action = "product-delete"}, {action = "product-delist"}]\n'
         'repeat = []\n', "class.fake-listing.first: a product is either deleted or delisted, not both"),
        ("[repeat\n", "not valid TOML"),
    ],
)
def test_a_bad_ladder_is_refused_naming_the_field(text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match="penalties.toml") as e:
        parse_ladder(text.encode(), "my/penalties.toml")
    assert problem in str(e.value)


def test_a_ladder_file_is_not_read_as_a_rule_file(tmp_path: Path) -> None:
    """penalties.toml beside the rules: part of the pack's content hash, not a policy file."""
    from checker.policy.files import fingerprint, policy_files

    assert not [p for p, _ in policy_files([policies_dir()]) if p.endswith("penalties.toml")]
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "quality.toml").write_bytes((Path(policies_dir()) / "quality.toml").read_bytes())
    without, _ = fingerprint([str(pack)])
    (pack / "penalties.toml").write_bytes((Path(policies_dir()) / "penalties.toml").read_bytes())
    assert without != fingerprint([str(pack)])[0]


def test_verify_rejects_a_ladder_whose_repeat_is_lighter(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    text = (Path(policies_dir()) / "penalties.toml").read_text(encoding="utf-8")
    lighter = text.replace("[[class.fake-listing.repeat]]\naction = \"store-points\"\npoints = 6",
                           "[[class.fake-listing.repeat]]\naction = \"store-points\"\npoints = 6\n"
                           "[[class.fake-listing.first]]\naction = \"store-points\"\npoints = 7")
    assert lighter != text
    (pack / "penalties.toml").write_text(lighter, encoding="utf-8")
    code, out, _ = run("verify", "-q", "--policies", str(pack))
    assert 1 == code
    assert ("FAIL invariant radar/escalation: in " + str(pack / "penalties.toml")
            + ", a fake-listing repeat offence lacks what a first offence has: store-points -7") in out
    (pack / "penalties.toml").write_text(text.replace("count = 1", "count = 1\nwindow_days = 365"), encoding="utf-8")
    code, out, _ = run("verify", "-q", "--policies", str(pack))
    assert 1 == code
    assert "the first offence is lighter than the repeat one before it" in out
    (pack / "penalties.toml").write_text(text, encoding="utf-8")
    code, out, _ = run("verify", "-q", "--policies", str(pack))
    assert 0 == code, out
    assert "all 4 platform invariants hold" in out


def test_verify_rejects_a_rule_whose_penalty_class_the_ladder_puts_elsewhere(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    text = (Path(policies_dir()) / "penalties.toml").read_text(encoding="utf-8")
    moved = text.replace('families = ["fake-price", "fake-moq"]', 'families = ["fake-price"]').replace(
        'families = ["tier-anomaly", "spec-anomaly"]', 'families = ["tier-anomaly", "spec-anomaly", "fake-moq"]')
    (pack / "penalties.toml").write_text(moved, encoding="utf-8")
    code, out, _ = run("verify", "-q", "--policies", str(pack))
    assert 1 == code
    assert "FAIL invariant radar/penalty-classes: rule fake-moq/" in out
    assert "has penalty fake-listing, but " in out and "puts family fake-moq in publishing-anomaly" in out


def test_a_scan_dated_before_a_recorded_appeal_is_refused(tmp_path: Path) -> None:
    """An appeal is judged on the ledger as of its time: a scan may not come in before it afterwards."""
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    assert 0 == appeal(book, 1, "2022-12-06")[0]
    code, err = scan(book, catalog(tmp_path, "fixed", MERCHANT, FIXED), "2022-12-03")
    assert 2 == code
    assert "the ledger has an appeal at 2022-12-06T00:00:00-08:00; scans are recorded in time order, and this one " \
           "is as of 2022-12-03T00:00:00-08:00" in err
    assert "appealed" == task(book, "2022-12-07", 1)["status"]


# -- quotes made on an older page -------------------------------------------------------------------------

HONEST = doc(PRINTER, price={"mode": "sku", "skus": [{"attributes": {"Model": "SL300"}, "price": "1850.00"}]})


def test_a_quote_made_on_the_old_page_after_the_task_opened_does_not_keep_it_open(tmp_path: Path) -> None:
    """A quote made between the task's opening and the edit carries the old page: the edit rectifies the task,
    and that quote, in every later export, opens no new one."""
    book = tmp_path / "radar.db"
    old_quote = quote("Q-1", "2022-11-25T20:40:00-08:00", "1850.00")
    scan(book, catalog(tmp_path, "day0", MERCHANT, PRINTER, old_quote), T0)
    between = quote("Q-2", "2022-12-02T10:00:00-08:00", "1850.00")  # on the page as it was on 12-02
    scan(book, catalog(tmp_path, "day3", MERCHANT, PRINTER, old_quote, between), "2022-12-03")
    assert "open" == task(book, "2022-12-03", 1)["status"]  # the page is still the one not honoured
    scan(book, catalog(tmp_path, "day5", MERCHANT, HONEST, old_quote, between), "2022-12-05")
    t = task(book, "2022-12-20", 1)
    assert ("rectified", "2022-12-05T00:00:00-08:00") == (t["status"], t["rectified_at"])
    scan(book, catalog(tmp_path, "day6", MERCHANT, HONEST, old_quote, between), "2022-12-06")
    assert [1] == [t["id"] for t in radar(book, "2022-12-20")["tasks"]]


def test_a_quote_on_the_page_as_it_is_keeps_the_task_open_after_an_edit(tmp_path: Path) -> None:
    """An edit that is not a fix: a quote made on the edited page still breaks the rule, and keeps the task
    open, in this scan and in a later one that reads the page without the quotes."""
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, PRINTER, quote("Q-1", "2022-11-25", "1850.00")), T0)
    retitled = doc(PRINTER, title="SL300 DTF printer")
    on_it = quote("Q-2", "2022-12-02T10:00:00-08:00", "1850.00", retitled)
    scan(book, catalog(tmp_path, "day3", MERCHANT, retitled, quote("Q-1", "2022-11-25", "1850.00"), on_it),
         "2022-12-03")
    scan(book, catalog(tmp_path, "day4", MERCHANT, retitled), "2022-12-04")
    assert ("open", None) == (task(book, "2022-12-04", 1)["status"], task(book, "2022-12-04", 1)["rectified_at"])
    scan(book, catalog(tmp_path, "day5", MERCHANT, HONEST), "2022-12-05")  # now a page no quote was made on
    assert "2022-12-05T00:00:00-08:00" == task(book, "2022-12-20", 1)["rectified_at"]


@pytest.mark.parametrize("with_quotes", [True, False])
def test_a_page_first_seen_already_fixed_rectifies_a_task_opened_on_quotes_alone(tmp_path: Path,
                                                                               with_quotes: bool) -> None:
    """The first scan had only the quote: the page it was made on is the quote's own copy, so the first
    product document the ledger sees, already edited, rectifies the task (with or without the old quote)."""
    book = tmp_path / "radar.db"
    old_quote = quote("Q-1", "2022-11-25", "1850.00")
    scan(book, catalog(tmp_path, "day0", MERCHANT, old_quote), T0)
    scan(book, catalog(tmp_path, "day5", MERCHANT, HONEST, *[old_quote] * with_quotes), "2022-12-05")
    t = task(book, "2022-12-20", 1)
    assert ("rectified", "2022-12-05T00:00:00-08:00") == (t["status"], t["rectified_at"])


def test_a_page_is_compared_by_what_the_data_contract_says_of_it(tmp_path: Path) -> None:
    """Fields outside SNAPSHOTS.md (a tool's own), `kind` and `updated_at` are not the page: changing them is
    not an edit; and a quote's copy of the page that carries fewer fields is about the page if they agree."""
    book = tmp_path / "radar.db"
    trimmed = quote("Q-1", "2022-11-25", "1850.00")
    del trimmed["items"][0]["listing"]["unit"]  # the copy leaves out a field
    page = doc(PRINTER, views=10, updated_at="2022-11-20T00:00:00-08:00")
    scan(book, catalog(tmp_path, "day0", MERCHANT, page, trimmed), T0)
    touched = doc(PRINTER, views=11, updated_at="2022-12-02T00:00:00-08:00")
    for day in ("2022-12-03", "2022-12-04"):
        scan(book, catalog(tmp_path, day, MERCHANT, touched, *[trimmed] * (day == "2022-12-03")), day)
    assert "open" == task(book, "2022-12-04", 1)["status"]


def test_the_page_fields_are_the_data_contracts() -> None:
    """observe.PAGE_FIELDS: every field of the listing schema but its identity and times (a field added to the
    contract is part of the page)."""
    from checker.radar.observe import PAGE_FIELDS
    from checker.resources import schemas_dir

    schema = json.loads((Path(schemas_dir()) / "product.schema.json").read_text(encoding="utf-8"))
    listing = set(schema["$defs"]["listing"]["properties"])
    assert listing - {"kind", "id", "merchant_id", "created_at", "updated_at"} == set(PAGE_FIELDS)


def test_a_quote_task_from_an_older_ledger_needs_the_quotes_to_be_rectified(tmp_path: Path) -> None:
    """A ledger of schema 1 kept no page of a task's quotes: its live quote task is not rectified by the page
    alone (it may be the page not honoured), but by a scan whose quotes are all about another page."""
    book = tmp_path / "radar.db"
    old_quote = quote("Q-1", "2022-11-25", "1850.00")
    scan(book, catalog(tmp_path, "day0", MERCHANT, PRINTER, old_quote), T0)
    with sqlite3.connect(book) as db:
        db.execute("DELETE FROM pages")  # what the migration from schema 1 leaves
    scan(book, catalog(tmp_path, "day3", MERCHANT, HONEST), "2022-12-03")
    assert "open" == task(book, "2022-12-03", 1)["status"]
    scan(book, catalog(tmp_path, "day4", MERCHANT, HONEST, old_quote), "2022-12-04")
    assert "2022-12-04T00:00:00-08:00" == task(book, "2022-12-20", 1)["rectified_at"]


# -- the next offence ----------------------------------------------------------------------------------


def test_right_after_a_task_opens_the_next_offence_is_a_repeat(tmp_path: Path) -> None:
    """The next offence is one a later scan finds: the task opened at the as-of time counts."""
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    assert {"publishing-anomaly": "repeat", "fake-listing": "first"} == {
        c: n["offence"] for c, n in radar(book, T0)["merchants"][0]["next_offence"].items()}
    code, out, _ = run("radar", "--ledger", str(book), "--as-of", T0)
    assert 0 == code
    assert "next publishing-anomaly offence would be a repeat offence: product-downrank until rectified, " \
           "product-delist at the deadline unless rectified, store-points -6, store-downrank 7 days" in out


def test_the_next_offence_counts_the_tasks_of_the_window_a_moment_later(tmp_path: Path) -> None:
    """With a 30-day window, a task opened exactly 30 days before the as-of time no longer counts for the next
    offence; one opened a second later does."""
    pack = edited_ladder(tmp_path, "count = 1", "count = 1\nwindow_days = 30")
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)

    def nxt(as_of: str) -> str:
        code, out, err = run("radar", "--ledger", str(book), "--as-of", as_of, "--format", "json", "--policies",
                             str(pack))
        assert 0 == code, err
        return json.loads(out)["merchants"][0]["next_offence"]["publishing-anomaly"]["offence"]

    assert ("repeat", "first") == (nxt("2022-12-31T08:59:59-08:00"), nxt("2022-12-31T09:00:00-08:00"))


# -- replaying old scans -------------------------------------------------------------------------------


def test_an_old_scan_replayed_at_its_time_changes_nothing_and_a_new_one_in_the_past_is_refused(
    tmp_path: Path
) -> None:
    book = tmp_path / "radar.db"
    linen = catalog(tmp_path, "linen", MERCHANT, LINEN)
    scan(book, linen, T0)
    scan(book, catalog(tmp_path, "sweater", MERCHANT, doc(LINEN, id="P-2")), "2022-12-05")
    before = radar(book, "2023-01-01")
    code, out, err = run("scan", str(linen), "--ledger", str(book), "--as-of", T0, "--format", "json")
    assert 1 == code, err
    assert "this scan was already recorded; nothing changed" in err
    assert 1 == len(json.loads(out)["findings"])
    # another scan at that time would come before the later one: scanned, reported, not recorded
    code, out, err = run("scan", str(catalog(tmp_path, "other", MERCHANT, doc(LINEN, id="P-3"))), "--ledger",
                         str(book), "--as-of", T0, "--format", "json")
    assert 2 == code
    assert "radar ledger not updated: " in err and "scans are recorded in time order" in err
    assert 1 == len(json.loads(out)["findings"])  # the whole report
    assert before == radar(book, "2023-01-01")


# -- a ledger that cannot be used -------------------------------------------------------------------------


def test_a_ledger_locked_by_another_process_is_reported_after_a_complete_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan waits for the ledger's write lock, then says it could not record; the report is whole. An appeal
    says the same."""
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    fixed = catalog(tmp_path, "fixed", MERCHANT, FIXED, doc(LINEN, id="P-2"))
    monkeypatch.setattr(ledger_module, "LOCK_TIMEOUT", 0.2)
    holder = sqlite3.connect(book, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, and not letting go
    try:
        code, out, err = run("scan", str(fixed), "--ledger", str(book), "--as-of", "2022-12-02", "--format", "json")
        assert 2 == code
        assert f"compliance: radar ledger not updated: {book}: the ledger is locked by another process (waited " \
               "0.2 s for it)\n" == err
        assert 1 == len(json.loads(out)["findings"])  # the whole report
        code, out, err = appeal(book, 1, "2022-12-02")
        assert (2, "") == (code, out)
        assert f"compliance: appeal not recorded: {book}: the ledger is locked by another process (waited 0.2 s " \
               "for it)\n" == err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert 1 == radar(book, "2023-01-01")["metadata"]["scans"]
    assert 1 == scan(book, fixed, "2022-12-02")[0]
    assert "rectified" == task(book, "2022-12-03", 1)["status"]


def test_a_ledger_that_cannot_be_written_when_the_scan_ends_is_reported_after_a_complete_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file became read-only during the scan (SQLite says so at the first write)."""
    book = tmp_path / "radar.db"
    real = Ledger.record

    def read_only(self: Ledger, *args: Any) -> Any:
        self.db.execute("PRAGMA query_only = ON")
        return real(self, *args)

    monkeypatch.setattr(Ledger, "record", read_only)
    code, out, err = run("scan", str(catalog(tmp_path, "day0", MERCHANT, LINEN)), "--ledger", str(book),
                         "--as-of", T0, "--format", "json")
    assert 2 == code
    assert f"compliance: radar ledger not updated: {book}: the ledger cannot be written (attempt to write a " \
           "readonly database)" in err
    assert 1 == len(json.loads(out)["findings"])
    assert 0 == radar(book, T0)["metadata"]["scans"]


def test_a_defect_of_the_radar_does_not_cut_the_report_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Ledger, "record", broken)
    code, out, err = run("scan", str(catalog(tmp_path, "day0", MERCHANT, LINEN)), "--ledger", str(tmp_path / "r.db"),
                         "--as-of", T0, "--format", "json")
    assert 2 == code
    assert "compliance: radar ledger not updated: internal error: RuntimeError: a bug; please report it\n" == err
    assert 1 == len(json.loads(out)["findings"])


def unwritable(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    """os.access says these cannot be written (as on a read-only mount: root may write a chmod-ed file)."""
    import os

    real = os.access
    names = {os.path.abspath(p) for p in paths}
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode & os.W_OK and os.path.abspath(p) in names
                        else real(p, mode, **kw))


def test_a_read_only_ledger_refuses_a_scan_before_reading_and_an_appeal(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    before = book.read_bytes()
    unwritable(monkeypatch, book)
    code, out, err = run("scan", str(catalog(tmp_path, "fixed", MERCHANT, FIXED)), "--ledger", str(book),
                         "--as-of", "2022-12-02")
    assert (2, "") == (code, out)
    assert f"compliance: {book}: the ledger cannot be written (the file is read-only)" in err
    code, out, err = appeal(book, 1, "2022-12-02")
    assert (2, "") == (code, out)
    assert f"compliance: {book}: the ledger cannot be written (the file is read-only)" in err
    assert "open" == task(book, "2022-12-02", 1)["status"]  # and compliance radar reads it
    assert before == book.read_bytes()


def test_a_ledger_in_a_read_only_folder_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """compliance radar opens it read-only; where SQLite cannot make its shared-memory file beside it (a
    read-only folder), as it is on disk (nothing is writing it: there is no write-ahead log)."""
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    before = book.read_bytes()
    unwritable(monkeypatch, book, tmp_path)
    real = sqlite3.connect
    uris = []

    def connect(database: str, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        uris.append(database)
        if "mode=ro" in database and "immutable=1" not in database:  # SQLite's error in a read-only folder
            database = (tmp_path / "no-such-folder" / "x.db").as_uri() + "?mode=ro"
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    assert "open" == task(book, T0, 1)["status"]
    assert ["immutable=1" in u for u in uris] == [False, True]
    assert before == book.read_bytes() and [book] == list(tmp_path.glob("radar.db*"))


def test_a_read_only_view_never_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    unwritable(monkeypatch, book)
    with Ledger(book, create=False, read_only=True) as ledger:
        assert 1 == len(ledger.scans())
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ledger.db.execute("DELETE FROM scans")


def test_a_sqlite_file_that_is_not_a_ledger_is_left_byte_for_byte(tmp_path: Path) -> None:
    """Refused (exit 2) by scan and radar, with its journal mode and every byte as they were, no file beside
    it; a user_version of its own does not make it a ledger of a newer compliance."""
    files = catalog(tmp_path, "day0", MERCHANT, LINEN)
    for version in (0, 7):
        other = tmp_path / f"other{version}.db"
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE t (x)")
            db.execute(f"PRAGMA user_version = {version}")
        db.close()
        before = other.read_bytes()
        for argv in (["scan", str(files), "--ledger", str(other), "--as-of", T0], ["radar", "--ledger", str(other)],
                     ["radar", "appeal", "1", "--reason", "r", "--ledger", str(other)]):
            code, out, err = run(*argv)
            assert (2, "") == (code, out)
            assert f"compliance: {other}: a SQLite database, but not a compliance radar ledger\n" == err
        assert before == other.read_bytes()
        assert [other] == list(tmp_path.glob(f"other{version}.db*"))


def test_a_ladder_without_a_tasks_class_is_said_so(tmp_path: Path) -> None:
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    pack = tmp_path / "pack"
    pack.mkdir()
    text = (Path(policies_dir()) / "penalties.toml").read_text(encoding="utf-8")
    (pack / "penalties.toml").write_text(text.split("[class.publishing-anomaly]")[0], encoding="utf-8")
    code, out, err = run("radar", "--ledger", str(book), "--no-bundled", "--policies", str(pack))
    assert (2, "") == (code, out)
    assert f"task 1 has penalty class publishing-anomaly, which the ladder ({pack / 'penalties.toml'}) does not " \
           "define" in err


def test_a_ledger_of_schema_1_is_upgraded_in_place(tmp_path: Path) -> None:
    """Schema 2 adds the pages of a task's quotes; a schema-1 ledger's tasks and scans are kept."""
    book = tmp_path / "radar.db"
    scan(book, catalog(tmp_path, "day0", MERCHANT, LINEN), T0)
    before = radar(book, "2023-01-01")["tasks"]
    with sqlite3.connect(book) as db:  # back to schema 1
        db.execute("DROP TABLE pages")
        db.execute("PRAGMA user_version = 1")
    db.close()
    assert before == radar(book, "2023-01-01")["tasks"]
    with Ledger(book) as upgraded:
        assert 2 == upgraded.version == SCHEMA_VERSION
        assert [] == upgraded.db.execute("SELECT * FROM pages").fetchall()
