"""Markers every test gets from where it lives.

`make test` runs the unit and backend tests on both cores (pytest-xdist) and then, alone on
the machine, everything that measures time or CPU under real load: the tests marked `slow`
or `serial` (real servers within fixed timeouts) and every end-to-end test (marked `e2e`
here), whose figures and deadlines a neighbour's load would skew. Those get the marker
`alone`, which the Makefile selects on. An end-to-end module whose assertions are about what
was sent, answered and written, never about time or CPU (usage errors, validation, reports
of synthetic run directories, imports, the README's tutorial, the wheel, the GitHub Action's
step), and whose deadlines are generous, declares `pytestmark = pytest.mark.parallel_safe`
and runs in the parallel part.
"""

from __future__ import annotations

from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        e2e = item.path.is_relative_to(E2E_DIR)
        if e2e:
            item.add_marker(pytest.mark.e2e)
        timed = item.get_closest_marker("slow") or item.get_closest_marker("serial")
        if timed or (e2e and not item.get_closest_marker("parallel_safe")):
            item.add_marker(pytest.mark.alone)
