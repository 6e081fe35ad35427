"""A capacity search's report and the runs index listing it, in a real headless chromium: no
console error, both searches charted with data, the knee and hostile names shown as text;
screenshots kept under test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import write_capacity_report
from tests.e2e._chromium import CHROMIUM, PageReport, inspect_page
from tests.harness.report._capacity_support import KNEE_SUMMARY, write_capacity_dir
from tests.harness.report._support import EVIL

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parallel_safe,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]

DRAWN_KNEE = """(() => {
  const plot = document.querySelector('.js-plotly-plot');
  const band = plot.querySelectorAll('.shapelayer path').length;
  const markers = plot.querySelectorAll('g.trace.scatter .points path').length;
  const yaxes = plot.querySelectorAll('g.ytick').length > 0 && !!plot.querySelector('.y2tick');
  return JSON.stringify({shapes: band, markers: markers, twoPanels: yaxes});
})()"""


def _keep(report: PageReport, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(report.screenshot)


def test_the_capacity_report_draws_each_search_with_no_console_error(tmp_path: Path) -> None:
    page = write_capacity_report(write_capacity_dir(tmp_path))
    report = inspect_page(page.as_uri(), after=DRAWN_KNEE)
    _keep(report, "report-capacity.png")
    assert report.console_errors == []
    assert report.figures == 2
    assert len(report.plots) == 2
    for plot in report.plots:
        assert plot["traces"] >= 4, plot["title"]
        assert plot["points"] > 0, plot["title"]
    assert report.after["twoPanels"]
    assert report.after["shapes"] >= 3  # the knee's band, its held and its broken rate
    assert report.after["markers"] >= 6  # a marker per step
    assert "Knee of one instance: between 113.1 and 134.5 arrivals/s" in report.body_text
    assert KNEE_SUMMARY in report.body_text
    assert EVIL in report.body_text  # shown as text ...
    assert not report.alerted  # ... never run

    index = inspect_page((tmp_path / "index.html").as_uri())
    _keep(index, "report-index-capacity.png")
    assert index.console_errors == []
    assert "between 113.1 and 134.5 arrivals/s" in index.body_text
