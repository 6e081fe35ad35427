"""The runs index's trends with a named baseline's band in a real headless chromium: no console
error, every chart drawn, the flagged run marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.compare import add_to_baseline, check_against_baseline
from harness.report import refresh_runs_index, render_run_report
from tests.e2e._chromium import CHROMIUM, inspect_page
from tests.harness.compare._baseline_support import judged_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parallel_safe,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]


def test_the_trends_with_a_baseline_band_render_with_no_console_error(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    runs = [judged_run(reports, f"run-{day}", seed=day, day=day) for day in range(1, 6)]
    for run in runs:
        render_run_report(run)
    slow = judged_run(reports, "slow", seed=9, day=6, added_ms=20.0)
    render_run_report(slow)
    add_to_baseline(reports / "baselines", "main", runs)
    assert check_against_baseline(reports / "baselines", "main", slow).regression
    refresh_runs_index(reports)
    report = inspect_page((reports / "index.html").as_uri())
    assert report.console_errors == []
    titles = [plot["title"] for plot in report.plots]
    assert "p95 and p99 latency, every request (baseline main)" in titles
    assert len(report.plots) == report.figures
    for plot in report.plots:
        assert plot["traces"] > 0, plot["title"]
        assert plot["points"] > 0, plot["title"]
    assert "Red crosses: the 1 runs a baseline flagged" in report.body_text
