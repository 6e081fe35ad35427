"""The capacity searches a reports directory holds, as the runs index lists them: one
`CapacityEntry` per directory with a capacity.json.

A capacity directory's steps are run directories inside it, so they are never top-level runs;
the index lists the search once, by its knee. A capacity.json that cannot be read is listed
as unreadable (with why), never skipped in silence and never an error of the whole index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from harness.errors import RunDirError
from harness.redaction import scrub_text
from harness.report._capacity_page import CAPACITY_PAGE_FILE
from harness.report._capacity_view import knee_range
from harness.rundir import CAPACITY_FILE, is_capacity_dir, read_capacity_record


@dataclass(frozen=True, slots=True)
class CapacityEntry:
    """One capacity directory as the index lists it."""

    name: str
    """Directory name."""
    href: str
    """Relative link to its report.html ("" when none was written yet)."""
    created_at: str = ""
    """When the search finished (ISO, UTC); "" when unreadable."""
    scenario: str = "—"
    profile: str = "—"
    target: str = "—"
    knee_bound: str = ""
    """found, generator, ceiling, floor or steps ("" when unreadable)."""
    knee_range: str = ""
    """Where the knee of one instance lies (`between 180 and 210 arrivals/s`)."""
    knee_summary: str = ""
    """The knee's one line, as `perfctl capacity` printed it."""
    achieved_rps: float | None = None
    """Requests per second completed at the knee."""
    limiting_objective: str = ""
    """The objective that broke first as the rate rose."""
    steps: int = 0
    """Steps run over every search."""
    error: str = ""
    """Why capacity.json could not be read ("" when it was)."""


def _entry(capacity_dir: Path) -> CapacityEntry:
    page = capacity_dir / CAPACITY_PAGE_FILE
    href = f"{quote(capacity_dir.name)}/{CAPACITY_PAGE_FILE}" if page.is_file() else ""
    try:
        record = read_capacity_record(capacity_dir)
    except RunDirError as error:
        # the message names the file by its full path: the page names it relative to itself
        why = str(error).replace(str(capacity_dir / CAPACITY_FILE), CAPACITY_FILE)
        return CapacityEntry(name=capacity_dir.name, href=href, error=scrub_text(why))
    knee = record.single.knee
    return CapacityEntry(
        name=capacity_dir.name,
        href=href,
        created_at=record.created_at,
        scenario=record.scenario,
        profile=record.profile,
        target=scrub_text(record.target),
        knee_bound=knee.bound,
        knee_range=knee_range(knee),
        knee_summary=scrub_text(knee.summary),
        achieved_rps=knee.achieved_rps,
        limiting_objective=knee.limiting_objective,
        steps=sum(len(search.steps) for search in record.searches),
    )


def collect_capacities(reports_dir: Path) -> list[CapacityEntry]:
    """Every capacity directory directly below `reports_dir`, newest first (their names start
    with the UTC time they began)."""
    found = [path for path in reports_dir.iterdir() if path.is_dir() and is_capacity_dir(path)]
    found.sort(key=lambda path: path.name, reverse=True)
    return [_entry(path) for path in found]
