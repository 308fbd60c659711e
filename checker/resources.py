"""Where the bundled policy pack and the snapshot schemas live.

In a source checkout (and an editable install) they are the top-level
`policies/` and `schemas/` folders; a wheel carries them inside the package
as `checker/_bundled/` (see pyproject.toml). Plain os.path: this runs on the
pre-publish path, where pathlib's import is noticeable.
"""

from __future__ import annotations

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def _find(name: str) -> str:
    bundled = os.path.join(_HERE, "_bundled", name)
    if os.path.isdir(bundled):
        return bundled
    return os.path.join(os.path.dirname(_HERE), name)


def policies_dir() -> str:
    return _find("policies")


def schemas_dir() -> str:
    return _find("schemas")


def schema_files() -> list[str]:
    """The schema files, sorted by name."""
    folder = schemas_dir()
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".schema.json")]
