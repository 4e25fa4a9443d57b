"""Where the shipped data folders (templates, workflows, migrations) live.

In a source checkout they sit at the top of the repository; in an installed
wheel they are packed inside `akta_service/`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """The folder `name` from the installed package, else from the source checkout."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is not installed with akta_service")
