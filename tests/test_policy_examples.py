"""Every rule's own passing and failing examples, and `compliance verify` as a CI guard."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import checker
from checker.examples import run_example

from .conftest import ROOT, compliance

PACK = checker.load_policies()
CASES = [(i, e) for i, rule in enumerate(PACK.pack.rules) for e in rule.examples]


@pytest.mark.parametrize(
    "rule_index, example", CASES, ids=[f"{PACK.pack.rules[i].id}: {e.name}" for i, e in CASES]
)
def test_rule_example_holds(rule_index: int, example: object) -> None:
    """The rule says of its example what the example expects (pass, fail at these paths, not evaluated)."""
    result = run_example(PACK, rule_index, example)  # type: ignore[arg-type]
    assert (True, "") == (result.ok, "" if result.ok else result.detail)


def test_tier_anomaly_family_is_complete() -> None:
    """RULES.md 3 as TOML: the count, order, contiguity, MOQ, price and bait tests."""
    expected = {
        "tier-anomaly/too-many-tiers",
        "tier-anomaly/minimums-not-rising",
        "tier-anomaly/range-gap",
        "tier-anomaly/last-tier-closed",
        "tier-anomaly/first-tier-not-moq",
        "tier-anomaly/price-rises",
        "tier-anomaly/price-not-positive",
        "tier-anomaly/bait-tier",
    }
    assert expected <= {r.id for r in PACK.pack.rules if r.family == "tier-anomaly"}


def test_verify_passes_on_the_bundled_pack() -> None:
    """`compliance verify` exits 0 and says every example holds."""
    result = compliance("verify", "--quiet")
    assert 0 == result.returncode, result.stdout + result.stderr
    assert f"All {len(CASES)} examples of {len(PACK.pack.rules)} rules hold; all " in result.stdout


def test_verify_fails_when_a_rule_is_weakened(tmp_path: Path) -> None:
    """Editing the bait threshold so the linen dress passes makes verify exit 1, naming the rule and example."""
    pack = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", pack)
    policy = pack / "tier-anomaly.toml"
    text = policy.read_text("utf-8")
    assert "params = { max_drop = 0.40 }" in text
    policy.write_text(text.replace("params = { max_drop = 0.40 }", "params = { max_drop = 0.50 }"), "utf-8")
    result = compliance("verify", "--quiet", "--no-bundled", "--policies", str(pack))
    assert 1 == result.returncode
    assert (
        "FAIL tier-anomaly/bait-tier: example 'linen dress: 60-99 20.00, 100-399 18.70, 400-9999 18.20, "
        ">=10000 10.00' (expect fail): expected fail, got no finding"
    ) in result.stdout
    assert f"{len(CASES) - 3} of {len(CASES)} examples" in result.stdout.splitlines()[-1]  # linen dress, 10.94, 11.99


def test_verify_fails_on_an_example_that_is_not_a_valid_snapshot(tmp_path: Path) -> None:
    """An example document the schema rejects is a failed example, not a silent pass."""
    pack = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", pack)
    policy = pack / "tier-anomaly.toml"
    text = policy.read_text("utf-8")
    policy.write_text(text.replace('patch.price.tiers = [ { min_qty = 100, price = "0.01" } ]',
                                   'patch.price.tiers = [ { min_qty = 100, price = "cheap" } ]'), "utf-8")
    result = compliance("verify", "--quiet", "--no-bundled", "--policies", str(pack))
    assert 1 == result.returncode
    assert (
        "FAIL tier-anomaly/price-not-positive: example 'one cent is a price' (expect pass): the example is not a "
        'valid product document: /price/tiers/0/price: "cheap" is not a decimal amount'
    ) in result.stdout


def test_verify_checks_the_platform_invariants_whatever_the_examples_say(tmp_path: Path) -> None:
    """A team that accepts 9.8折 and rewrites the rule's own examples to match still fails verify:
    the discount-floor invariant names itself and a counterexample (RULES.md 6.3)."""
    pack = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", pack)
    policy = pack / "discount-floor.toml"
    text = policy.read_text("utf-8")
    assert "max_discount = 9.5" in text
    rule = text.split('id = "discount-floor/discount-range"', 1)[1].split("[[rule]]", 1)[0]
    edited = rule.replace("max_discount = 9.5", "max_discount = 9.8")
    for name in ("seed: 9.8折", "9.6折", "9.51折"):  # the examples above 9.5 now "pass", as the team rewrote them
        start = edited.index(f'name = "{name}')
        block = edited[start:edited.index("[[rule.example]]", start)]
        fixed = block.replace('expect = "fail"', 'expect = "pass"').replace('paths = ["/promotions/0/discount"]\n', "")
        edited = edited.replace(block, fixed)
    policy.write_text(text.replace(rule, edited), "utf-8")
    result = compliance("verify", "--quiet", "--no-bundled", "--policies", str(pack))
    assert 1 == result.returncode, result.stdout
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert 1 == len(failing), failing
    assert failing[0].startswith("FAIL invariant discount-floor/promotions: the pack accepted a member-price promotion "
                                 "with discount=9.6")


@pytest.mark.parametrize("rule_id", [r.id for r in PACK.pack.rules])
def test_explain_renders_every_rule_in_both_languages(rule_id: str) -> None:
    """`compliance explain` shows each rule's failing example, filled in, in English and in Chinese."""
    from checker.explain import explain_rule

    for lang, heading in (("en", "Example that fails: "), ("zh", "违规示例: ")):
        text = explain_rule(PACK, rule_id, (lang,))
        assert heading in text
        after = text.split(heading, 1)[1].splitlines()
        assert after[1].startswith("  → ") and "{" not in after[1], after[:2]
