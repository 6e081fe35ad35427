"""The runs index lists capacity searches by their knee, never their steps as runs, and shows
an unreadable capacity.json as unreadable instead of failing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from harness.report import render_run_report, write_capacity_report
from harness.report._index_page import write_reports_index
from harness.rundir import CAPACITY_FILE
from tests.harness._synthetic_run import SyntheticRun, simple_plan
from tests.harness.report._capacity_support import (
    CAPACITY_ID,
    KNEE_SUMMARY,
    capacity_record,
    with_knee,
    write_capacity_dir,
)


def _page(path: Path) -> Any:
    return lxml_html.fromstring(path.read_text(encoding="utf-8"))


def _rows(reports: Path, table: str) -> list[Any]:
    return list(_page(reports / "index.html").xpath(f"//table[@id='{table}']/tbody/tr"))


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A run beside a reported capacity search whose first step is a real run directory."""
    reports = tmp_path / "reports"
    reports.mkdir()
    run = SyntheticRun(reports / "run-a", simple_plan()).steady("search", range(20), 2, 5.0)
    render_run_report(run.finish())
    capacity_dir = write_capacity_dir(reports)
    step = SyntheticRun(capacity_dir / "1x-step-01", simple_plan(scenario="capacity"))
    step.steady("search", range(10), 2, 5.0).finish()
    write_capacity_report(capacity_dir)
    return reports


def test_a_capacity_search_is_listed_with_its_knee_and_linked_to_its_report(
    reports: Path,
) -> None:
    (row,) = _rows(reports, "capacities")
    assert row.get("data-capacity") == CAPACITY_ID
    assert row.get("data-knee-bound") == "found"
    cells = [" ".join(td.text_content().split()) for td in row.xpath("./td")]
    assert cells[0] == "2027-01-20 08:14:00.000"
    assert cells[1] == CAPACITY_ID
    assert cells[2:5] == ["capacity", "ci", "embedded"]
    assert row.xpath("./td[6]/strong")[0].text_content() == "between 113.1 and 134.5 arrivals/s"
    assert row.xpath("./td[6]/div")[0].text_content() == KNEE_SUMMARY
    assert cells[6:] == ["412.8", "product_search.latency.p95", "8"]
    assert row.xpath("./td[2]/a/@href") == [f"{CAPACITY_ID}/report.html"]


def test_steps_are_never_listed_as_runs(reports: Path) -> None:
    runs = [row.xpath("./td[2]")[0].text_content().split()[0] for row in _rows(reports, "runs")]
    assert runs == ["run-a"]


def test_an_unreadable_capacity_json_is_listed_as_unreadable(reports: Path) -> None:
    broken = reports / "2027-01-21T080000Z-capacity"
    broken.mkdir()
    (broken / CAPACITY_FILE).write_text("{not json")
    write_reports_index(reports)
    first, second = _rows(reports, "capacities")  # newest first
    assert first.get("data-capacity") == broken.name
    text = " ".join(first.text_content().split())
    assert "unreadable capacity.json" in text
    assert "capacity.json: not valid JSON" in text
    assert str(reports) not in text  # the file named relative to the page
    assert second.get("data-capacity") == CAPACITY_ID
    assert [row.xpath("./td[2]")[0].text_content() for row in _rows(reports, "runs")] == ["run-a"]


def test_a_search_without_a_report_yet_is_listed_unlinked(tmp_path: Path) -> None:
    record = with_knee(capacity_record(), bound="generator", broke_rate_per_s=None)
    write_capacity_dir(tmp_path, record)
    write_reports_index(tmp_path)
    (row,) = _rows(tmp_path, "capacities")
    assert not row.xpath(".//a")
    text = " ".join(row.text_content().split())
    assert "(no report yet)" in text
    assert "at least 113.1 arrivals/s" in text


def test_an_index_without_capacity_searches_says_so(tmp_path: Path) -> None:
    write_reports_index(tmp_path)
    assert "No capacity searches" in _page(tmp_path / "index.html").text_content()
