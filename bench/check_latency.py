"""Median wall time of `compliance check` on one product, interpreter start included.

Usage: python bench/check_latency.py [--runs 20] [FILE]

The pre-publish hook of a listing tool runs the command once per publish, so
what counts is the whole process: start Python, import, load the compiled
pack from its cache, validate, check, print. Next to it, in the same run, the
floor it is measured against: `python -c pass` and importing the libraries
the command needs (click, attrs, orjson). These machines are noisy: compare
the ratios, and rerun before believing a change of a few milliseconds. The
package's bytecode is compiled first, as `pip install` does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


DEFAULT_FILE = ROOT / "fixtures" / "products" / "linen-dress.json"


def timed(argv: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall times in ms of `runs` runs of `argv`, whole process (start of Python included)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append((time.perf_counter() - start) * 1000)
    return times


def compile_bytecode() -> None:
    """An installed package has its bytecode compiled by pip; a source checkout under
    PYTHONDONTWRITEBYTECODE=1 (set on these machines) would recompile every module on every
    run. Compile it once, as an install would."""
    import checker

    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.dirname(checker.__file__)], check=True)


def compliance_command() -> list[str]:
    """The console script of this interpreter's environment, not whichever is first on PATH."""
    exe = os.path.join(os.path.dirname(sys.executable), "compliance")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "checker"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE))
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    compile_bytecode()
    cache = tempfile.mkdtemp(prefix="compliance-bench-cache-")
    env = dict(os.environ, COMPLIANCE_CACHE_DIR=cache)
    check = [*compliance_command(), "check", args.file, "--as-of", "2022-12-28"]
    first = timed(check, 1, env)[0]  # compiles the pack and fills the cache
    rows = [
        ("python -c pass", timed([sys.executable, "-c", "pass"], args.runs, env)),
        ("import click, attrs, orjson", timed([sys.executable, "-c", "import click, attrs, orjson"], args.runs, env)),
        ("compliance check (cached pack)", timed(check, args.runs, env)),
    ]
    shutil.rmtree(cache, ignore_errors=True)
    floor = statistics.median(rows[0][1])
    print(f"compliance check, one product ({Path(args.file).name}), median of {args.runs} runs")
    print(f"{'':34} {'median ms':>10} {'min ms':>8} {'x python':>9}")
    for name, times in rows:
        median = statistics.median(times)
        print(f"{name:34} {median:10.1f} {min(times):8.1f} {median / floor:9.1f}")
    print(f"{'first run (compiles the pack)':34} {first:10.1f}")
    target = statistics.median(rows[2][1])
    print(f"\ntarget: median under 100 ms (aim 50 ms): {'met' if target < 100 else 'NOT met'} ({target:.1f} ms)")


if __name__ == "__main__":
    main()
