"""The runs index's trends per scenario and profile: p95/p99, failed requests and throughput
across runs, a named baseline's band and limit, and the runs it flagged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from harness.compare import add_to_baseline, check_against_baseline
from harness.report import refresh_runs_index, render_run_report
from tests.harness.compare._baseline_support import judged_run


def _figures(element: Any) -> dict[str, dict[str, Any]]:
    figures = {}
    for script in element.xpath('.//script[@type="application/json"]'):
        figure = json.loads(script.text)
        figures[figure["layout"]["title"]["text"]] = figure
    return figures


def _section(reports: Path) -> Any:
    page = lxml_html.fromstring((reports / "index.html").read_text(encoding="utf-8"))
    sections = page.xpath('//section[@class="across-runs"]')
    assert len(sections) == 1
    return sections[0]


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """Six reported runs of one scenario and profile; the sixth slowed by 20 ms."""
    parent = tmp_path / "reports"
    for day in range(1, 6):
        render_run_report(judged_run(parent, f"run-{day}", seed=day, day=day))
    render_run_report(judged_run(parent, "slow", seed=9, day=6, added_ms=20.0))
    return parent


def test_trends_across_runs_without_a_baseline(reports: Path) -> None:
    section = _section(reports)
    assert section.get("data-scenario") == "synthetic"
    assert section.get("data-profile") == "test"
    assert "No named baseline" in section.text_content()
    figures = _figures(section)
    assert set(figures) == {
        "p95 and p99 latency, every request",
        "Failed requests, every request",
        "Throughput, every request",
    }
    latency = figures["p95 and p99 latency, every request"]
    assert [trace["name"] for trace in latency["data"]] == ["p95", "p99"]
    p95 = latency["data"][0]
    assert p95["x"] == [f"2027-01-0{day}T08:00:00.000Z" for day in range(1, 7)]
    headline = json.loads((reports / "slow" / "report.json").read_text())["headline"]
    assert p95["y"][-1] == pytest.approx(headline["p95_ms"], abs=1e-3)
    assert p95["y"][-1] > max(p95["y"][:5])
    assert not latency["layout"].get("shapes")


def test_a_baseline_draws_its_band_and_marks_the_runs_it_flagged(reports: Path) -> None:
    baselines = reports / "baselines"
    manifest, _ = add_to_baseline(baselines, "main", [reports / f"run-{d}" for d in range(1, 6)])
    check = check_against_baseline(baselines, "main", reports / "slow")
    assert check.regression
    refresh_runs_index(reports)
    section = _section(reports)
    assert "baseline main" in section.text_content()
    assert "Red crosses: the 1 runs" in section.text_content()
    figures = _figures(section)
    latency = figures["p95 and p99 latency, every request (baseline main)"]
    band = next(b for b in manifest.bands if (b.operation, b.figure) == ("*", "p95_ms"))
    shapes = latency["layout"]["shapes"]
    shaded = [s for s in shapes if s["type"] == "rect"]
    assert len(shaded) == 2  # p95 and p99 (2,400 requests a run: p99 is tested too)
    assert (shaded[0]["y0"], shaded[0]["y1"]) == (
        pytest.approx(band.low, abs=1e-3),
        pytest.approx(band.high, abs=1e-3),
    )
    limits = [s["y0"] for s in shapes if s["type"] == "line"]
    assert limits[0] == pytest.approx(band.limit, abs=1e-3)
    crosses = [t for t in latency["data"] if t.get("marker", {}).get("symbol") == "x"]
    assert len(crosses) == 2  # on the p95 and the p99 line
    assert crosses[0]["x"] == ["2027-01-06T08:00:00.000Z"]
    assert "product_search p50_ms" in crosses[0]["customdata"][0]
    throughput = figures["Throughput, every request (baseline main)"]
    limit = next(b for b in manifest.bands if (b.operation, b.figure) == ("*", "throughput_rps"))
    assert limit.direction == "lower_is_worse"
    assert any(s["type"] == "line" for s in throughput["layout"]["shapes"])
