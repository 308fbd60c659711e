"""The `compliance` command: a thin layer over the Python API.

Imports beyond click stay inside the commands, so `compliance check` pays
only for what it runs (verify with `python -X importtime`).
"""

from __future__ import annotations

import contextlib
import errno
import sys
from typing import Any, Callable, Iterator

import click

from . import __version__
from .formats import FORMATS
from .model import EXIT_UNCHECKED, FAIL_ON, ScanStopped
from .radar import DEFAULT_LEDGER


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from .values import BadValue, parse_time

    from .values import format_time

    try:
        when = parse_time(value)
        format_time(when)  # within the years platform time can show
    except (BadValue, OverflowError):
        raise click.BadParameter(
            f"{value!r} is not a time; give RFC 3339 (2022-12-27T08:00:00Z) or a date (2022-12-27, platform time)"
        ) from None
    return when


def _policy_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--no-bundled",
        is_flag=True,
        help="Use only the --policies folders, not the bundled platform pack.",
    )(f)
    return click.option(
        "--policies",
        "policy_dirs",
        multiple=True,
        type=click.Path(exists=True),
        metavar="DIR",
        help="A policy folder or file to add to the bundled pack (a rule with the same id replaces it). Repeatable.",
    )(f)


def _check_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="text", show_default=True,
                         help="Output format."),
            click.option("--fail-on", type=click.Choice(list(FAIL_ON)), default="error", show_default=True,
                         help="Exit 1 when a finding is at or above this severity."),
            click.option("--as-of", callback=_as_of, metavar="TIME",
                         help="Judge listings as of this time (default now; orders are judged at their created_at)."),
            click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
                         help="Language of messages and remedies."),
            click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
                         help="Write the report to FILE instead of standard output."),
            click.option("--strict", is_flag=True, help="Rules not evaluated (missing data) also exit 2."),
            click.option("--waivers", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                         help="Accepted findings (TOML: rule, document, path, reason, owner, expires): reported as "
                              "waived until they expire, not counted for the exit status."),
            click.option("--baseline", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                         help="Findings recorded by `compliance baseline`: reported as such, not counted for the "
                              "exit status (only new findings fail)."),
        ]
    ):
        f = option(f)
    return _policy_options(f)


def _load(policy_dirs: tuple[str, ...], no_bundled: bool) -> Any:
    from .policy.model import PolicyError

    from . import load_policies

    if no_bundled and not policy_dirs:
        raise click.UsageError("--no-bundled needs at least one --policies folder")
    try:
        return load_policies(policy_dirs, bundled=not no_bundled)
    except PolicyError as e:
        click.echo(f"compliance: bad policy: {e}", err=True)
        sys.exit(EXIT_UNCHECKED)


def _emit(report: Any, fmt: str, lang: str, output: str | None, pack: Any = None) -> None:
    from .formats import render

    color = output is None and fmt == "text" and sys.stdout.isatty()
    text = render(report, fmt, lang=lang, color=color, pack=pack)
    if output:
        with _naming(output), open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compliance")
def cli() -> None:
    """Check marketplace listings, quotes and orders against the platform's rules.

    Exit status: 0 nothing at or above --fail-on; 1 findings at or above it;
    2 something could not be checked (bad input, bad policy, bad option).
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@_check_options
@click.option("--jobs", "-j", type=click.IntRange(0), default=0, show_default="0: every core",
              help="Worker processes (1: no workers). The output is the same, in the same order.")
@click.option("--ledger", is_flag=False, flag_value=DEFAULT_LEDGER, default=None, metavar="[FILE]",
              type=click.Path(dir_okay=False),
              help=f"Record the penalised findings as radar tasks in this SQLite ledger (--ledger alone: "
                   f"./{DEFAULT_LEDGER}); --as-of is its clock. See: compliance radar.")
def scan(paths: tuple[str, ...], fmt: str, fail_on: str, as_of: Any, lang: str, output: str | None,
         strict: bool, waivers: str | None, baseline: str | None, policy_dirs: tuple[str, ...], no_bundled: bool,
         jobs: int, ledger: str | None) -> None:
    """Check every snapshot in files and folders (.json, .jsonl, .ndjson, .gz; "-" is stdin)."""
    from .engine import reference_validators, scan_paths
    from . import _as_of as default_as_of

    import gc

    from .formats import writer

    exclude = _not_input(paths, output)
    compiled = _load(policy_dirs, no_bundled)
    when = as_of or default_as_of(None)
    excuses = _excuses(waivers, baseline, compiled, when)
    radar = _open_radar(ledger, compiled.dirs, when) if ledger else None
    observer = radar[2] if radar else None
    # What is loaded now lives as long as the scan: out of the collector's sight, so that its passes
    # over the old generation do not grow with it (documents themselves are freed as they go).
    gc.freeze()
    # an unwritable -o fails before the scan; 64 KB at a time rather than 8 (a write every ~100 findings, not
    # ~13: 0.3-0.5 us a finding less)
    out = open(output, "w", encoding="utf-8", buffering=1 << 16) if output else sys.stdout
    with _naming(output):
        try:
            results = writer(fmt, out, lang=lang, color=output is None and fmt == "text" and sys.stdout.isatty(),
                             pack=compiled.pack)
            jobs = _jobs(jobs, paths)
            with _progress(paths, output) as progress:
                report = scan_paths(list(paths), compiled, as_of=when, lang=lang,
                                    validators=reference_validators(), observer=observer, sink=results, jobs=jobs,
                                    progress=progress, excuses=excuses, exclude=exclude)
            code = report.exit_code(fail_on, strict)
            if radar:
                code = max(code, _record(radar, compiled, report))
            results.end(report)
        finally:
            if output:
                out.close()
    sys.exit(code)


@contextlib.contextmanager
def _naming(output: str | None) -> Iterator[None]:
    """An error writing the report names its file: 'No space left on device: report.jsonl' (the OSError of a
    write has no file name; main() prints it)."""
    try:
        yield
    except OSError as e:
        if output and e.filename is None and e.errno in _WRITE_ERRORS:
            e.filename = output
        raise


_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def _not_input(paths: tuple[str, ...], output: str | None) -> frozenset[str]:
    """The report's own file (-o), by real path, for the scan to leave out of the folders it reads: `scan DIR
    -o DIR/report.jsonl` read its report as it grew (errors by the thousand), or the report of the run
    before. Named as an input itself, it is refused (exit 2): opening it to write would empty it first."""
    import os

    if not output:
        return frozenset()
    target = os.path.realpath(output)
    for path in paths:
        if path != "-" and not os.path.isdir(path) and os.path.realpath(path) == target:
            click.echo(f"compliance: {output} is an input and the output (-o) both; write the report elsewhere",
                       err=True)
            sys.exit(EXIT_UNCHECKED)
    return frozenset({target})


def _progress(paths: tuple[str, ...], output: str | None) -> Any:
    """A progress bar on stderr (bytes read, documents/s, time left) when stderr is a terminal and the
    report does not go to the same terminal; else nothing. Yields the scan's `progress` callback or None.
    A scan reads its input once, and looks the merchants up only if a document needs one not met yet (the
    bar then stops at "merchants" while they are)."""
    import contextlib
    import os
    import time

    if "-" in paths or not sys.stderr.isatty() or (output is None and sys.stdout.isatty()):
        return contextlib.nullcontext(None)
    from .reading import walk

    size = 0
    for path in paths:
        for found in walk(path) if os.path.isdir(path) else [path]:
            if isinstance(found, str) and os.path.isfile(found):
                size += os.path.getsize(found)
    started = time.monotonic()

    def show(documents: int | None) -> str:
        if documents == -1:  # a one-core scan looking the merchants up (engine._scan_paths)
            return "merchants"
        if not documents:  # None: the first frame, before any progress
            return ""
        return f"{documents:,} documents, {documents / max(time.monotonic() - started, 1e-3):,.0f}/s"

    @contextlib.contextmanager
    def bar() -> Any:
        with click.progressbar(length=max(size, 1), label="scanning", file=sys.stderr, show_eta=True,
                               item_show_func=show) as shown:
            last = [0.0]

            def progress(done: int, documents: int) -> None:
                now = time.monotonic()
                shown.current_item = documents
                if now - last[0] >= 0.1:
                    last[0] = now
                    shown.update(min(done, size) - shown.pos)

            yield progress
            shown.update(size - shown.pos)
            shown.render_progress()  # the last count, even without a step left

    return bar()


def _excuses(waivers: str | None, baseline: str | None, compiled: Any, as_of: Any) -> Any:
    """The waivers and baseline of a scan, or exit 2 naming the file and the field."""
    if not waivers and not baseline:
        return None
    from .waivers import WaiverError, load_excuses

    try:
        return load_excuses(waivers, baseline, compiled.pack.rules, as_of)
    except WaiverError as e:
        click.echo(f"compliance: {e}", err=True)
        sys.exit(EXIT_UNCHECKED)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), metavar="FILE", required=True,
              help="The baseline file to write (JSON).")
@click.option("--as-of", callback=_as_of, metavar="TIME", help="Judge listings as of this time (default now).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="The language of the scans it will serve: several findings at one place are told apart by "
                   "their messages.")
@_policy_options
def baseline(paths: tuple[str, ...], output: str, as_of: Any, lang: str, policy_dirs: tuple[str, ...],
             no_bundled: bool) -> None:
    """Record today's findings, so that `scan --baseline FILE` fails only on new ones.

    A finding is recorded by rule, document id and JSON Pointer (not by file or line, which move).
    Exit status: 0 written; 2 something could not be read (the baseline is not written).
    """
    import orjson

    from .engine import reference_validators, scan_paths
    from .waivers import baseline_document
    from . import _as_of as default_as_of

    compiled = _load(policy_dirs, no_bundled)
    report = scan_paths(list(paths), compiled, as_of=as_of or default_as_of(None), lang=lang,
                        validators=reference_validators(), exclude=_not_input(paths, output))
    if report.errors:
        for error in report.errors[:10]:
            click.echo(f"compliance: {error}", err=True)
        click.echo(f"compliance: {len(report.errors)} document(s) could not be read; no baseline written", err=True)
        sys.exit(EXIT_UNCHECKED)
    with open(output, "wb") as f:
        f.write(orjson.dumps(baseline_document(report.findings, report.metadata), option=orjson.OPT_INDENT_2))
    click.echo(f"baseline {output}: {len(report.findings)} finding(s) of {report.documents} document(s)")


def _jobs(asked: int, paths: tuple[str, ...]) -> int:
    """--jobs 0: every core, when there is enough to read for workers to pay for their start."""
    import os

    if asked:
        return asked
    from .parallel import default_jobs
    from .reading import walk

    size, enough = 0, 4 << 20  # a worker's start (a fork, its share of the walk) costs what ~4 MB of reading does
    for path in paths:
        if path == "-":
            return 1
        for found in walk(path) if os.path.isdir(path) else [path]:  # a folder: walked until there is enough
            if isinstance(found, str) and os.path.isfile(found):
                size += os.path.getsize(found)
                if size >= enough:
                    return default_jobs()
    return 1


def _open_radar(path: str, dirs: tuple[str, ...], as_of: Any) -> tuple[Any, Any, Any]:
    """The ledger, the ladder and an observer for a scan, or exit 2 before reading anything."""
    from .policy.model import PolicyError
    from .radar.ladder import load_ladder
    from .radar.ledger import Ledger, LedgerError
    from .radar.observe import Observer

    try:
        ladder = load_ladder(dirs)
        ledger = Ledger(path)
        # before reading anything (record() checks again in its transaction); at the time of a recorded scan,
        # this may be that scan again, which record() tells once it is read
        ledger.check_clock(as_of, replay=True)
    except (PolicyError, LedgerError) as e:
        click.echo(f"compliance: {e}", err=True)
        sys.exit(EXIT_UNCHECKED)
    return ledger, ladder, Observer(as_of)


def _record(radar: tuple[Any, Any, Any], compiled: Any, report: Any) -> int:
    """Record the scan in the ledger; the exit status it adds (2 when the ledger refused it, or could not take
    it). Never raises: the scan's report is still to be finished."""
    from .radar.ledger import LedgerError

    ledger, ladder, observer = radar
    rules = [r.id for r in compiled.pack.rules]
    observation = observer.observation(rules, pack_hash=compiled.pack.content_hash, documents=report.documents)
    try:
        with ledger:
            done = ledger.record(observation, ladder)
    except LedgerError as e:  # refused, or SQLite's error said as what is wrong with the file
        click.echo(f"compliance: radar ledger not updated: {e}", err=True)
        return EXIT_UNCHECKED
    except Exception as e:  # noqa: BLE001 - a defect of the radar must not cut the scan's report short
        click.echo(f"compliance: radar ledger not updated: internal error: {type(e).__name__}: {e}; please report "
                   "it", err=True)
        return EXIT_UNCHECKED
    if done.already:
        click.echo(f"radar ledger {ledger.path}: this scan was already recorded; nothing changed", err=True)
    else:
        click.echo(f"radar ledger {ledger.path}: scan {done.scan} recorded, {len(done.opened)} task(s) opened, "
                   f"{len(done.rectified)} rectified (compliance radar --ledger {ledger.path})", err=True)
    return 0


@cli.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE|-...")
@_check_options
def check(files: tuple[str, ...], fmt: str, fail_on: str, as_of: Any, lang: str, output: str | None,
          strict: bool, waivers: str | None, baseline: str | None, policy_dirs: tuple[str, ...],
          no_bundled: bool) -> None:
    """Check one or a few documents before publishing (files, or "-" for stdin).

    The same checks as scan, tuned to start fast. Folders are for scan.
    """
    import os

    for name in files:
        if name != "-" and os.path.isdir(name):
            raise click.UsageError(f"{name} is a folder; check takes files (use: compliance scan {name})")
    _not_input(files, output)  # the report would overwrite the listing it is about
    from .engine import scan_paths
    from . import _as_of as default_as_of

    compiled = _load(policy_dirs, no_bundled)
    when = as_of or default_as_of(None)
    excuses = _excuses(waivers, baseline, compiled, when) if waivers or baseline else None
    report = scan_paths(list(files), compiled, as_of=when, lang=lang, excuses=excuses)
    _emit(report, fmt, lang, output, compiled.pack)
    sys.exit(report.exit_code(fail_on, strict))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Language of the titles.")
@_policy_options
def policies(fmt: str, lang: str, policy_dirs: tuple[str, ...], no_bundled: bool) -> None:
    """List the rules of the pack: id, family, severity, penalty, kind, title."""
    compiled = _load(policy_dirs, no_bundled)
    pack = compiled.pack
    rows = [
        {"id": r.id, "family": r.family, "severity": r.severity, "penalty": r.penalty, "kind": r.kind,
         "title": r.title.get(lang), "waivable": r.waivable, "file": r.file}
        for r in pack.rules
    ]
    if fmt == "json":
        import orjson

        meta = {"name": pack.name, "version": pack.version, "content_hash": pack.content_hash}
        click.echo(orjson.dumps({"policy_pack": meta, "rules": rows}, option=orjson.OPT_INDENT_2).decode())
        return
    width = max(len(r["id"]) for r in rows)
    click.echo(f"{'rule':<{width}}  {'family':<14} {'severity':<8} {'penalty':<18} {'kind':<8} title")
    for r in rows:
        click.echo(
            f"{r['id']:<{width}}  {r['family']:<14} {r['severity']:<8} {r['penalty'] or '-':<18} {r['kind']:<8} {r['title']}"
        )
    click.echo(f"\n{len(rows)} rules, pack {pack.name} {pack.version} ({pack.content_hash[:12]})")


@cli.command()
@click.argument("rule_id", metavar="RULE")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Only this language (default both).")
@_policy_options
def explain(rule_id: str, lang: str | None, policy_dirs: tuple[str, ...], no_bundled: bool) -> None:
    """What a rule checks, why, an example and the remedy, in English and Chinese."""
    from .explain import explain_rule, unknown_rule

    compiled = _load(policy_dirs, no_bundled)
    if compiled.pack.rule(rule_id) is None:
        click.echo(unknown_rule(compiled.pack, rule_id), err=True)
        sys.exit(EXIT_UNCHECKED)
    click.echo(explain_rule(compiled, rule_id, ("en", "zh") if lang is None else (lang,)))


@cli.command()
@click.option("--quiet", "-q", is_flag=True, help="Print only failures and the summary.")
@_policy_options
def verify(quiet: bool, policy_dirs: tuple[str, ...], no_bundled: bool) -> None:
    """Run every rule's own passing and failing examples, and the platform's invariants, against the
    pack as loaded.

    Exit 1 when any example or invariant does not hold, naming it and a counterexample.
    """
    from .examples import run_examples
    from .invariants import check_invariants

    compiled = _load(policy_dirs, no_bundled)
    results = run_examples(compiled)
    failures = [r for r in results if not r.ok]
    for r in results:
        if not r.ok or not quiet:
            click.echo(str(r))
    from .policy.model import PolicyError

    try:
        invariants = check_invariants(compiled)
    except PolicyError as e:  # the penalty ladder beside the rules
        click.echo(f"compliance: bad policy: {e}", err=True)
        sys.exit(EXIT_UNCHECKED)
    broken = [v for _, v in invariants if v is not None]
    for invariant, violation in invariants:
        if violation is not None:
            click.echo(str(violation))
        elif not quiet:
            click.echo(f"ok   invariant {invariant.name}: {invariant.text}")
    rules = len({r.rule for r in results})
    summary = f"{len(results) - len(failures)} of {len(results)} examples of {rules} rules hold; "
    summary += f"{len(invariants) - len(broken)} of {len(invariants)} platform invariants hold."
    if failures or broken:
        click.echo(f"\n{summary}")
        sys.exit(1)
    click.echo(f"\nAll {len(results)} examples of {rules} rules hold; all {len(invariants)} platform invariants hold.")


@cli.group(invoke_without_command=True)
@click.option("--ledger", default=DEFAULT_LEDGER, show_default=True, type=click.Path(dir_okay=False),
              metavar="FILE", help="The radar ledger written by scan --ledger.")
@click.option("--merchant", metavar="ID", help="Only this merchant.")
@click.option("--as-of", callback=_as_of, metavar="TIME", help="Show the ledger as of this time (default now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_policy_options
@click.pass_context
def radar(ctx: click.Context, ledger: str, merchant: str | None, as_of: Any, fmt: str,
          policy_dirs: tuple[str, ...], no_bundled: bool) -> None:
    """Radar tasks and merchant standing from the ledger: offence (first or repeat), deadline, status,
    and the actions due as of a time (the penalty ladder of policies/penalties.toml, RULES.md 7).

    Exit status: 0 shown; 2 no usable ledger or ladder.
    """
    ctx.obj = {"ledger": ledger, "policy_dirs": policy_dirs, "no_bundled": no_bundled}
    if ctx.invoked_subcommand is not None:
        return
    from .radar.ledger import LedgerError
    from .radar.render import radar_dict, render_json, render_text
    from . import _as_of as default_as_of

    when = as_of or default_as_of(None)
    ladder = _ladder(policy_dirs, no_bundled)
    with _ledger(ledger, read_only=True) as book:
        try:
            standing = book.standing(ladder, when, merchant)
            tasks = book.tasks(ladder, when, merchant)
            scans = len(book.scans())
        except LedgerError as e:
            click.echo(f"compliance: {e}", err=True)
            sys.exit(EXIT_UNCHECKED)
    if fmt == "json":
        click.echo(render_json(radar_dict(ledger, ladder, when, standing, tasks, scans)), nl=False)
    else:
        click.echo(render_text(ledger, ladder, when, standing, tasks, scans), nl=False)


@radar.command()
@click.argument("task_id", type=int, metavar="TASK_ID")
@click.option("--reason", required=True, metavar="TEXT", help="Why the task is wrong (kept in the ledger).")
@click.option("--ledger", default=None, type=click.Path(dir_okay=False), metavar="FILE",
              help=f"The radar ledger (default: radar's --ledger, ./{DEFAULT_LEDGER}).")
@click.option("--as-of", callback=_as_of, metavar="TIME", help="The time of the appeal (default now).")
@click.pass_context
def appeal(ctx: click.Context, task_id: int, reason: str, ledger: str | None, as_of: Any) -> None:
    """Record an appeal of a radar task, where the ladder allows one: publishing-anomaly tasks, once,
    within the rectification period. Refused otherwise, saying why (exit 2)."""
    from .radar.ledger import AppealRefused, LedgerError
    from .values import format_time
    from . import _as_of as default_as_of

    path = ledger or ctx.obj["ledger"]
    ladder = _ladder(ctx.obj["policy_dirs"], ctx.obj["no_bundled"])
    when = as_of or default_as_of(None)
    with _ledger(path) as book:
        try:
            done = book.appeal(task_id, reason, when, ladder)
        except AppealRefused as e:
            click.echo(f"compliance: appeal refused: {e}", err=True)
            sys.exit(EXIT_UNCHECKED)
        except LedgerError as e:  # the ledger could not take it (locked, read-only, ...)
            click.echo(f"compliance: appeal not recorded: {e}", err=True)
            sys.exit(EXIT_UNCHECKED)
    click.echo(f"task {done.task} appealed at {format_time(done.at)}: {done.reason}")


def _ladder(policy_dirs: tuple[str, ...], no_bundled: bool) -> Any:
    from .policy.files import default_dirs
    from .policy.model import PolicyError
    from .radar.ladder import load_ladder

    if no_bundled and not policy_dirs:
        raise click.UsageError("--no-bundled needs at least one --policies folder")
    try:
        return load_ladder(default_dirs(policy_dirs, bundled=not no_bundled))
    except PolicyError as e:
        click.echo(f"compliance: bad penalty ladder: {e}", err=True)
        sys.exit(EXIT_UNCHECKED)


def _ledger(path: str, read_only: bool = False) -> Any:
    """An existing ledger (`read_only`: for a command that only reads it), or exit 2 saying what is wrong."""
    from .radar.ledger import Ledger, LedgerError

    try:
        return Ledger(path, create=False, read_only=read_only)
    except LedgerError as e:
        click.echo(f"compliance: {e}", err=True)
        sys.exit(EXIT_UNCHECKED)


def main() -> None:
    """The console script: exit 1 means findings, so nothing else may exit 1 (SNAPSHOTS.md).

    Usage errors are click's (exit 2); an interrupt (^C), a report's reader that
    went away (a closed pipe) and an error the commands do not foresee (an
    unwritable --output, a defect) exit 2, the last two in one line.
    """
    try:
        # not click's main(), which exits 1 on ^C and on a closed pipe (standalone or not): 1 says "findings"
        with cli.make_context("compliance", sys.argv[1:]) as ctx:
            code = cli.invoke(ctx)
    except SystemExit:
        raise
    except click.exceptions.Exit as e:  # --help, --version
        sys.exit(e.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):  # ^C (click makes it Abort): not everything was checked
        click.echo("compliance: interrupted; the report is incomplete", err=True)
        sys.exit(EXIT_UNCHECKED)
    except click.ClickException as e:  # a usage error: exit 2, as click says it
        e.show()
        sys.exit(e.exit_code)
    except BrokenPipeError:  # the report's reader went away (| head): the rest is not written, quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit's flush of what is left does not fail again
        sys.exit(EXIT_UNCHECKED)
    except ScanStopped as e:
        click.echo(f"compliance: {e}", err=True)
        sys.exit(EXIT_UNCHECKED)
    except OSError as e:
        click.echo(f"compliance: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True)
        sys.exit(EXIT_UNCHECKED)
    except Exception as e:  # noqa: BLE001 - the last line of defence of the exit status
        click.echo(f"compliance: internal error: {type(e).__name__}: {e}; please report it", err=True)
        sys.exit(EXIT_UNCHECKED)
    sys.exit(code if isinstance(code, int) else 0)  # --help, --version, a command that returns
