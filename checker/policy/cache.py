"""The compiled-pack cache, keyed by the files a pack is compiled from.

`compliance check` runs before every publish: it must not parse TOML,
import jsonschema or generate code each time. The first load of a pack
compiles it and stores the rules, the constants and the marshalled code
objects of the rules and of the snapshot validators (validation.py); later
loads of the same files (same policy files, schemas, compiler and Python,
recognised by name, size and modification time as .pyc files are) read that
file back. Any problem with the cache (unwritable folder, damaged or
foreign file) falls back to compiling. The pack's content hash (sha256 of
the policy files, shown in every report) is computed when it is compiled.

The folder is $COMPLIANCE_CACHE_DIR, else $XDG_CACHE_HOME/compliance, else
~/.cache/compliance. COMPLIANCE_CACHE_DIR=off disables the cache.
"""

from __future__ import annotations

import marshal
import os
import pickle
import sys
import zlib
from typing import Iterable

from .. import __version__, validation
from ..resources import schema_files
from .files import pack_meta_files, policy_files
from .runtime import CompiledPack, Generated, link

_FORMAT = "compliance-pack-cache-3"
_HERE = os.path.dirname(os.path.abspath(__file__))
#: the code whose output is cached: any change to it is a different cache entry
_SOURCES = [
    os.path.join(_HERE, name)
    for name in ("compiler.py", "expressions.py", "types.py", "vocabulary.py", "runtime.py", "loader.py", "files.py",
                 "model.py")
] + [os.path.abspath(validation.__file__)]


def cache_dir() -> str | None:
    configured = os.environ.get("COMPLIANCE_CACHE_DIR")
    if configured:
        return None if configured.lower() == "off" else configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "compliance")


def cache_key(dirs: list[str]) -> str:
    """What a cache entry depends on, as text: the tool, the Python, and every input file's name,
    size and modification time (as Python's own .pyc files do). The entry stores this text and is
    used only when it matches exactly."""
    parts = [_FORMAT, __version__, sys.version]
    files = [path for path, _ in policy_files(dirs)] + pack_meta_files(dirs) + _SOURCES + schema_files()
    shown = [shown for _, shown in policy_files(dirs)]
    for path in files:
        st = os.stat(path)
        parts.append(f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}")
    parts += shown
    return "\n".join(parts)


def load_compiled(dirs: Iterable[str | os.PathLike[str]]) -> CompiledPack:
    """The compiled pack of `dirs`, from the cache when the same files were compiled before."""
    dirs = [os.fspath(d) for d in dirs]
    folder = cache_dir()
    path = key = None
    if folder is not None:
        key = cache_key(dirs)
        data = key.encode()
        path = os.path.join(folder, f"pack-{zlib.crc32(data):08x}{zlib.adler32(data):08x}.bin")
        cached = _read(path, key)
        if cached is not None:
            return cached
    from .compiler import generate
    from .loader import load_pack

    pack = load_pack(dirs)
    generated = generate(pack)
    code = compile(generated.source, f"<policy pack {pack.content_hash[:12]}>", "exec")
    vsource, vconstants = validation.generate()
    vcode = compile(vsource, "<snapshot validators>", "exec")
    compiled = link(pack, generated, code, validation.build(vcode, vconstants))
    if path is not None:
        blob = (_FORMAT, key, pack, generated, marshal.dumps(code), vconstants, marshal.dumps(vcode))
        _write(path, pickle.dumps(blob, protocol=pickle.HIGHEST_PROTOCOL))
    return compiled


def _read(path: str, key: str) -> CompiledPack | None:
    try:
        with open(path, "rb") as f:
            tag, stored_key, pack, generated, code, vconstants, vcode = pickle.load(f)  # noqa: S301 - our own file
        if tag != _FORMAT or stored_key != key or not isinstance(generated, Generated):
            return None
        return link(pack, generated, marshal.loads(code), validation.build(marshal.loads(vcode), vconstants))
    except Exception:
        return None


def _write(path: str, data: bytes) -> None:
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".pack-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass
