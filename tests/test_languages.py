"""Every rule speaks both languages: English and Chinese title, description, message and remedy, and
a policy that lacks one does not load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import checker
from checker.policy.model import PolicyError

CJK = re.compile(r"[\u4e00-\u9fff]")
PACK = checker.load_policies().pack


@pytest.mark.parametrize("rule", PACK.rules, ids=lambda r: r.id)
def test_no_rule_lacks_either_language(rule) -> None:  # type: ignore[no-untyped-def]
    for field in ("title", "description", "message", "remedy"):
        text = getattr(rule, field)
        assert text.en.strip() and text.zh.strip(), f"{rule.id} {field}"
        assert CJK.search(text.zh), f"{rule.id} {field}.zh has no Chinese: {text.zh!r}"
        assert not CJK.fullmatch(text.en), f"{rule.id} {field}.en is Chinese"


def test_a_policy_without_its_chinese_message_does_not_load(tmp_path: Path) -> None:
    source = (Path(__file__).resolve().parent.parent / "policies" / "tier-anomaly.toml").read_text(encoding="utf-8")
    broken = re.sub(r'(?m)^message\.zh = .*\n', "", source, count=1)
    assert broken != source
    (tmp_path / "tier-anomaly.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(PolicyError, match="zh"):
        checker.load_policies([tmp_path], bundled=False)


def test_a_chinese_scan_reports_in_chinese() -> None:
    root = Path(__file__).resolve().parent.parent
    report = checker.scan([root / "fixtures"], as_of="2022-12-28", lang="zh")
    assert report.findings
    assert all(CJK.search(f.message) and CJK.search(f.remedy) for f in report.findings)
