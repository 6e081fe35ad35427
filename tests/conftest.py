"""Markers every test gets from where it lives.

`make test` runs the unit and backend tests on both cores (pytest-xdist) and then, alone on
the machine, everything that measures time or CPU under real load: the tests marked `slow`
or `serial` (real servers within fixed timeouts) and every end-to-end test (marked `e2e`
here), whose figures and deadlines a neighbour's load would skew.
"""

from __future__ import annotations

from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)
