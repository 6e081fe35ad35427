"""The run report's throughput judged from a capacity run: the checks whose verdict came from a
capacity search's knee (`judged_by: capacity`), apart from the checks the run judged itself.

They are shown as the capacity page shows them (`instance_rows`: one owner for the row), under
the capacity run's name, linked to its page when that page lies beside the run directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from harness.report._capacity_page import CAPACITY_PAGE_FILE
from harness.report._capacity_view import InstanceRow, instance_rows, is_plain_name
from harness.verdict import Check, Verdict


def judged_by_capacity(check: Check) -> bool:
    """Whether a check was judged from a capacity search rather than from the run's load."""
    return check.judged_by == "capacity"


@dataclass(frozen=True, slots=True)
class CapacityChecksSection:
    """The capacity-judged checks of one verdict, ready for the run page."""

    capacity_run: str
    """The capacity directory's name ("" when neither the verdict nor a check names one)."""
    href: str
    """`../<capacity_run>/report.html` when that page exists beside the run, else ""."""
    rows: list[InstanceRow]
    """One row per capacity check, in the verdict's (SLA) order."""


def _capacity_run(verdict: Verdict, checks: list[Check]) -> str:
    """The verdict's capacity run, else the one the first check's basis names."""
    if verdict.capacity_run:
        return verdict.capacity_run
    for check in checks:
        named = (check.basis or {}).get("capacity_run")
        if isinstance(named, str) and named:
            return named
    return ""


def _href(run_dir: Path, capacity_run: str) -> str:
    """A link to the capacity page beside the run; "" for a name that is not one directory
    (a name read from a file never leads elsewhere) or a page that is not there."""
    if not is_plain_name(capacity_run):
        return ""
    if not (run_dir.resolve().parent / capacity_run / CAPACITY_PAGE_FILE).is_file():
        return ""
    return f"../{quote(capacity_run)}/{CAPACITY_PAGE_FILE}"


def capacity_checks_section(verdict: Verdict | None, run_dir: Path) -> CapacityChecksSection | None:
    """The section for `run_dir`'s verdict; None when no check was judged from a capacity run."""
    if verdict is None:
        return None
    checks = [check for check in verdict.checks if judged_by_capacity(check)]
    if not checks:
        return None
    capacity_run = _capacity_run(verdict, checks)
    return CapacityChecksSection(
        capacity_run=capacity_run,
        href=_href(run_dir, capacity_run),
        rows=instance_rows(checks),
    )
