"""The compiled-pack cache: keyed by content, never stale, never trusted when others could write it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import checker

from .conftest import ROOT, SWEATER, doc

FIVE_TIERS = doc(SWEATER, price={"mode": "tiered", "tiers": [
    {"min_qty": 100, "price": "5"}, {"min_qty": 200, "price": "4.9"}, {"min_qty": 300, "price": "4.8"},
    {"min_qty": 400, "price": "4.7"}, {"min_qty": 500, "price": "4.6"}]})


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "pack"
    folder.mkdir()
    shutil.copy2(ROOT / "policies" / "tier-anomaly.toml", folder)
    return folder


def too_many(folder: Path) -> bool:
    report = checker.check([FIVE_TIERS], policies=checker.load_policies([folder], bundled=False))
    return "tier-anomaly/too-many-tiers" in [f.rule for f in report.findings]


def test_an_edit_keeping_size_and_time_is_seen(pack: Path) -> None:
    """Changing 4 to 5 tiers, with the file's size and modification time put back, changes the result."""
    policy = pack / "tier-anomaly.toml"
    assert too_many(pack)
    before = os.stat(policy)
    policy.write_text(policy.read_text("utf-8").replace("max_tiers = 4", "max_tiers = 5"), "utf-8")
    os.utime(policy, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert before.st_size == os.stat(policy).st_size
    assert not too_many(pack)


def test_the_cache_is_used_and_a_damaged_entry_recompiles(pack: Path, tmp_path: Path) -> None:
    """One entry is written per content; a damaged entry is ignored and rewritten."""
    assert too_many(pack)
    entries = list((tmp_path / "cache").glob("pack-*.bin"))
    assert 1 == len(entries)
    entries[0].write_bytes(b"not a pickle")
    assert too_many(pack)
    assert entries[0].read_bytes() != b"not a pickle"


def test_an_entry_others_can_write_is_not_trusted(pack: Path, tmp_path: Path) -> None:
    """A cache file writable by group or others (anyone could plant code in it) is recompiled over."""
    assert too_many(pack)
    entry = next((tmp_path / "cache").glob("pack-*.bin"))
    from checker.policy import cache

    key = cache.cache_key([str(pack)])
    assert cache._read(str(entry), key) is not None
    entry.chmod(0o666)
    assert cache._read(str(entry), key) is None
