"""A capacity search's report: `CAPACITY_DIR/report.html`, the knee of one instance first, then
the steps that bound it, the scaling between searches and the instances each throughput
objective needs.

The page reads `capacity.json` (strictly, through `read_capacity_record`) and looks for each
step's run directory only to link it; a step whose directory is gone is listed unlinked. Like
a run's page it loads the reports directory's one shared `plotly.min.js` (`../`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.report._capacity_figures import search_figure
from harness.report._capacity_view import (
    BOUND_NOTES,
    capacity_checks,
    instance_rows,
    knee_range,
    scaling_pairs,
    step_rows,
    what_was_searched,
)
from harness.report._html import PLOTLY_FILE, embed, ensure_plotly, render, write_atomically
from harness.rundir import CapacityRecord, read_capacity_record

CAPACITY_PAGE_FILE = "report.html"


def _searches(record: CapacityRecord, capacity_dir: Path) -> list[dict[str, Any]]:
    searches = []
    for index, search in enumerate(record.searches, start=1):
        figure = search_figure(search)
        searches.append(
            {
                "instances": search.instances,
                "knee": search.knee,
                "knee_range": knee_range(search.knee),
                "figure": {"id": f"figure-{index}", "json": embed(figure)} if figure else None,
                "steps": step_rows(capacity_dir, search.steps),
            }
        )
    return searches


def _context(record: CapacityRecord, capacity_dir: Path) -> dict[str, Any]:
    knee = record.single.knee
    return {
        "version": __version__,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "plotly_src": f"../{PLOTLY_FILE}",
        "record": record,
        "knee": knee,
        "knee_range": knee_range(knee),
        "bound_note": BOUND_NOTES.get(knee.bound, knee.bound),
        "what": what_was_searched(record),
        "searches": _searches(record, capacity_dir),
        "scaling": scaling_pairs(record.scaling, record.machine_cores),
        "instances": instance_rows(capacity_checks(record, capacity_dir)),
        "settings": [(key, str(value)) for key, value in record.settings.items()],
    }


def write_capacity_page(capacity_dir: Path) -> Path:
    """Render `capacity_dir/report.html` (and make sure the parent holds plotly.js); its path.
    A RunDirError (exit 3) when capacity.json is missing or malformed."""
    record = read_capacity_record(capacity_dir)
    page = render("capacity.html.j2", **_context(record, capacity_dir))
    path = capacity_dir / CAPACITY_PAGE_FILE
    write_atomically(path, page)
    ensure_plotly(capacity_dir.resolve().parent)
    return path
