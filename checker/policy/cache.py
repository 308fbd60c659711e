"""The compiled-pack cache, keyed by content hash.

`compliance check` runs before every publish: it must not parse TOML,
import jsonschema or generate code each time. The first load of a pack
compiles it and stores the rules, the constants and the marshalled code
objects of the rules and of the snapshot validators (validation.py); later loads of the same bytes (same policy files, same schemas,
same compiler, same Python) read that file back. Any problem with the cache
(unwritable folder, damaged or foreign file) falls back to compiling.

The folder is $COMPLIANCE_CACHE_DIR, else $XDG_CACHE_HOME/compliance, else
~/.cache/compliance. COMPLIANCE_CACHE_DIR=off disables the cache.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Iterable

from .. import __version__, validation
from ..resources import schemas_dir
from .files import fingerprint
from .runtime import CompiledPack, Generated, link

_FORMAT = b"compliance-pack-cache-2"
_SOURCES = ("compiler.py", "expressions.py", "types.py", "vocabulary.py", "runtime.py", "loader.py", "files.py", "model.py")


def cache_dir() -> Path | None:
    configured = os.environ.get("COMPLIANCE_CACHE_DIR")
    if configured:
        return None if configured.lower() == "off" else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "compliance"


def cache_key(content_hash: str, shown: Iterable[str]) -> str:
    digest = hashlib.sha256(_FORMAT)
    digest.update(f"{__version__}\0{sys.version}\0{content_hash}\0".encode())
    digest.update("\0".join(shown).encode())
    here = Path(__file__).parent
    for name in _SOURCES:
        digest.update((here / name).read_bytes())
    digest.update(Path(validation.__file__).read_bytes())
    for schema in sorted(schemas_dir().glob("*.json")):
        digest.update(schema.read_bytes())
    return digest.hexdigest()


def load_compiled(dirs: Iterable[str | Path]) -> CompiledPack:
    """The compiled pack of `dirs`, from the cache when its bytes were compiled before."""
    dirs = list(dirs)
    content_hash, files = fingerprint(dirs)
    folder = cache_dir()
    path = None
    if folder is not None:
        path = folder / f"pack-{cache_key(content_hash, [s for _, s, _ in files])[:40]}.bin"
        cached = _read(path)
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
        blob = (_FORMAT, pack, generated, marshal.dumps(code), vconstants, marshal.dumps(vcode))
        _write(path, pickle.dumps(blob, protocol=pickle.HIGHEST_PROTOCOL))
    return compiled


def _read(path: Path) -> CompiledPack | None:
    try:
        with open(path, "rb") as f:
            tag, pack, generated, code, vconstants, vcode = pickle.load(f)  # noqa: S301 - our own cache file
        if tag != _FORMAT or not isinstance(generated, Generated):
            return None
        return link(pack, generated, marshal.loads(code), validation.build(marshal.loads(vcode), vconstants))
    except Exception:
        return None


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pack-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        pass
