"""The scan's progress bar: on stderr when it is a terminal and the report goes elsewhere; never on a pipe,
never over a report written to the same terminal. Real terminals (pseudo-terminals) and a real process."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

ARGS = ["scan", str(ROOT / "fixtures"), "--as-of", "2022-12-28"]


def run(args: list[str], *, stdout_tty: bool, stderr_tty: bool, tmp_path: Path) -> tuple[int, str, str]:
    """Run compliance with stdout/stderr on a pseudo-terminal or a file; (exit, stdout text, stderr text)."""
    master, slave = pty.openpty()
    out_file, err_file = tmp_path / "out", tmp_path / "err"
    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "checker", *args], stdin=subprocess.DEVNULL,
                                   stdout=slave if stdout_tty else out, stderr=slave if stderr_tty else err,
                                   cwd=ROOT, env=dict(os.environ, COLUMNS="120"))
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the process is done with it
                break
            if not chunk:
                break
            seen += chunk
        code = process.wait(120)
        os.close(master)
    terminal = seen.decode(errors="replace")
    stdout = terminal if stdout_tty else out_file.read_text(encoding="utf-8")
    stderr = terminal if stderr_tty else err_file.read_text(encoding="utf-8")
    return code, stdout, stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_terminal_sees_the_bar_when_the_report_goes_to_a_file(tmp_path: Path, jobs: str) -> None:
    code, _, stderr = run([*ARGS, "--format", "json", "-o", str(tmp_path / "r.json"), "--jobs", jobs],
                          stdout_tty=True, stderr_tty=True, tmp_path=tmp_path)
    assert 1 == code
    assert "scanning" in stderr and "100%" in stderr
    assert "104 documents, " in stderr and "/s" in stderr
    assert (tmp_path / "r.json").read_text(encoding="utf-8").startswith('{\n  "findings"')


def test_no_bar_on_a_pipe(tmp_path: Path) -> None:
    code, stdout, stderr = run([*ARGS, "--format", "json"], stdout_tty=False, stderr_tty=False, tmp_path=tmp_path)
    assert (1, "") == (code, stderr)
    assert stdout.startswith('{\n  "findings"')


def test_no_bar_over_a_report_on_the_same_terminal(tmp_path: Path) -> None:
    code, terminal, _ = run([*ARGS, "--format", "json"], stdout_tty=True, stderr_tty=True, tmp_path=tmp_path)
    assert 1 == code
    assert "scanning" not in terminal
    assert terminal.lstrip().startswith("{")


def test_no_bar_when_stderr_is_a_file_even_with_stdout_a_terminal(tmp_path: Path) -> None:
    code, _, stderr = run([*ARGS, "--format", "jsonl"], stdout_tty=True, stderr_tty=False, tmp_path=tmp_path)
    assert (1, "") == (code, stderr)


@pytest.mark.parametrize("merchant_first", [True, False])
def test_the_bar_says_merchants_only_while_they_are_looked_up(tmp_path: Path, merchant_first: bool) -> None:
    """A one-core scan looks its merchants up only when a listing names one it has not met (here: the
    merchant after its listing); the bar says so meanwhile, and not otherwise."""
    from .conftest import LINEN, doc, write_jsonl

    merchant = {"kind": "merchant", "id": "M-1", "name": "Qingdao Kettles", "gold": True, "star_level": 1,
                "primary_industry": "apparel", "epr": []}
    listing = doc(LINEN, merchant_id="M-1")
    catalog = tmp_path / "catalog.jsonl"
    write_jsonl(catalog, [merchant, listing] if merchant_first else [listing, merchant])
    code, _, stderr = run(["scan", str(catalog), "--as-of", "2022-12-28", "--jobs", "1", "-o",
                           str(tmp_path / "r.txt")], stdout_tty=True, stderr_tty=True, tmp_path=tmp_path)
    assert code in (0, 1) and "100%" in stderr
    assert ("merchants" in stderr) == (not merchant_first)
