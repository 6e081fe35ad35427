"""Generated reports in a real headless chromium: no console error, every plot drawn with data,
the verdict visible, hostile names shown as text; screenshots kept under test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.compare._comparison import compare_runs, write_comparison
from harness.report import render_run_report
from tests.e2e._chromium import CHROMIUM, PageReport, inspect_page
from tests.harness._synthetic_run import SyntheticRun, simple_plan
from tests.harness.report._support import EVIL, rich_run

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parallel_safe,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("reports")
    base = rich_run(parent, "base", model="open")
    render_run_report(base)
    new = rich_run(parent, "new", slow_ms=12.0, started_at="2027-01-16T08:00:00.000Z")
    write_comparison(compare_runs(base, new, max_regression=0.1, confidence=0.95), new)
    render_run_report(new)
    other = SyntheticRun(parent / "other", simple_plan(scenario="another"))
    render_run_report(other.steady("search", range(60), 5, 20.0).finish())
    return parent


def _keep(report: PageReport, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(report.screenshot)


def _assert_every_plot_drawn(report: PageReport, at_least: int) -> None:
    assert report.console_errors == []
    assert report.figures >= at_least
    assert len(report.plots) == report.figures
    for plot in report.plots:
        assert plot["traces"] > 0, plot["title"]
        assert plot["points"] > 0, plot["title"]


def test_run_report_renders_with_no_console_error(reports: Path) -> None:
    report = inspect_page((reports / "new" / "index.html").as_uri())
    _keep(report, "report-run.png")
    _assert_every_plot_drawn(report, at_least=15)
    assert report.verdict == "fail"
    assert report.verdict_visible
    assert "FAIL" in report.verdict_text
    assert EVIL in report.body_text  # shown as text ...
    assert not report.alerted  # ... never run


def test_open_model_report_draws_service_time(reports: Path) -> None:
    report = inspect_page((reports / "base" / "index.html").as_uri())
    _keep(report, "report-run-open.png")
    _assert_every_plot_drawn(report, at_least=15)
    latency = next(p for p in report.plots if p["title"] == "product_search: latency")
    assert latency["traces"] == 6  # p50/p95/p99 corrected and service time


FILTER_TO_FIRST_SCENARIO = """(() => {
  const select = document.getElementById('scenario-filter');
  select.value = select.options[1].value;
  select.dispatchEvent(new Event('change'));
  const visible = Array.from(document.querySelectorAll('#runs tbody tr'))
    .filter(row => !row.hidden).map(row => row.getAttribute('data-scenario'));
  const rows = document.querySelectorAll('#runs tbody tr').length;
  return JSON.stringify({chosen: select.value, visible: visible, rows: rows});
})()"""


def test_runs_index_and_comparison_render(reports: Path) -> None:
    index = inspect_page((reports / "index.html").as_uri(), after=FILTER_TO_FIRST_SCENARIO)
    _keep(index, "report-index.png")
    _assert_every_plot_drawn(index, at_least=2)
    assert index.after["chosen"] == "another"
    assert index.after["visible"] == ["another"]
    assert index.after["rows"] == 3
    assert "base" in index.body_text
    assert "new" in index.body_text
    compare = inspect_page((reports / "new" / "compare.html").as_uri())
    _keep(compare, "report-compare.png")
    _assert_every_plot_drawn(compare, at_least=2)
    assert compare.verdict in ("regression", "no_regression")
    assert compare.verdict_visible


def test_the_browser_check_does_see_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><body><div data-verdict='x'>x</div>"
        "<script>console.error('boom'); missingFunction();</script></body></html>"
    )
    report = inspect_page(page.as_uri())
    assert any("boom" in error for error in report.console_errors)
    assert any("missingFunction" in error for error in report.console_errors)
