"""A run's page shows the throughput judged from a capacity run under its own heading, as the
capacity page's instance table, linked to that run's page, and never in the ordinary table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from harness.report import render_run_report, write_capacity_report
from tests.harness.report._capacity_support import CAPACITY_ID, CHECKS, write_capacity_dir
from tests.harness.report._support import EVIL, rich_run

CAPACITY_CHECKS = CHECKS[:2]
"""api_gateway.throughput.target (needs 6 of 50, pass) and orders.throughput.peak
(unreachable with 5, fail, a hostile message)."""
CAPACITY_IDS = ["api_gateway.throughput.target", "orders.throughput.peak"]


def _page(path: Path) -> Any:
    return lxml_html.fromstring(path.read_text(encoding="utf-8"))


def _cells(row: Any) -> list[str]:
    return [" ".join(td.text_content().split()) for td in row.xpath("./td")]


def _judged_from_capacity(run_dir: Path, capacity_run: str | None = CAPACITY_ID) -> None:
    """Add the two capacity checks to the run's verdict.json, as `perfctl evaluate` writes
    them when a capacity run judged the throughput the run could not offer."""
    path = run_dir / "verdict.json"
    verdict = json.loads(path.read_text())
    verdict["checks"].extend(CAPACITY_CHECKS)
    verdict["capacity_run"] = capacity_run
    path.write_text(json.dumps(verdict))


def _section(run_dir: Path) -> Any:
    sections = _page(run_dir / "index.html").xpath("//div[@id='capacity-checks']")
    assert len(sections) == 1
    return sections[0]


@pytest.fixture
def judged(tmp_path: Path) -> Path:
    """A run whose verdict judged two throughput objectives from a capacity run whose own
    page lies beside it."""
    write_capacity_report(write_capacity_dir(tmp_path))
    run_dir = rich_run(tmp_path)
    _judged_from_capacity(run_dir)
    render_run_report(run_dir)
    return run_dir


def test_the_heading_names_the_capacity_run_and_links_its_page(judged: Path) -> None:
    heading = _section(judged).xpath("./h3")[0]
    assert " ".join(heading.text_content().split()) == (
        f"Throughput judged from capacity run {CAPACITY_ID}"
    )
    links = heading.xpath("./a")
    assert [link.get("href") for link in links] == [f"../{CAPACITY_ID}/report.html"]
    assert (judged / links[0].get("href")).resolve().is_file()
    nav = _page(judged / "index.html").xpath("//nav//a[@href='#capacity-checks']")
    assert len(nav) == 1


def _instance_table(page: Any, table_id: str) -> dict[str, list[str]]:
    rows = page.xpath(f"//table[@id='{table_id}']/tbody/tr[@data-check]")
    return {row.get("data-check"): _cells(row) for row in rows}


def test_each_capacity_check_is_a_row_of_the_instance_table(judged: Path) -> None:
    section = _section(judged)
    table = _instance_table(section, "capacity-check-table")
    assert list(table) == CAPACITY_IDS
    needed, most, capacity, margin, status = table["api_gateway.throughput.target"][4:]
    assert (needed, most, capacity, margin, status) == ("6", "50", "6,748.0 rps", "+237 %", "pass")
    assert table["orders.throughput.peak"][4:] == [
        "unreachable",
        "5",
        "1,235.0 rps",
        "-99 %",
        "fail",
    ]
    # the very rows the capacity run's own page shows for the same checks
    capacity_page = _page(judged.parent / CAPACITY_ID / "report.html")
    assert table == _instance_table(capacity_page, "instance-table")
    messages = section.xpath(".//tr[@class='message']")
    assert [m.text_content().strip() for m in messages] == [
        "2,000 rps needs 6 of at most 50 instances",
        f"no count of instances reaches 100,000 rps {EVIL}",
    ]


def test_capacity_checks_are_not_in_the_ordinary_table_and_the_counts_keep_them(
    judged: Path,
) -> None:
    page = _page(judged / "index.html")
    ordinary = page.xpath("//section[@id='sla']/table[1]")[0]
    ids = [td.text_content() for td in ordinary.xpath("./tbody/tr/td[1]")]
    assert ids  # the run's own checks are still listed
    assert not set(ids) & set(CAPACITY_IDS)
    assert "of 7 checks" in " ".join(page.xpath("//*[@data-verdict]")[0].text_content().split())


def test_hostile_text_in_a_capacity_check_renders_as_text(judged: Path) -> None:
    source = (judged / "index.html").read_text(encoding="utf-8")
    assert EVIL not in source
    assert not _page(judged / "index.html").xpath("//main//script[not(@type)]")


def test_without_the_capacity_page_beside_the_run_the_name_is_shown_unlinked(
    tmp_path: Path,
) -> None:
    run_dir = rich_run(tmp_path)
    _judged_from_capacity(run_dir)
    render_run_report(run_dir)
    section = _section(run_dir)
    assert not section.xpath(".//h3/a")
    assert CAPACITY_ID in section.xpath("./h3")[0].text_content()
    assert "not beside this run" in section.text_content()
    assert len(section.xpath(".//tr[@data-check]")) == 2


@pytest.mark.parametrize("named", ["../elsewhere", "a/b", ".."])
def test_a_capacity_run_name_that_is_not_one_directory_is_never_linked(
    tmp_path: Path, named: str
) -> None:
    run_dir = rich_run(tmp_path)
    _judged_from_capacity(run_dir, capacity_run=named)
    render_run_report(run_dir)
    section = _section(run_dir)
    assert not section.xpath(".//a")
    assert named in section.xpath("./h3")[0].text_content()


def test_without_a_verdict_capacity_run_the_checks_basis_names_it(tmp_path: Path) -> None:
    run_dir = rich_run(tmp_path)
    _judged_from_capacity(run_dir, capacity_run=None)
    render_run_report(run_dir)
    assert _section(run_dir).get("data-capacity-run") == CAPACITY_ID


def test_a_verdict_without_capacity_checks_has_no_such_heading(tmp_path: Path) -> None:
    run_dir = rich_run(tmp_path)
    render_run_report(run_dir)
    page = _page(run_dir / "index.html")
    assert not page.xpath("//div[@id='capacity-checks']")
    assert "Throughput judged from capacity run" not in page.text_content()
