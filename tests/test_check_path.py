"""`compliance check` stays light: with the pack compiled once, a check imports neither the
policy compiler nor jsonschema (either one) nor Hypothesis (python -X importtime)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from .conftest import ROOT

HEAVY = {
    "hypothesis",
    "jsonschema",
    "jsonschema_rs",
    "tomllib",
    "checker.policy.compiler",
    "checker.policy.expressions",
    "checker.policy.loader",
    "checker.snapshots",
    "checker.testing",
}


def imported_by_check(*args: str) -> set[str]:
    command = [sys.executable, "-X", "importtime", "-m", "checker", "check", *args]
    subprocess.run(command, capture_output=True, env=os.environ, cwd=ROOT, check=False)  # compiles the pack once
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ, cwd=ROOT, check=False)
    return {m.group(1) for m in re.finditer(r"^import time:.*\|\s+(\S+)$", done.stderr, re.M)}


def test_check_of_a_clean_product_imports_nothing_heavy() -> None:
    """The pre-publish path of a valid product: no compiler, no jsonschema, no Hypothesis."""
    modules = imported_by_check(str(ROOT / "fixtures" / "products" / "sweater-dress.json"))
    assert "checker.engine" in modules  # the measurement saw the check itself
    assert set() == {m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY}


def test_check_of_a_product_with_findings_imports_nothing_heavy() -> None:
    """Rendering findings needs no heavy module either."""
    modules = imported_by_check(str(ROOT / "fixtures" / "products" / "linen-dress.json"))
    assert set() == {m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY}
