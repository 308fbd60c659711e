"""Which files make a policy pack, and its content hash.

Kept apart from the loader so that a cache hit (cache.py) can list the pack
without importing TOML or jsonschema.
"""

from __future__ import annotations

import os
from typing import Iterable

from ..resources import policies_dir
from .model import PolicyError

#: pack metadata (name, version) in a policy folder; not a policy file
PACK_FILE = "pack.toml"
#: the penalty ladder (checker/radar/ladder.py) in a policy folder; not a policy file
LADDER_FILE = "penalties.toml"
#: the files of a policy folder that are not rule files: part of the pack's content all the same
META_FILES = (PACK_FILE, LADDER_FILE)


def policy_files(dirs: Iterable[str | os.PathLike[str]]) -> list[tuple[str, str]]:
    """(path, name to show) of every policy file, folder by folder, sorted."""
    found = []
    bundled = os.path.realpath(policies_dir())
    for entry in dirs:
        root = os.fspath(entry)
        if os.path.isfile(root):
            found.append((root, root))
            continue
        if not os.path.isdir(root):
            raise PolicyError(root, "no such policy file or folder")
        # the bundled pack is shown as policies/..., wherever it is installed
        label = "policies" if os.path.realpath(root) == bundled else root.rstrip("/")
        here = []
        for folder, _, names in os.walk(root):
            for name in names:
                if name.endswith(".toml") and not (folder == root and name in META_FILES):
                    path = os.path.join(folder, name)
                    here.append((os.path.relpath(path, root).replace(os.sep, "/"), path))
        found += [(path, f"{label}/{rel}") for rel, path in sorted(here)]
    return found


def pack_meta_files(dirs: Iterable[str | os.PathLike[str]], names: Iterable[str] = META_FILES) -> list[str]:
    """The pack.toml and penalties.toml of each folder (only at its top), in folder order."""
    return [p for d in dirs for p in (os.path.join(os.fspath(d), n) for n in names) if os.path.isfile(p)]


def fingerprint(dirs: Iterable[str | os.PathLike[str]]) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The sha256 of the pack's files (names and bytes), and the files read."""
    import hashlib

    dirs = list(dirs)
    digest = hashlib.sha256()
    files = []
    for path, shown in policy_files(dirs):
        with open(path, "rb") as f:
            data = f.read()
        files.append((path, shown, data))
        digest.update(os.path.basename(path).encode() + b"\0" + hashlib.sha256(data).digest())
    for meta in pack_meta_files(dirs):
        with open(meta, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest(), files


def default_dirs(extra: Iterable[str | os.PathLike[str]] = (), bundled: bool = True) -> list[str]:
    return ([policies_dir()] if bundled else []) + [os.fspath(e) for e in extra]
