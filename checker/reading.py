"""Reading snapshots: files, JSON arrays, JSON Lines, .gz, directories, stdin.

`read(paths)` yields, in input order, either a document as the tuple
`(document, file, line, index)` (line is set for JSON Lines, index for an
element of a JSON array file) or an `InputError`. Tuples keep the per-document path free of allocations beyond
the parse itself. JSON Lines are streamed line by line, so memory does not
grow with the number of documents; a broken line, file or archive becomes an
`InputError` and reading goes on with the next.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import zlib
from decimal import Decimal
from typing import IO, Any, Container, Iterable, Iterator, Union

import orjson

from .model import InputError

Item = Union[tuple, InputError]

#: Extensions `compliance scan DIR` reads (SNAPSHOTS.md "Files").
LINE_EXTENSIONS = (".jsonl", ".ndjson")
DOCUMENT_EXTENSIONS = (".json", *LINE_EXTENSIONS)
#: A JSON Lines line longer than this is reported, not read into memory.
MAX_LINE_BYTES = 16 * 1024 * 1024
#: A whole-JSON file (one document or an array) larger than this is reported.
MAX_FILE_BYTES = 512 * 1024 * 1024

# orjson parses numbers as binary floats. A literal with at most 15 significant digits survives
# that exactly (to_decimal goes through repr). A longer one (17 or more characters of digits and
# dots, or 16 digits before an exponent), or an exponent of three digits (beyond a double's range
# or precision), sends the text to the exact parser. The test maps digits and dots to "0" and looks for those shapes: ~2.5 us for
# a 1 KB line, where a regular expression took ~20 us. Digits inside strings count too at first; a text
# with a shape is then tested outside its strings (_inexact).
_NUMERIC = bytes.maketrans(b"0123456789.Ee+", b"00000000000ee-")
_LONG = b"0" * 17
_LONG_MANTISSA = b"0" * 16 + b"e"
#: a JSON string, its escapes included (a run of plain characters, then escapes each followed by another run)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SHAPES = (_LONG, _LONG_MANTISSA, b"0e000", b"0e-000")


def _long_shape(shape: bytes) -> bool:
    return _LONG in shape or _LONG_MANTISSA in shape or b"0e000" in shape or b"0e-000" in shape


def _inexact_begins(text: bytes, shape: bytes) -> set[int]:
    """Where the lines of a JSON text (orjson has parsed it) begin that hold a number orjson may not have
    read exactly; `shape` is the text translated.

    The digits of a shape may be inside a string: a 19-digit order number "3156547891234567890" is text.
    Sent to the exact parser, each such catalog line cost ~36 us more (a catalog of orders read at half
    the speed). A string never spans two lines (JSON escapes a line break), so the quotes between the
    start of a shape's line and the shape tell: without a backslash among them, every quote opens or
    closes a string, and the shape is in a number when their number is even; after a backslash (an
    escaped quote?), the line's strings are emptied by a regular expression first (~24 us a line)."""
    found: set[int] = set()
    for needle in _SHAPES:
        at = shape.find(needle)
        while at >= 0:
            begin = shape.rfind(b"\n", 0, at) + 1
            if begin in found:
                at = shape.find(b"\n", at)  # the line is known: on to the next
            elif text.find(b"\\", begin, at) >= 0:
                end = shape.find(b"\n", at)
                line = text[begin:] if end < 0 else text[begin:end]
                if _long_shape(_STRING.sub(b'""', line).translate(_NUMERIC)):
                    found.add(begin)
                at = end  # the whole line is decided
            elif not text.count(b'"', begin, at) % 2:
                found.add(begin)
                at = shape.find(b"\n", at)
            if at >= 0:
                at = shape.find(needle, at + 1)
    return found


def _inexact(data: bytes) -> bool:
    """Whether a JSON text that orjson has parsed holds a number orjson may not have read exactly."""
    shape = data.translate(_NUMERIC)
    return _long_shape(shape) and bool(_inexact_begins(data, shape))


# JSON Lines are tested many lines at a time: one translation of the text, and two searches that
# find at least every shape above (16 digits, for 17 and for 16 before an "e"; "0e-?000" for the
# exponents), so that a text without a match has no line to parse exactly. A line's shape is the same as
# alone ("\n" maps to itself), and no match can span two lines. 100,000 catalog lines (170 MB), tested
# 64 KB at a time as they are decompressed (Reader._batches): 0.25 s; 1,000 lines at a time when parsed
# (a batch joined again): 0.38 s; a line at a time: 0.5 s.
_MAYBE_LONG = b"0" * 16
_MAYBE_EXPONENT = re.compile(rb"0e-?000")


def _maybe_inexact(text: bytes) -> bool:
    shape = text.translate(_NUMERIC)
    return _MAYBE_LONG in shape or _MAYBE_EXPONENT.search(shape) is not None


def _inexact_lines(lines: list[bytes], first: int) -> Container[int]:
    """The numbers of the lines (the first being `first`) for which _inexact holds."""
    text = b"\n".join(lines)
    shape = text.translate(_NUMERIC)
    # two searches first, as _maybe_inexact: most batches have no shape (the workers test 1,000 lines at a
    # time: 85 ms per 20,000 lines, where the four searches of _inexact_begins alone took 117)
    if _MAYBE_LONG not in shape and _MAYBE_EXPONENT.search(shape) is None:
        return ()
    begins = _inexact_begins(text, shape)
    if not begins:
        return ()
    numbers = set()
    number, position = first, 0
    for begin in sorted(begins):
        number += text.count(b"\n", position, begin)
        position = begin
        numbers.add(number)
    return numbers


_WHITESPACE = b" \t\r\n"


def _escaped(text: bytes) -> bool:
    """Whether a text holds a \\u escape of an ASCII character, which may spell what a prefilter looks for
    ("merch\\u0061nt"): such a text is parsed whatever the prefilter says (a pre-pass still looks at the
    documents' kinds). Escapes of other characters (a catalog written with every Chinese character
    escaped) spell no ASCII word, and are not parsed for it. A backslash is looked for first: 0.01 s
    over 170 MB, where b"\\\\u" took 0.17 s."""
    return b"\\" in text and b"\\u00" in text and _ASCII_ESCAPE.search(text) is not None


_ASCII_ESCAPE = re.compile(rb"\\u00[0-7][0-9A-Fa-f]")


_BOM = b"\xef\xbb\xbf"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _exact_loads(data: bytes) -> Any:
    """Parse with every number exact (Decimal), for the rare inexact literal.

    Raises SyntaxProblem like `loads`. orjson has usually accepted the text
    already (at most 1,024 levels deep); the stdlib parser recurses in C, so
    it gets the room for those levels.
    """
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 1200))
    try:
        return json.loads(data.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise SyntaxProblem(_syntax_reason(e.msg, data, e.pos), e.lineno, e.colno) from None
    except UnicodeDecodeError:
        raise SyntaxProblem("not valid UTF-8 text", *_utf8_position(data)) from None
    except RecursionError:
        raise SyntaxProblem(_DEPTH, None, None) from None
    except ValueError as e:  # NaN next to an exact number; an integer of over 4,300 digits
        reason = str(e)
        if "digits" in reason:
            reason = "a number with more than 4,300 digits"
        raise SyntaxProblem(f"not valid JSON: {reason}", None, None) from None
    finally:
        sys.setrecursionlimit(limit)


def loads(data: bytes) -> Any:
    """Parse one JSON text, exactly. Raises SyntaxProblem with a readable reason.

    orjson decides what is valid JSON (and where it is not); a text holding a
    number that a double cannot carry exactly (over 15 significant digits,
    an exponent, or beyond a double's range) is then read by the exact parser.
    """
    if data[:3] == _BOM:  # RFC 8259 8.1: a parser may ignore a byte order mark
        data = data[3:]
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        if "infinity" in e.msg:  # 1e999999: read it exactly and let the schema name the field
            return _exact_loads(data)
        line, column = e.lineno, e.colno
        if "UTF-8" in e.msg:
            line, column = _utf8_position(data)
        raise SyntaxProblem(_syntax_reason(e.msg, data, e.pos), line, column) from None
    if _inexact(data):
        return _exact_loads(data)
    return value


_DEPTH = "not valid JSON: nested too deeply (more than 1,024 levels)"


class SyntaxProblem(Exception):
    def __init__(self, reason: str, line: int | None, column: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


def _utf8_position(data: bytes) -> tuple[int | None, int | None]:
    """Line and column (in bytes, from 1) of the first byte that is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = data.rfind(b"\n", 0, e.start) + 1
        return data.count(b"\n", 0, e.start) + 1, e.start - start + 1
    return None, None  # pragma: no cover - orjson said it was not UTF-8


def _syntax_reason(msg: str, data: bytes, pos: int) -> str:
    if "UTF-8" in msg:
        return "not valid UTF-8 text"
    if "depth limit" in msg or "recursion" in msg.lower():
        return _DEPTH
    if "empty" in msg:
        return "empty: no JSON document"
    rest = bytes(data[pos : pos + 9]).lstrip(b"-")
    for word in (b"NaN", b"Infinity"):
        if rest.startswith(word):
            return f"not valid JSON: {word.decode()} is not a number JSON allows"
    return f"not valid JSON: {msg}"


# -- files ----------------------------------------------------------------------


class Reader:
    """Reads documents from paths; `prefilter` (a bytes regex) skips text without a match (but for text
    with a \\u escape, which may spell the match: it is read).

    With a prefilter, errors are not reported: a pre-pass (the merchant
    look-up) reads quietly and leaves reporting to the main pass.
    """

    def __init__(self, prefilter: re.Pattern[bytes] | None = None, *, quiet: bool | None = None,
                 raw: bool = False, exclude: frozenset[str] = frozenset()) -> None:
        self.prefilter = prefilter
        #: files not to read in a folder, by real path: the scan's own report (see walk)
        self.exclude = exclude
        self.quiet = prefilter is not None if quiet is None else quiet
        #: hand on JSON Lines as `Lines` batches, unparsed (for worker processes to parse)
        self.raw = raw
        #: test JSON Lines for inexact numbers as they are read (parsed here, every line)
        self.tests_numbers = prefilter is None and not raw
        #: bytes of the files read to the end, and the file being read (for progress: position())
        self.done = 0
        self.current: IO[bytes] | None = None

    def position(self) -> int:
        """How many bytes of the input files (as stored: compressed for .gz) have been read so far."""
        current = self.current
        try:
            return self.done + (current.tell() if current is not None else 0)
        except (OSError, ValueError):  # a closed or unseekable file
            return self.done

    def read(self, paths: Iterable[str]) -> Iterator[Item]:
        """Every document and error of `paths`, each file read once (first_time)."""
        seen: set[tuple[int, int]] = set()
        for path in paths:
            if path == "-":
                yield from self._stream(sys.stdin.buffer, "<stdin>", sniff_gzip=True)
            elif os.path.isdir(path):
                for found in walk(path, self.exclude):
                    if isinstance(found, InputError):
                        if not self.quiet:
                            yield found
                    elif first_time(found, seen):
                        yield from self.read_file(found)
            elif first_time(path, seen):
                yield from self.read_file(path)

    def read_file(self, path: str, limit: int | None = None) -> Iterator[Item]:
        """A file's documents and errors; with `limit`, of its first `limit` bytes (as stored) only."""
        try:
            raw: IO[bytes] = open(path, "rb")
        except OSError as e:
            if not self.quiet:
                yield InputError(path, None, "", _os_reason(e))
            return
        if limit is not None:
            raw = io.BufferedReader(_Upto(raw, limit), READ_BYTES)  # type: ignore[arg-type]
        self.current = raw
        try:
            yield from self._read_open(raw, path)
        finally:
            self.current = None
            try:
                self.done += os.fstat(raw.fileno()).st_size
            except (OSError, ValueError):
                pass
            raw.close()

    def _read_open(self, raw: IO[bytes], path: str) -> Iterator[Item]:
        name = path.lower()
        if name.endswith(".gz"):
            name = name[:-3]
            stream: IO[bytes] = gunzip(raw)
        else:
            stream = raw
        if name.endswith(LINE_EXTENSIONS):
            yield from self._lines(stream, path)
        elif name.endswith(".json"):
            yield from self._whole(stream, path)
        else:
            yield from self._stream(stream, path, sniff_gzip=stream is raw)

    def _stream(self, stream: IO[bytes], path: str, sniff_gzip: bool) -> Iterator[Item]:
        """A stream of unknown shape (stdin, an unusual file name): look, then read."""
        buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
        try:
            head = buffered.peek(2)[:2]
        except (OSError, EOFError, zlib.error) as e:
            if not self.quiet:
                yield InputError(path, None, "", _archive_reason(e))
            return
        if sniff_gzip and head == b"\x1f\x8b":
            buffered = io.BufferedReader(gunzip(buffered))  # type: ignore[arg-type]
        try:
            first = buffered.peek(64)
        except (OSError, EOFError, zlib.error) as e:
            if not self.quiet:
                yield InputError(path, None, "", _archive_reason(e))
            return
        if first.lstrip(_WHITESPACE)[:1] == b"[":
            yield from self._whole(buffered, path)
            return
        # One document per line, unless the text is one pretty-printed document: its first
        # line alone is no JSON, and neither is its second (a damaged first line of JSON
        # Lines is followed by whole documents).
        skipped = 0
        try:
            line = buffered.readline(MAX_LINE_BYTES + 1)
            while line and not line.strip(_WHITESPACE):
                skipped += 1
                line = buffered.readline(MAX_LINE_BYTES + 1)
            if line[:3] == _BOM:
                line = line[3:]
            if not _is_json(line):
                second = buffered.readline(MAX_LINE_BYTES + 1)
                while second and not second.strip(_WHITESPACE):
                    second += buffered.readline(MAX_LINE_BYTES + 1)
                    if len(second) > MAX_LINE_BYTES:
                        break
                if not _is_json(second):
                    yield from self._whole(buffered, path, prefix=b"\n" * skipped + line + second, as_lines=True)
                    return
                yield from self._lines(buffered, path, first=line + second, skipped=skipped)
                return
        except (OSError, EOFError, zlib.error) as e:
            if not self.quiet:
                yield InputError(path, None, "", _archive_reason(e))
            return
        yield from self._lines(buffered, path, first=line, skipped=skipped)

    def _whole(self, stream: IO[bytes], path: str, prefix: bytes = b"", as_lines: bool = False) -> Iterator[Item]:
        """A file holding one document or a JSON array of documents.

        With `as_lines` (a stream whose shape sniffing could not decide), text
        that is not one JSON document is read again as JSON Lines, so that two
        broken first lines do not hide the good ones after them.
        """
        try:
            data = prefix + stream.read(MAX_FILE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as e:
            if not self.quiet:
                yield InputError(path, None, "", _archive_reason(e))
            return
        if len(data) > MAX_FILE_BYTES:
            if not self.quiet:
                yield InputError(
                    path, None, "", f"file larger than {MAX_FILE_BYTES // 2**20:,} MiB: split it, or use JSON Lines"
                )
            return
        if self.prefilter is not None and self.prefilter.search(data) is None and not _escaped(data):
            return
        if not data.strip(_WHITESPACE):
            if not self.quiet:
                yield InputError(path, None, "", "empty file: no document")
            return
        try:
            value = loads(data)
        except SyntaxProblem as e:
            if as_lines:
                yield from self._lines(io.BytesIO(data), path)
                return
            if not self.quiet:
                reason = e.reason if e.column is None else f"{e.reason} (column {e.column})"
                yield InputError(path, e.line, "", reason)
            return
        if isinstance(value, list):
            if not value and not self.quiet:
                yield InputError(path, None, "", "empty list: no document")
            for index, document in enumerate(value):
                yield (document, path, None, index)
        else:
            yield (value, path, None, None)

    def _lines(self, stream: IO[bytes], path: str, first: bytes | None = None, skipped: int = 0) -> Iterator[Item]:
        """JSON Lines: one document a line, streamed (in batches of lines, parsed here, or with
        `raw` handed on as they are, for a worker process to parse: parallel.py)."""
        for piece in self._batches(stream, path, first, skipped):
            if piece.__class__ is not Lines:
                yield piece
            elif self.raw:
                yield piece  # type: ignore[misc]
            else:
                yield from parse_lines(piece, self.prefilter, self.quiet)  # type: ignore[arg-type]

    def _batches(self, stream: IO[bytes], path: str, first: bytes | None, skipped: int) -> Iterator[Lines | InputError]:
        """The lines of a JSON Lines stream in batches, with the errors of reading between them.

        Read 64 KB at a time and split in C (a Python loop per line would
        cost more than the decompression); read1, so that a damaged archive
        still gives every line before the damage. `first` holds lines already
        read while sniffing the stream, after `skipped` blank lines.
        """
        quiet = self.quiet
        number = skipped  # lines handed on or reported so far
        seen = False  # a line that is not blank
        at_start = number == 0  # a byte order mark may open the first line
        dropping = False  # inside an over-long line: its text is dropped up to its end
        carry = first or b""  # the start of a line whose end is still to come
        pending: list[bytes] = []  # whole lines not handed on yet
        size = 0
        tested = self.tests_numbers  # each chunk while it is fresh (else parse_lines tests the batches)
        read = getattr(stream, "read1", stream.read)

        def flush() -> Iterator[Lines]:
            """Hand on the pending lines (in batches), and count them."""
            nonlocal pending, size, number
            if pending:
                lines, first = pending, number
                pending, size = [], 0
                number += len(lines)
                yield from self._handed(lines, path, first)

        try:
            while True:
                chunk = read(READ_BYTES)
                data = carry + chunk if carry else chunk
                if chunk:
                    lines = data.split(b"\n")
                    carry = lines.pop()
                else:
                    lines = [data] if data else []
                    carry = b""
                if dropping and lines:
                    lines.pop(0)  # the end of the over-long line
                    dropping = False
                elif dropping:
                    carry = b""
                if at_start and lines:
                    at_start = False
                    if lines[0][:3] == _BOM:
                        lines[0] = lines[0][3:]
                if lines:
                    if not seen:
                        seen = any(line.strip(_WHITESPACE) for line in lines)
                    if max(map(len, lines)) > MAX_LINE_BYTES:
                        yield from flush()
                        yield from self._with_long_lines(lines, path, number)
                        number += len(lines)
                    elif tested and _maybe_inexact(data):  # rare: the lines of this chunk are handed on apart
                        yield from flush()
                        yield Lines(path, number + 1, lines, _inexact_lines(lines, number + 1))
                        number += len(lines)
                    else:
                        pending += lines
                        size += len(data) - len(carry)
                if len(carry) > MAX_LINE_BYTES:
                    yield from flush()
                    number += 1
                    seen = True
                    if not quiet:
                        yield InputError(path, number, "", f"line longer than {MAX_LINE_BYTES // 2**20} MiB")
                    carry = b""
                    dropping = True
                if size >= BATCH_BYTES or len(pending) >= BATCH_LINES or not chunk:
                    yield from flush()
                if not chunk:
                    break
        except (OSError, EOFError, zlib.error) as e:
            yield from flush()
            if not quiet:
                yield InputError(path, number + 1 if number else None, "", _archive_reason(e))
            return
        if not seen and not quiet:
            yield InputError(path, None, "", "empty file: no document")

    def _handed(self, lines: list[bytes], path: str, number: int) -> Iterator[Lines]:
        """`lines` (from line number + 1) in batches of at most BATCH_LINES."""
        step = BATCH_LINES
        exact = () if self.tests_numbers else None  # tested in _batches: none holds an inexact number
        for i in range(0, len(lines), step):
            yield Lines(path, number + i + 1, lines[i : i + step], exact)

    def _with_long_lines(self, lines: list[bytes], path: str, number: int) -> Iterator[Lines | InputError]:
        """Lines among which some are longer than MAX_LINE_BYTES: those are reported, the others read."""
        batch: list[bytes] = []
        for line in lines:
            number += 1
            if len(line) > MAX_LINE_BYTES:
                if batch:
                    yield Lines(path, number - len(batch), batch)
                    batch = []
                if not self.quiet:
                    yield InputError(path, number, "", f"line longer than {MAX_LINE_BYTES // 2**20} MiB")
            else:
                batch.append(line)
        if batch:
            yield Lines(path, number - len(batch) + 1, batch)


class _Upto(io.RawIOBase):
    """A file read up to `size` bytes only: what it held when a parallel scan listed it (parallel.py), so that
    every worker reads the same text of a file that is appended to meanwhile."""

    def __init__(self, raw: IO[bytes], size: int) -> None:
        self.raw, self.left = raw, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        n = self.raw.readinto(memoryview(buffer)[: self.left]) or 0  # type: ignore[attr-defined]
        self.left -= n
        return n

    def fileno(self) -> int:
        return self.raw.fileno()

    def tell(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.raw.close()
        super().close()


#: JSON Lines are read this many bytes at a time (a damaged archive loses at most this much before
#: the damage), and handed on in batches of about BATCH_BYTES
READ_BYTES = 1 << 16
BATCH_BYTES = 1 << 20
#: at most this many lines of JSON Lines are handed on together (a chunk holds about 600 of a catalog's)
BATCH_LINES = 1000


class Lines:
    """Consecutive lines of a JSON Lines file, from line number `first`, not parsed yet; `exact`, when
    known, holds the numbers of those with a number for the exact parser (else parse_lines finds them)."""

    __slots__ = ("path", "first", "lines", "exact")

    def __init__(self, path: str, first: int, lines: list[bytes], exact: Container[int] | None = None) -> None:
        self.path, self.first, self.lines, self.exact = path, first, lines, exact

    def __reduce__(self) -> tuple[Any, ...]:
        return Lines, (self.path, self.first, self.lines, self.exact)


def parse_lines(batch: Lines, prefilter: re.Pattern[bytes] | None = None, quiet: bool = False) -> Iterator[Item]:
    """The documents (and, unless `quiet`, the broken lines) of a batch; a `prefilter` skips lines
    without a match (a pre-pass that reads only some kinds)."""
    path = batch.path
    number = batch.first - 1
    # a pre-pass reads few of the lines: it tests only those, one by one
    each = prefilter is not None
    exact = batch.exact
    if exact is None:
        exact = () if each else _inexact_lines(batch.lines, batch.first)
    for line in batch.lines:
        number += 1
        if each and prefilter.search(line) is None and not _escaped(line):  # type: ignore[union-attr]
            continue
        try:
            document = orjson.loads(line)
            if number in exact or (each and _inexact(line)):
                document = _exact_loads(line)
            yield (document, path, number, None)
        except Exception:
            if line.strip(_WHITESPACE):
                found = _slow_line(line, path, number)
                if found.__class__ is tuple or not quiet:
                    yield found


def _slow_line(line: bytes, path: str, number: int) -> Item:
    """A line the fast path refused: a document after all (a number beyond a double), or its error."""
    try:
        return (loads(line), path, number, None)
    except SyntaxProblem as e:
        reason = e.reason if e.column is None else f"{e.reason} (column {e.column})"
        return InputError(path, number, "", reason)


def _is_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def gunzip(raw: IO[bytes]) -> IO[bytes]:
    """A reader of the gzip stream `raw`: python-isal's (2-4x faster, where its wheel installs), else the
    standard library's; both raise gzip.BadGzipFile and EOFError alike."""
    try:
        from isal.igzip import GzipFile
    except ImportError:  # pragma: no cover - a platform without isal
        from gzip import GzipFile
    return GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]


def _os_reason(e: OSError) -> str:
    return f"cannot read: {e.strerror or e}"


def _archive_reason(e: BaseException) -> str:
    import gzip

    if isinstance(e, gzip.BadGzipFile):
        return "not a gzip file"
    if isinstance(e, (EOFError, zlib.error)):
        return "gzip data is corrupt or truncated"
    if isinstance(e, OSError):
        return _os_reason(e)
    return f"cannot read: {e}"  # pragma: no cover


# -- directories --------------------------------------------------------------


def first_time(path: str, seen: set[tuple[int, int]], info: os.stat_result | None = None) -> bool:
    """False for a file this scan has read already (by device and inode: named twice, a folder and a file in
    it, a link to it), which counted its documents and findings twice (fixtures/ and a file of it: 105
    documents of 104). A file that cannot be stat'ed is read (the reading says why)."""
    if info is None:
        try:
            info = os.stat(path)
        except OSError:
            return True
    key = (info.st_dev, info.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


def walk(top: str, exclude: frozenset[str] = frozenset()) -> Iterator[str | InputError]:
    """Snapshot files under `top`, sorted, each read once; a folder without any is an error. Files whose real
    path is in `exclude` are left out: `scan DIR -o DIR/report.jsonl` read its own report as it grew (1,732
    errors in a scan of 3,000 documents), and the report of the scan before.

    A link to a folder inside the tree is not followed (its files are read
    under their own names); a link back to a folder being walked is a loop,
    reported once; a link out of the tree is followed.
    """
    top_real = os.path.realpath(top)
    seen: dict[str, str] = {}

    def inside(path: str, folder: str) -> bool:
        return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)

    def visit(directory: str) -> Iterator[str | InputError]:
        real = os.path.realpath(directory)
        if real in seen:
            return
        seen[real] = directory
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as e:
            yield InputError(directory, None, "", _os_reason(e))
            return
        for entry in entries:
            path = os.path.join(directory, entry.name)
            try:
                is_dir = entry.is_dir()
            except OSError as e:  # pragma: no cover - racing deletions
                yield InputError(path, None, "", _os_reason(e))
                continue
            if is_dir:
                if entry.is_symlink():
                    target = os.path.realpath(path)
                    if inside(real, target):
                        shown = seen.get(target, target)
                        yield InputError(path, None, "", f"symbolic link loop: this folder is {shown} again; not read twice")
                        continue
                    if inside(target, top_real):
                        continue  # read under its own name
                yield from visit(path)
                continue
            name = entry.name.lower().removesuffix(".gz")
            if not name.endswith(DOCUMENT_EXTENSIONS):
                continue
            if os.path.exists(path) and not entry.is_file():
                yield InputError(path, None, "", "not a regular file (a pipe or device?); not read")
                continue
            if exclude and os.path.realpath(path) in exclude:
                continue
            if entry.is_symlink() and not os.path.exists(path):
                if os.path.lexists(path) and _link_loops(path):
                    yield InputError(path, None, "", "cannot read: Too many levels of symbolic links")
                else:
                    yield InputError(path, None, "", "cannot read: broken symbolic link")
                continue
            yield path

    found = False
    for item in visit(top):
        found = True
        yield item
    if not found:  # a CI job pointed at a wrong or empty export folder must not pass with nothing checked
        yield InputError(top, None, "", "no snapshot file in this folder (.json, .jsonl, .ndjson, or .gz of them)")


def _link_loops(path: str) -> bool:
    try:
        os.stat(path)
    except OSError as e:
        return e.errno == 40  # ELOOP
    return False
