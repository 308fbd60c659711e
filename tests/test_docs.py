"""docs/policies.md: every policy on the page loads and holds its examples; every function is documented
with an example that is true of the page's sample listing; the refusals table is what the checker says."""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path

import pytest

import checker
from checker.examples import run_examples
from checker.policy.compiler import compile_pack
from checker.policy.model import Pack, Rule, Text
from checker.policy.vocabulary import FUNCTIONS

from .conftest import ROOT

PAGE = (ROOT / "docs" / "policies.md").read_text("utf-8")
TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", PAGE, re.S)
SAMPLE = json.loads(re.findall(r"```json\n(.*?)```", PAGE, re.S)[0])
T = Text("t", "t")


def test_the_page_has_policies() -> None:
    """The page shows its five worked policies, each fence closed (a broken regex or an open fence, which
    left the totals example untested, would make the rest vacuous)."""
    assert 5 <= len(TOML_BLOCKS)
    assert 0 == PAGE.count("```") % 2 and PAGE.count("```toml") == len(TOML_BLOCKS)


@pytest.mark.parametrize("block", TOML_BLOCKS, ids=lambda b: re.search(r'id = "([^"]+)"', b).group(1))
def test_policy_on_the_page_loads_and_its_examples_hold(block: str, tmp_path: Path) -> None:
    """Each TOML block is a complete policy file that `compliance verify` accepts."""
    (tmp_path / "doc.toml").write_text(block, "utf-8")
    pack = checker.load_policies([tmp_path], bundled=False)
    # the page's examples are one-rule illustrations: their own examples hold (not the whole platform's invariants)
    assert [] == [str(r) for r in run_examples(pack) if not r.ok]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_is_documented_with_a_true_example(name: str) -> None:
    """Every function of the vocabulary has a row on the page, and its example holds for the sample listing."""
    function = FUNCTIONS[name]
    assert f"`{name}(" in PAGE
    assert f"`{function.example}`" in PAGE
    rule = Rule(id="quality/doc", family="quality", severity="advice", penalty=None, kind="product", title=T,
                description=T, message=T, remedy=T, require=function.example, path="/", file="docs")
    compiled = compile_pack(Pack((rule,), "docs"))
    hits: list[object] = []
    failed: list[object] = []
    compiled.evaluators["product"](SAMPLE, _dt.datetime(2022, 12, 1, tzinfo=_dt.timezone.utc), {}, hits, [], failed)
    assert ([], []) == (hits, failed)


def test_refusals_table_is_what_the_checker_says() -> None:
    """Each row of "What a policy cannot do" is refused with exactly the documented reason."""
    table = PAGE.split("## What a policy cannot do", 1)[1]
    rows = re.findall(r"^\| `(.+?)` \| `(.+?)` \|$", table, re.M)
    assert 7 <= len(rows)
    for expression, reason in rows:
        rule = Rule(id="quality/doc", family="quality", severity="advice", penalty=None, kind="product", title=T,
                    description=T, message=T, remedy=T, require=expression, path="/", file="docs")
        with pytest.raises(checker.PolicyError) as caught:
            compile_pack(Pack((rule,), "docs"))
        assert f"require: {reason}" in str(caught.value), expression


def test_the_property_tests_on_the_page_run_and_hold() -> None:
    """The page's example of a team's property tests runs as written (on the bundled pack for its folder)."""
    (block,) = re.findall(r"```python\n(.*?)```", PAGE, re.S)
    assert 'checker.load_policies(["my-policies/"])' in block
    names: dict = {}
    exec(compile(block.replace('["my-policies/"]', "[]"), "docs/policies.md", "exec"), names)  # noqa: S102
    tests = [f for name, f in names.items() if name.startswith("test_")]
    assert 2 == len(tests)
    for test in tests:
        test()
