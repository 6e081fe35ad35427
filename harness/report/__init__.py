"""HTML reports of runs: `RUN_DIR/index.html` per run, `CAPACITY_DIR/report.html` per capacity
search, and `reports/index.html` across runs and capacity searches.

Pages are jinja2 templates (autoescape on) with plotly figures; plotly.js is one shared copy
from the installed plotly package in the reports directory, so every page works offline. The
report evaluates nothing: it shows the verdict, the timeline and the server series the run
directory holds, and knows no target (its business view is whatever metrics the target's
server series carry beyond the server's resources).

Public names::

    render_run_report   write a run's page (and report.json), refresh the runs index beside it
    write_capacity_report  write a capacity search's page (the knee of one instance, its
                        steps, scaling, instances needed), refresh the runs index beside it
    serve_reports       `perfctl reports serve`: serve a reports directory until Ctrl-C
    refresh_runs_index  rewrite `reports/index.html` (after a run was compared with a baseline)
"""

from __future__ import annotations

from pathlib import Path

from harness.report._browse import serve_reports


def render_run_report(run_dir: Path) -> Path:
    """Write `run_dir/index.html`, refresh the runs index of its parent directory, and return
    the run page's path (what `perfctl report` and the end of `perfctl run` call)."""
    from harness.report._index_page import write_reports_index
    from harness.report._run_page import write_run_page

    page = write_run_page(run_dir)
    write_reports_index(run_dir.resolve().parent)
    return page


def write_capacity_report(capacity_dir: Path) -> Path:
    """Write `capacity_dir/report.html` from its capacity.json, refresh the runs index of its
    parent directory, and return the page's path (what `perfctl report CAPACITY_DIR` and the
    end of `perfctl capacity` call); a RunDirError when capacity.json is missing or malformed."""
    from harness.report._capacity_page import write_capacity_page
    from harness.report._index_page import write_reports_index

    page = write_capacity_page(capacity_dir)
    write_reports_index(capacity_dir.resolve().parent)
    return page


def refresh_runs_index(reports_dir: Path) -> Path:
    """Rewrite `reports_dir/index.html` from the runs, capacity searches and baselines it holds."""
    from harness.report._index_page import write_reports_index

    return write_reports_index(reports_dir)


__all__ = ["refresh_runs_index", "render_run_report", "serve_reports", "write_capacity_report"]
