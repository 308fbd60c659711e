"""Policy files: a bad one fails at load with the file, the rule and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

import checker

from .conftest import LINEN, SWEATER, compliance, doc, write_json

VALID = """\
[example_base.product]
kind = "product"
id = "EX"
merchant_id = "M"
listing_type = "rts"
moq = 1
price = { mode = "range", range = { min = "1.00", max = "2.00" } }

[[rule]]
id = "tier-anomaly/range-max-above-min"
family = "tier-anomaly"
severity = "error"
penalty = "publishing-anomaly"
kind = "product"
title = { en = "Range", zh = "区间" }
description = { en = "Max at least min.", zh = "最大不小于最小。" }
when = 'price.mode == "range"'
require = "price.range.max >= price.range.min"
path = "/price/range/max"
message = { en = "Max {price.range.max} is below min {price.range.min}.", zh = "最大{price.range.max}小于最小{price.range.min}。" }
remedy = { en = "Swap them.", zh = "交换。" }

[[rule.example]]
name = "ordered"
expect = "pass"

[[rule.example]]
name = "reversed"
expect = "fail"
paths = ["/price/range/max"]
patch.price.range = { min = "2.00", max = "1.00" }
"""


def load(tmp_path: Path, text: str) -> str:
    """The PolicyError message for a pack made of `text`."""
    (tmp_path / "p.toml").write_text(text, "utf-8")
    with pytest.raises(checker.PolicyError) as caught:
        checker.load_policies([tmp_path], bundled=False)
    return str(caught.value).replace(str(tmp_path) + "/", "")


def test_the_valid_policy_loads_and_works(tmp_path: Path) -> None:
    """The base of the cases below is itself a good policy: it loads and its examples hold."""
    (tmp_path / "p.toml").write_text(VALID, "utf-8")
    pack = checker.load_policies([tmp_path], bundled=False)
    assert ["tier-anomaly/range-max-above-min"] == [r.id for r in pack.pack.rules]
    assert [] == checker.verify(pack)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('severity = "error"', 'sevrity = "error"',
         "p.toml: rule tier-anomaly/range-max-above-min: missing 'severity' (unknown key(s) ('sevrity' was "
         "unexpected); misspelt?)"),
        ('kind = "product"\ntitle', 'kind = "product"\nsevrity = 1\ntitle',
         "p.toml: rule tier-anomaly/range-max-above-min: unknown key(s) ('sevrity' was unexpected)"),
        ('severity = "error"', 'severity = "fatal"',
         "p.toml: rule tier-anomaly/range-max-above-min: severity: 'fatal' is not one of ['error', 'warning', 'advice']"),
        ('remedy = { en = "Swap them.", zh = "交换。" }', 'remedy = { en = "Swap them." }',
         "p.toml: rule tier-anomaly/range-max-above-min: remedy: missing 'zh'"),
        ('id = "tier-anomaly/range-max-above-min"', 'id = "spec-anomaly/range-max-above-min"',
         "p.toml: rule spec-anomaly/range-max-above-min: id: the id must start with the family, tier-anomaly/"),
        ('expect = "fail"', 'expect = "pass"',
         "p.toml: rule tier-anomaly/range-max-above-min: example[1] (reversed): 'paths' belongs to a failing example"),
        ('expect = "fail"\npaths = ["/price/range/max"]', 'expect = "pass"',
         "p.toml: rule tier-anomaly/range-max-above-min: example: a rule needs at least one passing and one failing example"),
        ('path = "/price/range/max"', 'path = "/price/range/max"\nwhere = "true"',
         "p.toml: rule tier-anomaly/range-max-above-min: where: 'where' filters the items of 'each'; this rule has no 'each'"),
        ('require = "price.range.max >= price.range.min"', 'require = "price.range.max >= price.range.mn"',
         "p.toml: rule tier-anomaly/range-max-above-min: require: 'mn' is not a field here; the fields are: min, max "
         "(in 'price.range.max >= price.range.mn')"),
        ('path = "/price/range/max"', 'path = "price/range/max"',
         'p.toml: rule tier-anomaly/range-max-above-min: path: a path is a JSON Pointer starting with "/", e.g. '
         '"/price/tiers/{index}/price"'),
        ('message = { en = "Max {price.range.max}', 'message = { en = "Max {price.range.max',
         "p.toml: rule tier-anomaly/range-max-above-min: message.en: not a valid expression"),
        ('message = { en = "Max', 'message = { en = "} Max',
         "p.toml: rule tier-anomaly/range-max-above-min: message.en: a '}' without its '{' (write '}}' for a brace)"),
        ('path = "/price/range/max"', 'path = "/price/range/max"\nparams = { moq = 5 }',
         "p.toml: rule tier-anomaly/range-max-above-min: params.moq: the parameter name 'moq' is already a field or "
         "name; rename it"),
        # a name ending in a newline: Python's `$` matches before it, so the schema's patterns say (?!\n)
        ('path = "/price/range/max"', 'path = "/price/range/max"\nparams = { "limit\\n" = 5 }',
         "p.toml: rule tier-anomaly/range-max-above-min: params: 'limit\\n' is not a name: a lower-case letter, then"
         " lower-case letters, digits and _, on one line"),
        ('path = "/price/range/max"', 'path = "/price/range/max"\neffective_from = 2023-01-01\neffective_until = 2022-01-01',
         "p.toml: rule tier-anomaly/range-max-above-min: effective_until: effective_until must be after effective_from"),
        ('path = "/price/range/max"', 'path = "/price/range/max"\neffective_from = "soon"',
         "p.toml: rule tier-anomaly/range-max-above-min: effective_from: 'soon' is not a time (RFC 3339 or YYYY-MM-DD)"),
        ("[example_base.product]", "[example_base.produce]",
         "p.toml: example_base: unknown key(s) ('produce' was unexpected)"),
        ("[[rule]]", "[[rules]]", "p.toml: unknown key(s) ('rules' was unexpected)"),
        ('name = "ordered"', 'name = "ordered"\npatch.moq = "one"',
         None),  # a bad example document is caught by verify, not at load: see test below
    ],
)
def test_bad_policy_message(tmp_path: Path, old: str, new: str, message: str | None) -> None:
    """Each mistake an analyst can make is reported with the file, the rule id and the key."""
    assert old in VALID
    if message is None:
        (tmp_path / "p.toml").write_text(VALID.replace(old, new, 1), "utf-8")
        pack = checker.load_policies([tmp_path], bundled=False)
        failures = checker.verify(pack)
        assert ['/moq: "one" is not a whole number from 1 to 1,000,000,000,000'] == [f.detail.split(": ", 1)[1] for f in failures]
        return
    actual = load(tmp_path, VALID.replace(old, new, 1))
    assert actual.startswith(message), actual


def test_not_toml(tmp_path: Path) -> None:
    """A file that is not TOML names the line."""
    assert "p.toml: not valid TOML: Expected '=' after a key in a key/value pair (at line 1, column 5)" == load(
        tmp_path, "rule\n"
    )


def test_duplicate_rule_in_one_file(tmp_path: Path) -> None:
    """Two rules with one id in one file is a mistake, not a replacement."""
    text = VALID + VALID.split("[[rule]]", 1)[1].join(["\n[[rule]]", ""])
    assert "p.toml: rule tier-anomaly/range-max-above-min: the same rule id is also in this file" == load(
        tmp_path, text
    )


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    """--policies naming nothing fails clearly."""
    with pytest.raises(checker.PolicyError) as caught:
        checker.load_policies([tmp_path / "nope"])
    assert f"{tmp_path / 'nope'}: no such policy file or folder" == str(caught.value)


def test_a_team_pack_replaces_a_bundled_rule_by_id(tmp_path: Path) -> None:
    """A rule with a bundled id replaces it: here a bait threshold of 50 % clears the linen dress."""
    bundled = (Path(__file__).parent.parent / "policies" / "tier-anomaly.toml").read_text("utf-8")
    start = bundled.index('[[rule]]\nid = "tier-anomaly/bait-tier"')
    base = bundled[: bundled.index("[[rule]]")]
    rule = bundled[start:].replace("max_drop = 0.40", "max_drop = 0.50")
    rule = rule.replace('name = "linen dress', 'expect_ignored = 1\nname = "linen dress', 0)
    rule = rule.split('[[rule.example]]\nname = "linen dress')[0] + '[[rule.example]]\nname = "75 % lower"\nexpect = "fail"\npatch.price.tiers = [ { min_qty = 100, price = "20.00" }, { min_qty = 1000, price = "5.00" } ]\n'
    (tmp_path / "tier-anomaly.toml").write_text(base + rule, "utf-8")
    pack = checker.load_policies([tmp_path])
    assert len(checker.load_policies().pack.rules) == len(pack.pack.rules)
    assert f"{tmp_path}/tier-anomaly.toml" == pack.pack.rule("tier-anomaly/bait-tier").file
    assert () == checker.check([LINEN], policies=pack).findings
    assert 1 == len(checker.check([LINEN]).findings)


def test_cli_reports_a_bad_policy_with_exit_2(tmp_path: Path) -> None:
    """The CLI prints the policy error on stderr and exits 2, checking nothing."""
    (tmp_path / "p.toml").write_text(VALID.replace('severity = "error"', 'severity = "fatal"'), "utf-8")
    product = write_json(tmp_path / "docs" / "p.json", doc(SWEATER))
    result = compliance("scan", str(product), "--policies", str(tmp_path))
    assert 2 == result.returncode
    assert "" == result.stdout
    assert result.stderr.startswith(
        f"compliance: bad policy: {tmp_path}/p.toml: rule tier-anomaly/range-max-above-min: severity: 'fatal' is not"
    )


def test_one_rule_id_in_two_files_of_a_folder(tmp_path: Path) -> None:
    """Within one folder the same id twice is a mistake (only a later folder replaces a rule)."""
    (tmp_path / "a.toml").write_text(VALID, "utf-8")
    (tmp_path / "b.toml").write_text(VALID, "utf-8")
    with pytest.raises(checker.PolicyError) as caught:
        checker.load_policies([tmp_path], bundled=False)
    assert f"{tmp_path}/b.toml: rule tier-anomaly/range-max-above-min: the same rule id is also in {tmp_path}/a.toml" == str(caught.value)


@pytest.mark.parametrize("text, problem", [
    ("name = 'x'\nversion = [", "not valid TOML: "),
    ("name = 1", "a pack.toml holds name and version, as text"),
    ('name = "x\\nimport os"', "name: 'x\\nimport os' is not one line of text"),
    ('name = "x"\nversion = "1\\r2"', "version: '1\\r2' is not one line of text"),
])
def test_a_bad_pack_toml_is_a_policy_error(tmp_path: Path, text: str, problem: str) -> None:
    """A team pack's pack.toml is read and checked like a policy file, even beside the bundled pack."""
    (tmp_path / "p.toml").write_text(VALID, "utf-8")
    (tmp_path / "pack.toml").write_text(text, "utf-8")
    with pytest.raises(checker.PolicyError) as caught:
        checker.load_policies([tmp_path])
    assert str(caught.value).startswith(f"{tmp_path}/pack.toml: {problem}")


def test_a_pack_name_never_becomes_code(tmp_path: Path) -> None:
    """A pack's name and version are written into the generated module's first line, as literals: a name that
    ends that line and goes on with Python (a third-party pack's) is text there, and runs nothing. The
    loader refuses such a name (above); the compiler, given one all the same, keeps it in its comment."""
    from checker.policy.compiler import compile_pack
    from checker.policy.model import Pack

    (tmp_path / "p.toml").write_text(VALID, "utf-8")
    pack = checker.load_policies([tmp_path], bundled=False).pack
    name = "x\nraise SystemExit('the name ran')\n#"
    compiled = compile_pack(Pack(pack.rules, pack.content_hash, name, "1\r2"))
    first, second = compiled.source.split("\n", 2)[:2]
    assert first.startswith('# Generated from policy pack "x\\nraise SystemExit(') and second == ""


def test_a_deeply_nested_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    """TOML nested thousands deep fails to load with a message, not a crash."""
    assert "p.toml: nested too deeply" == load(tmp_path, "x = " + "[" * 5000 + "]" * 5000)


def test_file_level_params_are_shared_and_a_rule_may_override_them(tmp_path: Path) -> None:
    """[params] at the top of a file reach every rule of the file that names them; a rule's own value wins."""
    text = VALID.replace('[[rule]]', '[params]\nlimit = 1\nunused = 2\n\n[[rule]]', 1).replace(
        'require = "price.range.max >= price.range.min"', 'require = "price.range.max >= price.range.min * limit"')
    (tmp_path / "p.toml").write_text(text, "utf-8")
    pack = checker.load_policies([tmp_path], bundled=False)
    assert {"limit": 1} == dict(pack.pack.rules[0].params)
    assert [] == [str(f) for f in checker.verify(pack)]
    (tmp_path / "p.toml").write_text(text.replace('path = "/price/range/max"', 'path = "/price/range/max"\nparams = { limit = 3 }'), "utf-8")
    pack = checker.load_policies([tmp_path], bundled=False)
    assert {"limit": 3} == dict(pack.pack.rules[0].params)
    assert ["tier-anomaly/range-max-above-min"] == [f.rule for f in checker.check(
        [{"kind": "product", "id": "P", "merchant_id": "M", "listing_type": "rts", "moq": 1,
          "price": {"mode": "range", "range": {"min": "1", "max": "2"}}}], policies=pack).findings]
