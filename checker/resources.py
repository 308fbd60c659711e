"""Where the bundled policy pack and the snapshot schemas live.

In a source checkout (and an editable install) they are the top-level
`policies/` and `schemas/` folders; a wheel carries them inside the package
as `checker/_bundled/` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    bundled = _HERE / "_bundled" / name
    if bundled.is_dir():
        return bundled
    return _HERE.parent / name


def policies_dir() -> Path:
    return _find("policies")


def schemas_dir() -> Path:
    return _find("schemas")
