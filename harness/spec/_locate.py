"""Where perfctl finds sla.yaml and scenarios/: the current directory first, then the checkout,
then the examples the wheel ships.

A wheel-installed perfctl has no checkout: the repository's sla.yaml, scenarios/ and examples/
travel in the wheel under `harness/spec/shipped/` (copied there by setup.py's build), so
`perfctl run smoke` works in an empty directory and `perfctl init` can write them out.
"""

from __future__ import annotations

from pathlib import Path

import harness

_CHECKOUT = Path(harness.__file__).resolve().parent.parent
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
"""The wheel's copy of the repository's sla.yaml, scenarios/ and examples/ (same paths)."""


def shipped_root() -> Path:
    """Where the example files are: the checkout perfctl runs from, else the wheel's copy."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "scenarios").is_dir():
        return _CHECKOUT
    return SHIPPED_DIR


def find_project_file(name: str) -> Path:
    """`name` in the current directory if it exists there, else the checkout's or the wheel's."""
    local = Path(name)
    if local.exists():
        return local
    shipped = shipped_root() / name
    return shipped if shipped.exists() else local


def scenarios_dir() -> Path:
    """The scenarios/ directory: under the current directory first, then the shipped one."""
    return find_project_file("scenarios")
