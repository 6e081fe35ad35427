"""Where perfctl finds sla.yaml and scenarios/: the current directory first, then the checkout."""

from __future__ import annotations

from pathlib import Path

import harness

_CHECKOUT = Path(harness.__file__).resolve().parent.parent


def find_project_file(name: str) -> Path:
    """`name` in the current directory if it exists there, else at the root of the checkout."""
    local = Path(name)
    if local.exists():
        return local
    installed = _CHECKOUT / name
    return installed if installed.exists() else local


def scenarios_dir() -> Path:
    """The scenarios/ directory: under the current directory first, then in the checkout."""
    return find_project_file("scenarios")
