"""The compiled-pack cache, keyed by the content of what a pack is compiled from.

`compliance check` runs before every publish: it must not parse TOML,
import jsonschema or generate code each time. The first load of a pack
compiles it and stores the rules, the constants and the marshalled code
objects of the rules and of the snapshot validators (validation.py); later
loads of the same content (policy files, schemas, compiler, Python) read
that file back. Any problem with the cache (unwritable folder, damaged,
foreign or other users' file) falls back to compiling.

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

import attrs

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


def cache_key(dirs: list[str]) -> bytes:
    """What a cache entry depends on: the tool, the Python, and the content of every input (policy
    files with the names they are shown by, pack metadata, schemas, the compiler's own source).
    The entry stores these bytes and is used only when they match exactly; reading them costs
    well under a millisecond, and no edit can go unseen (not even one keeping size and mtime)."""
    parts = [f"{_FORMAT}\0{__version__}\0{sys.version}".encode()]
    files = policy_files(dirs) + [(p, p) for p in pack_meta_files(dirs) + _SOURCES + schema_files()]
    for path, shown in files:
        with open(path, "rb") as f:
            parts.append(shown.encode() + b"\0" + f.read())
    return b"\0\0".join(parts)


def load_compiled(dirs: Iterable[str | os.PathLike[str]]) -> CompiledPack:
    """The compiled pack of `dirs`, from the cache when the same content was compiled before."""
    dirs = [os.fspath(d) for d in dirs]
    folder = cache_dir()
    path = key = None
    if folder is not None:
        key = cache_key(dirs)
        path = os.path.join(folder, f"pack-{zlib.crc32(key):08x}{zlib.adler32(key):08x}.bin")
        cached = _read(path, key)
        if cached is not None:
            return attrs.evolve(cached, dirs=tuple(dirs))
    from .compiler import build
    from .loader import load_pack

    built = build(load_pack(dirs))
    if path is not None:
        _write(path, pickle.dumps((_FORMAT, key, *built.frozen()), protocol=pickle.HIGHEST_PROTOCOL))
    return attrs.evolve(built.link(), dirs=tuple(dirs))


def _read(path: str, key: bytes) -> CompiledPack | None:
    """A cache entry, if it is ours: owned by this user, writable by nobody else, for this key.
    (It holds code objects: a cache folder others can write to must not be trusted.)"""
    try:
        info = os.stat(path)
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            return None
        with open(path, "rb") as f:
            tag, stored_key, pack, generated, code, vconstants, vcode = pickle.load(f)  # noqa: S301
        if tag != _FORMAT or stored_key != key or not isinstance(generated, Generated):
            return None
        return link(pack, generated, marshal.loads(code), validation.build(marshal.loads(vcode), vconstants))
    except Exception:
        return None


def _write(path: str, data: bytes) -> None:
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".pack-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass
