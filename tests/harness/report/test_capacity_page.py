"""A capacity search's report: the knee of one instance first, every step a row, the scaling,
the instances each throughput objective needs, nothing unescaped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from harness.errors import RunDirError
from harness.report import write_capacity_report
from harness.rundir import CAPACITY_FILE
from tests.harness.report._capacity_support import (
    CAPACITY_ID,
    KNEE_SUMMARY,
    capacity_check,
    capacity_record,
    with_knee,
    write_capacity_dir,
)
from tests.harness.report._support import EVIL


def _page(path: Path) -> Any:
    return lxml_html.fromstring(path.read_text(encoding="utf-8"))


def _cells(row: Any) -> list[str]:
    return [" ".join(td.text_content().split()) for td in row.xpath("./td")]


def _figures(page: Any) -> list[dict[str, Any]]:
    return [json.loads(s.text) for s in page.xpath('//script[@type="application/json"]')]


@pytest.fixture
def capacity_dir(tmp_path: Path) -> Path:
    """The capacity directory of a 1-instance and a 2-instance search; step 1 was reported,
    step 2 only judged, every other step's directory is absent."""
    capacity_dir = write_capacity_dir(tmp_path)
    (capacity_dir / "1x-step-01").mkdir()
    (capacity_dir / "1x-step-01" / "index.html").write_text("<html></html>")
    (capacity_dir / "1x-step-01" / "verdict.json").write_text("{}")
    (capacity_dir / "1x-step-02").mkdir()
    (capacity_dir / "1x-step-02" / "verdict.json").write_text("{}")
    write_capacity_report(capacity_dir)
    return capacity_dir


def test_the_headline_is_the_knee_of_one_instance_and_what_bounds_it(capacity_dir: Path) -> None:
    page = _page(capacity_dir / "report.html")
    assert page.xpath("//main/section")[0].get("id") == "knee"
    banner = page.xpath("//*[@data-knee-bound]")[0]
    assert banner.get("data-knee-bound") == "found"
    words = " ".join(banner.text_content().split())
    assert "Knee of one instance: between 113.1 and 134.5 arrivals/s" in words
    assert KNEE_SUMMARY in words
    assert "known to ±8.6 %" in words
    cards = {
        card.get("data-card"): card.xpath("./div[@class='value']")[0].text_content()
        for card in page.xpath("//div[@data-card]")
    }
    assert cards == {
        "held": "113.1",
        "achieved": "412.8",
        "limiting": "product_search.latency.p95",
        "cpu": "75.4 %",
        "memory": "31 %",
    }
    pairs = {
        row.xpath("./th")[0].text_content(): row.xpath("./td")[0].text_content()
        for row in page.xpath("//section[@id='knee']//table[@class='pairs']//tr")
    }
    assert pairs["scenario"] == "capacity"
    assert pairs["profile"] == "ci"
    assert pairs["target"] == "embedded"
    assert pairs["SLA"].startswith("sla.yaml")
    assert pairs["capacity run"] == CAPACITY_ID


@pytest.mark.parametrize(
    ("knee", "headline"),
    [
        (
            {"bound": "generator", "broke_rate_per_s": None},
            "Knee of one instance: at least 113.1 arrivals/s",
        ),
        (
            {"bound": "ceiling", "broke_rate_per_s": None},
            "Knee of one instance: at least 113.1 arrivals/s",
        ),
        (
            {"bound": "floor", "held_rate_per_s": None, "broke_rate_per_s": 20.0},
            "Knee of one instance: below 20 arrivals/s",
        ),
        ({"bound": "steps"}, "Knee of one instance: between 113.1 and 134.5 arrivals/s"),
    ],
)
def test_the_knee_is_worded_by_its_bound(
    tmp_path: Path, knee: dict[str, Any], headline: str
) -> None:
    capacity_dir = write_capacity_dir(tmp_path, with_knee(capacity_record(), **knee))
    page = _page(write_capacity_report(capacity_dir))
    banner = page.xpath("//*[@data-knee-bound]")[0]
    assert banner.get("data-knee-bound") == knee["bound"]
    assert banner.xpath("./h1")[0].text_content() == headline


def test_every_step_is_a_row_in_run_order_linked_to_its_run(capacity_dir: Path) -> None:
    single = _page(capacity_dir / "report.html").xpath("//div[@data-instances='1']")[0]
    rows = single.xpath(".//table[contains(@class, 'steps')]/tbody/tr")
    table = [_cells(row) for row in rows]
    assert [cells[0].split()[0] for cells in table] == [f"1x-step-{n:02d}" for n in range(1, 7)]
    assert table[0] == [
        "1x-step-01",
        "20",
        "73",
        "10.0",
        "19.0",
        "13.3 % (0.13 cores)",
        "0.25",
        "held",
    ]
    assert table[3][1] == "160"
    assert table[3][-1] == "broke product_search.latency.p95"
    assert table[5][-1] == f"broke {EVIL}"  # shown as text
    assert [row.get("data-outcome") for row in rows] == [
        "held",
        "held",
        "held",
        "broke",
        "held",
        "broke",
    ]
    links = [row.xpath("./td[1]/a/@href") for row in rows]
    assert links[0] == ["1x-step-01/index.html"]
    assert links[1] == ["1x-step-02/verdict.json"]
    assert "(verdict.json)" in table[1][0]
    assert links[2:] == [[]] * 4
    assert "(no run directory)" in table[2][0]
    double = _page(capacity_dir / "report.html").xpath("//div[@data-instances='2']")[0]
    outcomes = [_cells(row)[-1] for row in double.xpath(".//tbody/tr")]
    assert outcomes == ["held", "generator fell short"]


def test_each_search_charts_its_steps_by_offered_rate_with_the_knee_marked(
    capacity_dir: Path,
) -> None:
    single, double = _figures(_page(capacity_dir / "report.html"))
    assert single["layout"]["title"]["text"] == "1 instance: achieved req/s and latency per step"
    assert single["layout"]["xaxis"]["type"] == "log"
    traces = {trace["name"]: trace for trace in single["data"]}
    assert set(traces) == {"achieved req/s", "held", "broke", "p95 latency", "p99 latency"}
    assert traces["achieved req/s"]["x"] == [20.0, 40.0, 80.0, 113.1, 134.5, 160.0]
    assert traces["held"]["x"] == [20.0, 40.0, 80.0, 113.1]
    assert traces["broke"]["x"] == [134.5, 160.0]
    assert traces["p95 latency"]["yaxis"] == "y2"
    assert traces["p95 latency"]["y"][3] < traces["p95 latency"]["y"][4]
    band = [s for s in single["layout"]["shapes"] if s["type"] == "rect"]
    assert [(s["x0"], s["x1"]) for s in band] == [(113.1, 134.5)]
    lines = sorted(s["x0"] for s in single["layout"]["shapes"] if s["type"] == "line")
    assert lines == [113.1, 134.5]
    short = {trace["name"]: trace for trace in double["data"]}["generator fell short"]
    assert short["x"] == [320.0]
    assert not [s for s in double["layout"]["shapes"] if s["type"] == "rect"]  # nothing broke


def test_scaling_shows_the_measured_efficiency_and_its_inputs(capacity_dir: Path) -> None:
    section = _page(capacity_dir / "report.html").xpath("//section[@id='scaling']")[0]
    pairs = {
        row.xpath("./th")[0].text_content(): row.xpath("./td")[0].text_content()
        for row in section.xpath(".//tr")
    }
    assert pairs["scaling"].startswith("measured: a search with 2 instances ran")
    assert pairs["efficiency (used)"] == "82 %"
    assert pairs["raw efficiency"] == "71 %"
    assert pairs["law"] == "amdahl"
    assert pairs["Amdahl σ (serial fraction)"] == "0.22"
    assert pairs["cores left to the target"] == "1 instance: 1.40 cores · 2 instances: 2.60 cores"
    assert pairs["target CPU per request"] == (
        "1 instance: 0.44 ms · 2 instances: 0.55 ms (at 160 arrivals/s, held by both)"
    )
    assert pairs["note"].startswith("the generator took 0.6 of the 4 cores")


def test_the_instance_table_lists_each_capacity_check_against_its_scaling_limit(
    capacity_dir: Path,
) -> None:
    page = _page(capacity_dir / "report.html")
    rows = page.xpath("//table[@id='instance-table']/tbody/tr[@data-check]")
    table = {row.get("data-check"): _cells(row) for row in rows}
    assert list(table) == ["api_gateway.throughput.target", "orders.throughput.peak"]
    assert table["api_gateway.throughput.target"] == [
        "api_gateway.throughput.target",
        ">= 2,000.0 rps",
        "383.2",
        "70 %",
        "6",
        "50",
        "6,748.0 rps",
        "+237 %",
        "pass",
    ]
    unreachable = table["orders.throughput.peak"]
    assert unreachable[4:] == ["unreachable", "5", "1,235.0 rps", "-99 %", "fail"]
    messages = page.xpath("//table[@id='instance-table']//tr[@class='message']")
    assert messages[1].text_content().strip() == f"no count of instances reaches 100,000 rps {EVIL}"


def test_a_check_without_a_scaling_row_shows_what_it_lacks(tmp_path: Path) -> None:
    check = capacity_check(
        "api.breaking_point", 300.0, "pass", needed=None, max_instances=1, capacity_rps=412.8
    )
    check["basis"] = {"capacity_run": CAPACITY_ID, "knee_rps": 412.8, "law": "none"}
    capacity_dir = write_capacity_dir(tmp_path, capacity_record(checks=(check,)))
    row = _page(write_capacity_report(capacity_dir)).xpath("//tr[@data-check]")[0]
    assert _cells(row)[2:] == ["—", "—", "—", "—", "412.8 rps", "—", "pass"]


def test_without_capacity_checks_or_a_scaling_search_the_page_says_so(tmp_path: Path) -> None:
    record = capacity_record(checks=())
    capacity_dir = write_capacity_dir(tmp_path, record)
    page = _page(write_capacity_report(capacity_dir))
    assert page.xpath("//div[@data-instances]")[0].get("data-instances") == "1"
    assert "No capacity checks" in page.xpath("//section[@id='instances']")[0].text_content()


def test_hostile_text_is_shown_never_run_and_no_secret_is_kept(tmp_path: Path) -> None:
    record = capacity_record(target="http://user:pass@127.0.0.1:1/?token=abc")
    capacity_dir = write_capacity_dir(tmp_path, record)
    source = write_capacity_report(capacity_dir).read_text(encoding="utf-8")
    assert EVIL not in source
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "user:pass@" not in source
    assert "token=abc" not in source


def test_the_page_loads_the_reports_directory_plotly_and_refreshes_its_index(
    capacity_dir: Path,
) -> None:
    sources = _page(capacity_dir / "report.html").xpath("//script[@src]/@src")
    assert sources == ["../plotly.min.js"]
    assert (capacity_dir.parent / "plotly.min.js").is_file()
    index = _page(capacity_dir.parent / "index.html")
    assert index.xpath("//table[@id='capacities']//a/@href") == [f"{CAPACITY_ID}/report.html"]


def test_a_missing_or_malformed_capacity_json_is_a_run_dir_error(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match=r"capacity\.json is missing"):
        write_capacity_report(tmp_path)
    capacity_dir = write_capacity_dir(tmp_path)
    data = json.loads((capacity_dir / CAPACITY_FILE).read_text())
    data["checks"][0]["bogus"] = 1
    (capacity_dir / CAPACITY_FILE).write_text(json.dumps(data))
    with pytest.raises(RunDirError, match=r"checks\[0\] is not a verdict check"):
        write_capacity_report(capacity_dir)
