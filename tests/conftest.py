"""Shared test set-up: a private compiled-pack cache, documents, CLI runners."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: a valid product: the seed's sweater dress (RULES.md 3), clean under every tier rule
SWEATER = {
    "kind": "product",
    "id": "P-SWEATER",
    "merchant_id": "M-1",
    "listing_type": "customization",
    "moq": 100,
    "price": {
        "mode": "tiered",
        "tiers": [
            {"min_qty": 100, "max_qty": 999, "price": "26.90"},
            {"min_qty": 1000, "max_qty": 9999, "price": "25.90"},
            {"min_qty": 10000, "price": "24.90"},
        ],
    },
}
#: the seed's linen dress: one bait tier at /price/tiers/3/price
LINEN = {
    "kind": "product",
    "id": "P-LINEN",
    "merchant_id": "M-1",
    "listing_type": "customization",
    "moq": 60,
    "price": {
        "mode": "tiered",
        "tiers": [
            {"min_qty": 60, "max_qty": 99, "price": "20.00"},
            {"min_qty": 100, "max_qty": 399, "price": "18.70"},
            {"min_qty": 400, "max_qty": 9999, "price": "18.20"},
            {"min_qty": 10000, "price": "10.00"},
        ],
    },
}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled packs go to a per-session folder, never the user's cache."""
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "pack-cache"))


def doc(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with top-level fields replaced."""
    out = copy.deepcopy(base)
    out.update(changes)
    return out


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def write_jsonl(path: Path, values: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    return path


def compliance(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess, as a CI job would."""
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-m", "checker", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=120,
    )
    return result
