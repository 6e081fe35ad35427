"""The runs index: every run, filterable by scenario, trends per scenario, comparisons linked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from harness.compare._comparison import compare_runs, write_comparison
from harness.report import render_run_report
from harness.report._index_page import write_reports_index
from tests.harness._synthetic_run import SyntheticRun, simple_plan
from tests.harness.report._support import EVIL, SECRET_WORDS, rich_run


def _page(path: Path) -> Any:
    return lxml_html.fromstring(path.read_text(encoding="utf-8"))


def _figures(page: Any) -> dict[str, dict[str, Any]]:
    figures = {}
    for script in page.xpath('.//script[@type="application/json"]'):
        figure = json.loads(script.text)
        figures[figure["layout"]["title"]["text"]] = figure
    return figures


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """Two reported runs of `shop` (the second faster), one unreported `synthetic` run."""
    parent = tmp_path / "reports"
    parent.mkdir()
    render_run_report(rich_run(parent, "run-a", server=False))
    render_run_report(
        rich_run(parent, "run-b", server=False, slow_ms=10.0, started_at="2027-01-16T08:00:00.000Z")
    )
    SyntheticRun(parent / "run-c", simple_plan()).steady("search", range(30), 2, 5.0).finish()
    write_reports_index(parent)
    return parent


def test_every_run_is_listed_newest_first_with_verdict_and_headline(reports: Path) -> None:
    rows = _page(reports / "index.html").xpath('//table[@id="runs"]/tbody/tr')
    runs = [row.xpath("./td[2]")[0].text_content().split()[0] for row in rows]
    assert runs == ["run-b", "run-c", "run-a"]  # run-c started with run-a: by name, newest first
    by_run = {row.xpath("./td[2]")[0].text_content().split()[0]: row for row in rows}
    cells = [td.text_content() for td in by_run["run-a"].xpath("./td")]
    assert cells[2:6] == [
        "shop",
        "test",
        "http://user:REDACTED@127.0.0.1:1/?token=REDACTED",
        "fail",
    ]
    assert by_run["run-a"].xpath("./td[2]/a")[0].get("href") == "run-a/index.html"
    headline = json.loads((reports / "run-a" / "report.json").read_text())["headline"]
    assert cells[6] == f"{headline['requests']:,}"
    unreported = [td.text_content() for td in by_run["run-c"].xpath("./td")]
    assert "(no report yet)" in unreported[1]
    assert "not evaluated" in unreported[5]


def test_runs_are_filterable_by_scenario(reports: Path) -> None:
    page = _page(reports / "index.html")
    options = [o.get("value") for o in page.xpath('//select[@id="scenario-filter"]/option')]
    assert options == ["", "shop", "synthetic"]
    tagged = {row.get("data-scenario") for row in page.xpath('//table[@id="runs"]/tbody/tr')}
    assert tagged == {"shop", "synthetic"}
    assert {s.get("data-scenario") for s in page.xpath("//section[@data-scenario]")} == tagged
    source = (reports / "index.html").read_text(encoding="utf-8")
    assert 'getElementById("scenario-filter")' in source


def test_trends_chart_each_key_objective_across_runs_of_a_scenario(reports: Path) -> None:
    page = _page(reports / "index.html")
    shop = page.xpath('//section[@data-scenario="shop"]')[0]
    figures = _figures(shop)
    assert set(figures) == {"*.latency.p99", "p95 latency objective per operation"}
    p99 = figures["*.latency.p99"]
    assert p99["data"][0]["x"] == ["2027-01-15T08:00:00.000Z", "2027-01-16T08:00:00.000Z"]
    assert len(p99["data"][0]["y"]) == 2
    assert [s["y0"] for s in p99["layout"]["shapes"]] == [40.0]
    per_op = {t["name"]: t for t in figures["p95 latency objective per operation"]["data"]}
    assert set(per_op) == {"product_search", "&lt;script&gt;alert(1)&lt;/script&gt;"}
    first, second = per_op["product_search"]["y"]
    assert second < first / 2  # run-b's searches are three times faster
    lonely = page.xpath('//section[@data-scenario="synthetic"]')[0].text_content()
    assert "One run so far" in lonely


def test_comparisons_link_both_runs_and_overlay_their_distributions(reports: Path) -> None:
    comparison = compare_runs(
        reports / "run-a", reports / "run-b", max_regression=0.1, confidence=0.95
    )
    write_comparison(comparison, reports / "run-b")
    render_run_report(reports / "run-b")
    row = _page(reports / "index.html").xpath("//h2[.='Comparisons']/following::table[1]//tbody/tr")
    assert len(row) == 1
    links = [a.get("href") for a in row[0].xpath(".//a")]
    assert links == ["run-a/index.html", "run-b/index.html", "run-b/compare.html"]
    page = _page(reports / "run-b" / "compare.html")
    assert page.xpath("//*[@data-verdict]")[0].get("data-verdict") == "no_regression"
    figures = _figures(page)
    overlay = figures["every request: latency distribution, base vs new"]
    assert [t["name"] for t in overlay["data"]] == ["base run", "new run"]
    assert all(len(t["y"]) > 10 for t in overlay["data"])
    assert "product_search: latency distribution, base vs new" in figures
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;: latency distribution, base vs new"
    assert escaped in figures
    assert EVIL not in (reports / "run-b" / "compare.html").read_text(encoding="utf-8")


def test_plotly_is_one_local_copy_never_a_cdn(reports: Path) -> None:
    for page in (reports / "index.html", reports / "run-a" / "index.html"):
        sources = [s.get("src") for s in _page(page).xpath("//script[@src]")]
        assert sources in (["plotly.min.js"], ["../plotly.min.js"])
        assert "cdn" not in page.read_text(encoding="utf-8").lower()
    bundle = reports / "plotly.min.js"
    assert bundle.stat().st_size > 1_000_000
    assert "plotly.js" in bundle.read_text(encoding="utf-8")[:500]
    assert not (reports / "run-a" / "plotly.min.js").exists()


def test_the_index_keeps_no_secret_and_skips_unreadable_runs(reports: Path) -> None:
    broken = reports / "broken"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    write_reports_index(reports)
    text = (reports / "index.html").read_text(encoding="utf-8")
    for secret in SECRET_WORDS:
        assert secret not in text
    assert "1 directories with an unreadable run.json skipped" in text


def test_an_empty_reports_directory_says_so(tmp_path: Path) -> None:
    write_reports_index(tmp_path)
    text = _page(tmp_path / "index.html").text_content()
    assert "No runs here yet" in text
    assert "No comparisons" in text
