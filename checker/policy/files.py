"""Which files make a policy pack, and its content hash.

Kept apart from the loader so that a cache hit (cache.py) can name the pack
without importing TOML or jsonschema.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

from ..resources import policies_dir
from .model import PolicyError

#: pack metadata (name, version) in a policy folder; not a policy file
PACK_FILE = "pack.toml"


def policy_files(dirs: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """(path, name to show) of every policy file, folder by folder, sorted."""
    found = []
    for entry in dirs:
        root = Path(entry)
        if root.is_file():
            found.append((root, str(entry)))
            continue
        if not root.is_dir():
            raise PolicyError(str(entry), "no such policy file or folder")
        # the bundled pack is shown as policies/..., wherever it is installed
        label = "policies" if root.resolve() == policies_dir().resolve() else str(entry).rstrip("/")
        for path in sorted(root.rglob("*.toml")):
            if path.name != PACK_FILE:
                found.append((path, f"{label}/{path.relative_to(root).as_posix()}"))
    return found


def fingerprint(dirs: Iterable[str | Path]) -> tuple[str, list[tuple[Path, str, bytes]]]:
    """The sha256 of the pack's files (names and bytes), and the files read."""
    digest = hashlib.sha256()
    files = []
    for path, shown in policy_files(dirs):
        data = path.read_bytes()
        files.append((path, shown, data))
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
    for entry in dirs:
        meta = Path(entry) / PACK_FILE
        if meta.is_file():
            digest.update(meta.read_bytes())
    return digest.hexdigest(), files


def default_dirs(extra: Iterable[str | Path] = (), bundled: bool = True) -> list[str | Path]:
    return ([policies_dir()] if bundled else []) + list(extra)
