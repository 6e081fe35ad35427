"""The runs index: `reports/index.html`, every run with its verdict and headline figures,
filterable by scenario, every capacity search with its knee, trends of the key objectives per
scenario, and comparisons.

The runs come from `_run_entries` (small files per run, never a timeline), so refreshing the
index stays instant however many runs the directory holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from harness import __version__
from harness.errors import RunDirError
from harness.redaction import scrub_text
from harness.report._baseline_trends import baseline_for, baseline_trend_figures, read_baselines
from harness.report._capacity_entries import collect_capacities
from harness.report._html import PLOTLY_FILE, embed, ensure_plotly, render, write_atomically
from harness.report._run_entries import INDEX_FILE, collect_runs
from harness.report._trends import trend_figures


def write_reports_index(reports_dir: Path) -> Path:
    """Render `reports_dir/index.html` from the run and capacity directories it holds; its path."""
    if not reports_dir.is_dir():
        raise RunDirError(f"{reports_dir}: no such reports directory")
    runs, comparisons, skipped = collect_runs(reports_dir)
    scenarios = sorted({run.scenario for run in runs})
    count = 0
    trends = []
    for scenario in scenarios:
        figures = []
        for figure in trend_figures([run for run in runs if run.scenario == scenario]):
            count += 1
            figures.append({"id": f"figure-{count}", "json": embed(figure)})
        trends.append(
            {
                "scenario": scenario,
                "runs": sum(1 for run in runs if run.scenario == scenario),
                "figures": figures,
            }
        )
    baselines = read_baselines(reports_dir)
    across = []
    for scenario, profile in sorted({(run.scenario, run.profile) for run in runs}):
        group = [run for run in runs if (run.scenario, run.profile) == (scenario, profile)]
        baseline = baseline_for(group, baselines)
        figures = []
        for figure in baseline_trend_figures(group, baseline):
            count += 1
            figures.append({"id": f"figure-{count}", "json": embed(figure)})
        if figures:
            across.append(
                {
                    "scenario": scenario,
                    "profile": profile,
                    "runs": len(group),
                    "baseline": baseline,
                    "baseline_target": scrub_text(baseline.key.target) if baseline else "",
                    "regressions": sum(1 for run in group if run.regressions),
                    "figures": figures,
                }
            )
    page = render(
        "index.html.j2",
        version=__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        plotly_src=PLOTLY_FILE,
        runs=runs,
        scenarios=scenarios,
        trends=trends,
        across=across,
        comparisons=comparisons,
        capacities=collect_capacities(reports_dir),
        skipped=skipped,
    )
    path = reports_dir / INDEX_FILE
    write_atomically(path, page)
    ensure_plotly(reports_dir)
    return path
