"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit in temporary git repositories.

pre-commit installs the hooks' repository as it is committed, so the tests
commit a copy of this working tree (its tracked and untracked, not ignored,
files: the hook file and the code under test as they are now) into a
temporary repository and point pre-commit at that. `pre-commit try-repo`
always builds its environment in a fresh temporary store (it ignores
PRE_COMMIT_HOME), so it runs once; the other tests use a
.pre-commit-config.yaml, as a listings repository would, with one
PRE_COMMIT_HOME for the module: the hook's virtualenv (pip installs the
project from PyPI packages) is built once there.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None,
    reason="git is not installed: pre-commit fetches hooks from git repositories and runs in one",
)

PRODUCTS = ROOT / "fixtures" / "products"
INSTALL_TIMEOUT = 900  # building the hook's virtualenv: pip, hatchling, the project and its dependencies
RUN_TIMEOUT = 180

#: the rule of docs/policies.md, for the compliance-verify hook
POLICY = """\
[example_base.product]
kind = "product"
id = "EX-1"
merchant_id = "M-1"
listing_type = "rts"
moq = 100
price = { mode = "tiered", tiers = [
  { min_qty = 100, max_qty = 999, price = "26.90" },
  { min_qty = 1000, price = "25.90" },
] }

[[rule]]
id = "tier-anomaly/too-many-tiers"
family = "tier-anomaly"
severity = "error"
penalty = "publishing-anomaly"
kind = "product"
source = "RULES.md 3"
title = { en = "At most 4 price tiers", zh = "阶梯价格不超过4个区间" }
description.en = "The listing form allows at most 4 quantity tiers."
description.zh = "发品表单最多可设置4个区间价格。"
when = 'price.mode == "tiered"'
require = "count(price.tiers) <= max_tiers"
path = "/price/tiers"
params = { max_tiers = 4 }
message.en = "The listing has {count(price.tiers)} price tiers; at most {max_tiers} are allowed."
message.zh = "该商品设置了{count(price.tiers)}个阶梯价格区间，最多允许{max_tiers}个。"
remedy.en = "Merge the tiers into at most {max_tiers} quantity ranges."
remedy.zh = "将阶梯合并为不超过{max_tiers}个数量区间。"

[[rule.example]]
name = "two tiers"
expect = "pass"

[[rule.example]]
name = "five tiers"
expect = "fail"
paths = ["/price/tiers"]
patch.price.tiers = [
  { min_qty = 100, price = "5" }, { min_qty = 200, price = "4" }, { min_qty = 300, price = "3" },
  { min_qty = 400, price = "3" }, { min_qty = 500, price = "3" },
]
"""


def git(cwd: Path, *args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=check, timeout=RUN_TIMEOUT
    )


def pre_commit(cwd: Path, *args: str, env: dict[str, str], timeout: int = RUN_TIMEOUT) -> tuple[int, str]:
    """`python -m pre_commit ARGS` in `cwd`: (exit status, stdout and stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        check=False,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout


def status(output: str, name: str) -> str:
    """The result pre-commit printed for hook `name`: Passed, Failed or (no files to check)Skipped."""
    found = re.findall(rf"^{re.escape(name)}\.+(Passed|Failed|\(no files to check\)Skipped)$", output, re.MULTILINE)
    assert len(found) == 1, output
    return found[0]


def new_repo(path: Path, env: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", env=env)
    return path


def commit_all(path: Path, env: dict[str, str], message: str = "snapshot") -> str:
    git(path, "add", "-A", env=env)
    git(path, "commit", "-q", "--no-verify", "-m", message, env=env)
    return git(path, "rev-parse", "HEAD", env=env).stdout.strip()


def head(path: Path, env: dict[str, str]) -> str:
    return git(path, "rev-parse", "HEAD", env=env).stdout.strip()


def config(repo: Path, rev: str, *hooks: str) -> str:
    """A .pre-commit-config.yaml using this project's hooks (`hooks`: YAML items, indented)."""
    return f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n" + "".join(hooks)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of every git and pre-commit command: private git config, PRE_COMMIT_HOME, pack cache."""
    if importlib.util.find_spec("pre_commit") is None:
        pytest.fail("pre-commit is not installed: it comes with the dev extra (pip install -e '.[dev]')")
    base = tmp_path_factory.mktemp("pre-commit")
    (base / "gitconfig").write_text("", encoding="utf-8")
    out = {
        k: v
        for k, v in os.environ.items()
        # a test run from inside a git hook (GIT_DIR, GIT_INDEX_FILE ...) or with hooks skipped
        if not k.startswith(("GIT_", "PRE_COMMIT")) and k != "SKIP"
    }
    out.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(base / "gitconfig"),
        GIT_AUTHOR_NAME="Listing Team",
        GIT_AUTHOR_EMAIL="listings@example.com",
        GIT_COMMITTER_NAME="Listing Team",
        GIT_COMMITTER_EMAIL="listings@example.com",
        PRE_COMMIT_HOME=str(base / "home"),
        PRE_COMMIT_COLOR="never",
        COMPLIANCE_CACHE_DIR=str(tmp_path_factory.getbasetemp() / "pack-cache"),
    )
    return out


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """A committed copy of this working tree (path, commit): what pre-commit installs the hooks from."""
    assert (ROOT / ".pre-commit-hooks.yaml").is_file()
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard", env=env).stdout
    dest = tmp_path_factory.mktemp("hooks-repo")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out, as it is now
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name, follow_symlinks=False)
    new_repo(dest, env)
    return dest, commit_all(dest, env, "the working tree under test")


def listings_repo(path: Path, env: dict[str, str]) -> Path:
    """A listings repository: a clean listing, a bait tier, invalid JSON, JSON Lines, gzip, non-snapshot JSON."""
    new_repo(path, env)
    (path / "listings").mkdir()
    shutil.copy(PRODUCTS / "sweater-dress.json", path / "listings" / "sweater-dress.json")  # one advice finding
    shutil.copy(PRODUCTS / "linen-dress.json", path / "listings" / "linen-dress.json")  # a bait tier: an error
    shutil.copy(PRODUCTS / "tier-tables.jsonl", path / "listings" / "tier-tables.jsonl")
    (path / "listings" / "linen-dress.json.gz").write_bytes(gzip.compress((PRODUCTS / "linen-dress.json").read_bytes()))
    (path / "listings" / "broken.json").write_text('{"kind": "product", "id": ', encoding="utf-8")
    (path / "package.json").write_text('{"name": "listing-tools", "version": "1.0.0"}\n', encoding="utf-8")
    (path / ".vscode").mkdir()
    (path / ".vscode" / "settings.json").write_text('{"editor.tabSize": 2}\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def listings(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str], hooks_repo: tuple[Path, str]
) -> Path:
    """The listings repository with the files staged and the hooks configured and installed (once)."""
    repo = listings_repo(tmp_path_factory.mktemp("listings"), env)
    (repo / ".pre-commit-config.yaml").write_text(config(*hooks_repo, "      - id: compliance-check\n"), "utf-8")
    git(repo, "add", "-A", env=env)
    code, output = pre_commit(repo, "install-hooks", env=env, timeout=INSTALL_TIMEOUT)
    assert 0 == code, output
    return repo


def test_try_repo_installs_the_hook_and_passes_a_clean_listing(
    tmp_path: Path, env: dict[str, str], hooks_repo: tuple[Path, str]
) -> None:
    """`pre-commit try-repo REPO compliance-check`: pip installs the project, the checker runs, the advice passes."""
    repo = listings_repo(tmp_path / "listings", env)
    git(repo, "add", "-A", env=env)
    code, output = pre_commit(
        repo, "try-repo", str(hooks_repo[0]), "compliance-check", "--verbose",
        "--files", "listings/sweater-dress.json", env=env, timeout=INSTALL_TIMEOUT,
    )
    assert hooks_repo[1] in output  # the committed copy, not a shadow commit of another state
    assert "Passed" == status(output, "compliance check"), output
    assert 0 == code, output
    # the checker's own report: the sweater dress was read and checked, its advice does not fail (--fail-on error)
    assert "listings/sweater-dress.json  product 1600000000001" in output
    assert "quality/customization-service" in output
    assert "1 document(s) checked, 1 finding(s) (1 advice), 0 unreadable or invalid" in output


@pytest.mark.parametrize(
    ("files", "expected_status", "expected_code", "expected_output"),
    [
        pytest.param(
            ["listings/sweater-dress.json"], "Passed", 0,
            ["quality/customization-service", "1 document(s) checked, 1 finding(s) (1 advice)"],
            id="advice-only-passes",
        ),
        pytest.param(
            ["listings/linen-dress.json"], "Failed", 1,
            ["- exit code: 1", "listings/linen-dress.json  product 1600000000002", "tier-anomaly/bait-tier",
             "/price/tiers/3/price"],
            id="bait-tier-fails",
        ),
        pytest.param(
            ["listings/broken.json"], "Failed", 1,
            ["- exit code: 2", "Could not be checked", "listings/broken.json:1: not valid JSON",
             "0 document(s) checked, 0 finding(s) (no findings), 1 unreadable or invalid"],
            id="invalid-json-fails",
        ),
        pytest.param(
            ["listings/tier-tables.jsonl"], "Failed", 1,
            ["- exit code: 1", "listings/tier-tables.jsonl:1", "tier-anomaly/too-many-tiers"],
            id="json-lines-checked",
        ),
        pytest.param(
            ["listings/linen-dress.json.gz"], "Failed", 1,
            ["- exit code: 1", "listings/linen-dress.json.gz  product 1600000000002", "tier-anomaly/bait-tier"],
            id="gzip-checked",
        ),
        pytest.param(
            ["package.json", ".vscode/settings.json"], "(no files to check)Skipped", 0, [],
            id="tool-json-left-out",
        ),
    ],
)
def test_the_check_hook_on_files(
    listings: Path,
    env: dict[str, str],
    files: list[str],
    expected_status: str,
    expected_code: int,
    expected_output: list[str],
) -> None:
    """`pre-commit run compliance-check --files F`: pre-commit's status and exit, the checker's report in its output."""
    code, output = pre_commit(listings, "run", "compliance-check", "--verbose", "--files", *files, env=env)
    assert expected_status == status(output, "compliance check"), output
    assert expected_code == code, output
    for text in expected_output:
        assert text in output, output


def test_all_files_are_checked_in_one_run_and_the_worst_status_wins(listings: Path, env: dict[str, str]) -> None:
    """--all-files: every staged snapshot file, in one `compliance check` (require_serial), none of the tool JSON."""
    code, output = pre_commit(listings, "run", "compliance-check", "--all-files", env=env)
    assert "Failed" == status(output, "compliance check"), output
    assert 1 == code, output
    assert "- exit code: 2" in output  # the invalid file's 2 outranks the findings' 1
    for text in (
        "listings/linen-dress.json  product", "listings/linen-dress.json.gz  product", "listings/tier-tables.jsonl:1",
        "listings/broken.json:1: not valid JSON",
    ):
        assert text in output, output
    assert "package.json" not in output and "settings.json" not in output, output
    summaries = re.findall(r"^\d+ document\(s\) checked, .*$", output, re.MULTILINE)
    assert 1 == len(summaries), output  # one process for all the files
    jsonl_documents = len((PRODUCTS / "tier-tables.jsonl").read_text("utf-8").splitlines())
    assert summaries[0].startswith(f"{3 + jsonl_documents} document(s) checked"), output
    assert summaries[0].endswith("1 unreadable or invalid, 0 rule check(s) not evaluated"), output


def test_git_commit_checks_the_changed_files_only(
    tmp_path: Path, env: dict[str, str], hooks_repo: tuple[Path, str], listings: Path
) -> None:
    """With `pre-commit install`, a commit adding a bait tier is refused; the fixed listing is committed;
    a bad file committed before (with --no-verify) is not checked again."""
    repo = new_repo(tmp_path / "listings", env)
    (repo / ".pre-commit-config.yaml").write_text(config(*hooks_repo, "      - id: compliance-check\n"), "utf-8")
    (repo / "listings").mkdir()
    (repo / "listings" / "broken.json").write_text("{", encoding="utf-8")
    first = commit_all(repo, env, "before the hooks")
    code, output = pre_commit(repo, "install", env=env)
    assert 0 == code, output

    linen = (PRODUCTS / "linen-dress.json").read_text("utf-8")
    assert linen.count('"10.00"') == 1
    (repo / "listings" / "linen-dress.json").write_text(linen, encoding="utf-8")
    git(repo, "add", "listings/linen-dress.json", env=env)
    refused = git(repo, "commit", "-m", "a new listing", env=env, check=False)
    output = refused.stdout + refused.stderr
    assert 0 != refused.returncode, output
    assert "Failed" == status(output, "compliance check"), output
    assert "tier-anomaly/bait-tier" in output
    assert "broken.json" not in output, output
    assert first == head(repo, env)

    (repo / "listings" / "linen-dress.json").write_text(linen.replace('"10.00"', '"12.00"'), encoding="utf-8")
    git(repo, "add", "listings/linen-dress.json", env=env)
    accepted = git(repo, "commit", "-m", "a new listing, tier 4 fixed", env=env, check=False)
    output = accepted.stdout + accepted.stderr
    assert 0 == accepted.returncode, output
    assert "Passed" == status(output, "compliance check"), output
    assert first != head(repo, env)
    assert "listings/linen-dress.json" == git(repo, "show", "--name-only", "--format=", "HEAD", env=env).stdout.strip()


def test_the_verify_hook_on_a_policy_pack(
    tmp_path: Path, env: dict[str, str], hooks_repo: tuple[Path, str], listings: Path
) -> None:
    """compliance-verify with `args: [pack/]`: a pack whose examples hold passes, one that breaks its own example
    fails naming it, and the hook without its folder fails."""
    repo = new_repo(tmp_path / "policies", env)
    (repo / "pack").mkdir()
    (repo / "pack" / "tiers.toml").write_text(POLICY, encoding="utf-8")
    (repo / "README.md").write_text("policies\n", encoding="utf-8")
    configured = config(*hooks_repo, "      - id: compliance-verify\n        args: [pack/]\n        files: ^pack/\n")
    (repo / ".pre-commit-config.yaml").write_text(configured, encoding="utf-8")
    git(repo, "add", "-A", env=env)

    code, output = pre_commit(repo, "run", "compliance-verify", "--verbose", "--files", "pack/tiers.toml", env=env)
    assert "Passed" == status(output, "compliance verify"), output
    assert 0 == code, output
    assert re.search(r"All \d+ examples of \d+ rules hold", output), output

    code, output = pre_commit(repo, "run", "compliance-verify", "--files", "README.md", env=env)
    assert "(no files to check)Skipped" == status(output, "compliance verify"), output
    assert 0 == code, output

    # max_tiers = 5: the rule's own failing example (five tiers) no longer fails
    assert "params = { max_tiers = 4 }" in POLICY
    broken = POLICY.replace("params = { max_tiers = 4 }", "params = { max_tiers = 5 }")
    (repo / "pack" / "tiers.toml").write_text(broken, encoding="utf-8")
    code, output = pre_commit(repo, "run", "compliance-verify", "--files", "pack/tiers.toml", env=env)
    assert "Failed" == status(output, "compliance verify"), output
    assert 1 == code, output
    assert "- exit code: 1" in output
    assert "FAIL tier-anomaly/too-many-tiers: example 'five tiers' (expect fail)" in output

    (repo / ".pre-commit-config.yaml").write_text(config(*hooks_repo, "      - id: compliance-verify\n"), "utf-8")
    code, output = pre_commit(repo, "run", "compliance-verify", "--files", "pack/tiers.toml", env=env)
    assert "Failed" == status(output, "compliance verify"), output
    assert 1 == code, output
    assert "Option '--policies' requires an argument" in output
