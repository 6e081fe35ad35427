"""A run's report page: the verdict first, every figure with data, nothing unescaped or secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from harness.errors import RunDirError
from harness.report import render_run_report
from harness.report._run_page import write_run_page
from harness.verdict import judge_run_dir
from harness.verdict._outputs import read_verdict
from tests.harness._synthetic_run import START_T, SyntheticRun, simple_plan
from tests.harness.report._support import (
    ERROR_MESSAGE,
    EVIL,
    FAILED_CHECKS,
    SECRET_WORDS,
    WARNED_CHECKS,
    rich_run,
)

REQUEST_OPS = ("cart_add", "category_list", "order_processing", "product_detail", "product_search")


def _page(path: Path) -> Any:
    return lxml_html.fromstring(path.read_text(encoding="utf-8"))


def _figures(page: Any) -> dict[str, dict[str, Any]]:
    """Every embedded figure by its title (plotly's escaped text)."""
    figures = {}
    for script in page.xpath('//script[@type="application/json"]'):
        figure = json.loads(script.text)
        figures[figure["layout"]["title"]["text"]] = figure
    return figures


def _has_data(figure: dict[str, Any]) -> bool:
    return any(
        any(v is not None for v in (trace.get("y") or [])) for trace in figure["data"]
    ) and bool(figure["data"])


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    run_dir = rich_run(tmp_path)
    render_run_report(run_dir)
    return run_dir


def test_banner_leads_with_the_verdict_and_every_failed_then_warned_check(rich: Path) -> None:
    page = _page(rich / "index.html")
    banner = page.xpath("//*[@data-verdict]")[0]
    assert banner.get("data-verdict") == "fail"
    assert "FAIL" in banner.text_content()
    assert page.xpath("//main/section")[0].get("id") == "verdict"
    urgent = [div.get("data-check") for div in page.xpath('//div[contains(@class, "urgent")]')]
    assert urgent == [*FAILED_CHECKS, *WARNED_CHECKS]
    verdict = read_verdict(rich)
    assert verdict is not None
    for check in verdict.checks:
        if check.id not in FAILED_CHECKS:
            continue
        text = page.xpath(f'//div[@data-check="{check.id}"]')[0].text_content()
        assert "measured" in text
        assert "limit <" in text
        assert check.actions
        for action in check.actions:
            assert action in text


def test_what_was_run_names_scenario_profile_target_duration_workers(rich: Path) -> None:
    rows = {
        th.text_content(): th.getnext().text_content()
        for th in _page(rich / "index.html").xpath('//section[@id="verdict"]//table//th')
    }
    assert rows["scenario"] == "shop"
    assert rows["profile"].startswith("test")
    assert rows["target"] == "http://user:REDACTED@127.0.0.1:1/?token=REDACTED"
    assert rows["duration"] == "60 s of 60 s planned"
    assert rows["workers"] == "local (one process)"


def test_sla_table_lists_every_check_with_its_status_and_windows_passed(rich: Path) -> None:
    verdict = read_verdict(rich)
    assert verdict is not None
    rows = _page(rich / "index.html").xpath('//section[@id="sla"]//table[1]/tbody/tr')
    assert len(rows) == len(verdict.checks)
    table = {
        row.xpath("./td[1]")[0].text_content(): [td.text_content() for td in row.xpath("./td")]
        for row in rows
    }
    for check in verdict.checks:
        cells = table[check.id]
        assert check.status.replace("_", " ") in cells
        assert f"{check.windows_passed}/{check.windows_total}" in cells


def test_every_figure_is_present_with_data(rich: Path) -> None:
    figures = _figures(_page(rich / "index.html"))
    expected = [
        "Every request: latency",
        *[f"{op}: latency" for op in REQUEST_OPS],
        "&lt;script&gt;alert(1)&lt;/script&gt;: latency",
        "Achieved throughput (every request)",
        "Offered load: users",
        "Failed requests by kind",
        "Latency at every percentile, per operation",
        "Whole-journey duration",
        "Journey funnel (sessions reaching each operation)",
        "Business view: metrics of the target",
        "Server metrics, aligned with client latency",
        "Load generator CPU",
    ]
    assert sorted(figures) == sorted(expected)
    for title in expected:
        assert _has_data(figures[title]) or figures[title]["data"][0]["type"] == "funnel", title


def test_latency_figures_shade_stages_and_draw_the_sla_limits(rich: Path) -> None:
    figures = _figures(_page(rich / "index.html"))
    search = figures["product_search: latency"]["layout"]
    rectangles = [(s["x0"], s["x1"]) for s in search["shapes"] if s["type"] == "rect"]
    assert (0.0, 20.0) in rectangles
    assert (20.0, 50.0) in rectangles
    assert (50.0, 60.0) in rectangles
    assert (0, 5.0) in rectangles  # warm-up
    lines = {s["y0"] for s in search["shapes"] if s["type"] == "line"}
    assert lines == {20.0, 500.0}
    every = figures["Every request: latency"]["layout"]
    assert {s["y0"] for s in every["shapes"] if s["type"] == "line"} == {40.0, 5000.0}
    names = [trace["name"] for trace in figures["product_search: latency"]["data"]]
    assert names == ["p50", "p95", "p99"]


def test_open_model_shows_service_time_and_dropped_arrivals(tmp_path: Path) -> None:
    run_dir = rich_run(tmp_path, model="open")
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    figures = _figures(page)
    names = [trace["name"] for trace in figures["product_search: latency"]["data"]]
    assert "p95 (from intended start)" in names
    assert "p95 service time" in names
    offered = {t["name"]: t for t in figures["Offered load: arrival rate"]["data"]}
    assert set(offered) == {
        "planned arrivals/s",
        "scheduled arrivals/s",
        "started arrivals/s",
        "dropped arrivals/s",
    }
    assert sum(offered["dropped arrivals/s"]["y"]) == pytest.approx(60.0)
    assert "60 arrivals were dropped" in page.text_content()


def test_generator_trouble_is_marked_on_throughput_and_listed_in_metadata(rich: Path) -> None:
    page = _page(rich / "index.html")
    layout = _figures(page)["Achieved throughput (every request)"]["layout"]
    marks = [s["x0"] for s in layout["shapes"] if s["type"] == "line"]
    assert marks == [30.0]
    assert "worker lost" in [a["text"] for a in layout["annotations"]]
    rows = [
        [td.text_content() for td in row.xpath("./td")]
        for row in page.xpath(
            '//section[@id="metadata"]//h3[.="Worker events"]/following::table[1]//tbody/tr'
        )
    ]
    assert ["+30.0", "worker_lost", "worker-2 stopped reporting"] in rows
    assert [
        "+1.0",
        "worker_joined",
        "worker-1 joined, loading http://user:REDACTED@127.0.0.1:1/?token=REDACTED",
    ] in rows


def test_errors_by_kind_and_top_messages(rich: Path) -> None:
    page = _page(rich / "index.html")
    kinds = {t["name"] for t in _figures(page)["Failed requests by kind"]["data"]}
    assert kinds == {"http 5xx", "timeout"}
    rows = page.xpath('//section[@id="errors"]//tbody/tr')
    messages = {row.xpath("./td[1]")[0].text_content(): row for row in rows}
    scrubbed = ERROR_MESSAGE.replace("hunter2", "REDACTED")
    assert scrubbed in messages
    assert messages[scrubbed].xpath("./td[2]")[0].text_content() == "12"
    assert messages[scrubbed].xpath("./td[3]")[0].text_content() == "order_processing"


def test_funnel_is_derived_from_journey_sessions(rich: Path) -> None:
    figures = _figures(_page(rich / "index.html"))
    funnel = figures["Journey funnel (sessions reaching each operation)"]["data"][0]
    # judged span 5 s..60 s: browse 4/s (category_list, product_detail), search 2/s
    # (product_search, product_detail), checkout 1/s (product_search, cart_add,
    # order_processing), evil 1/s (EVIL); ties keep the order the journeys issue them in
    assert funnel["y"] == [
        "product_detail",
        "category_list",
        "product_search",
        "cart_add",
        "order_processing",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ]
    assert funnel["x"] == [(4 + 2) * 55, 4 * 55, (2 + 1) * 55, 55, 55, 55]


def test_business_view_integrates_the_server_rates(rich: Path) -> None:
    cards = {
        card.xpath('./div[@class="label"]')[0].text_content(): card.xpath('./div[@class="value"]')[
            0
        ].text_content()
        for card in _page(rich / "index.html").xpath(
            '//section[@id="business"]//div[@class="card"]'
        )
    }
    # the reference backend's business series, read as any target's: rates integrated
    assert cards == {"orders": "120", "revenue (currency units)": "3,000", "payment declines": "30"}


def test_business_view_shows_whatever_metrics_the_target_exposes(tmp_path: Path) -> None:
    run_dir = rich_run(tmp_path, evaluated=False)
    lines = (run_dir / "server.jsonl").read_text().splitlines()
    # keep the resources only, then add a target's own series under names the report never saw
    kept = [line for line in lines if json.loads(line)["metric"] in ("cpu_ratio", "memory_ratio")]
    for second in range(60):
        t = START_T + second + 0.5
        for metric, labels, value in (
            ("tickets_sold_per_s", {"venue": "north"}, 3.0),
            ("tickets_sold_per_s", {"venue": EVIL}, 1.0),
            ("queue_depth", {}, 7.5),
        ):
            kept.append(json.dumps({"t": t, "metric": metric, "labels": labels, "value": value}))
    (run_dir / "server.jsonl").write_text("\n".join(kept) + "\n")
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    cards = {
        card.get("data-metric"): (
            card.xpath('./div[@class="label"]')[0].text_content(),
            card.xpath('./div[@class="value"]')[0].text_content(),
        )
        for card in page.xpath('//section[@id="business"]//div[@class="card"]')
    }
    assert cards == {
        "tickets_sold_per_s": ("tickets sold", "240"),
        "queue_depth": ("queue depth (mean)", "7.50"),
    }
    figure = _figures(page)["Business view: metrics of the target"]
    assert sorted(trace["name"] for trace in figure["data"]) == sorted(
        ["queue_depth", "venue=north", "venue=&lt;script&gt;alert(1)&lt;/script&gt;"]
    )
    assert all(_has_data({"data": [trace]}) for trace in figure["data"])


def test_a_run_whose_server_series_are_resources_only_has_no_business_view(
    tmp_path: Path,
) -> None:
    run_dir = rich_run(tmp_path, evaluated=False)
    lines = (run_dir / "server.jsonl").read_text().splitlines()
    kept = [line for line in lines if not json.loads(line)["metric"].endswith("_per_s")]
    (run_dir / "server.jsonl").write_text("\n".join(kept) + "\n")
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    text = {s.get("id"): s.text_content() for s in page.xpath("//main/section")}
    assert "No business metrics" in text["business"]
    assert "Business view: metrics of the target" not in _figures(page)
    assert "Server metrics, aligned with client latency" in _figures(page)


def test_the_cpu_capacity_estimate_from_the_verdict_is_shown_as_informational(
    tmp_path: Path,
) -> None:
    capacity = {
        "target_cpu": 0.7,
        "cannot_meet_burst": [],
        "components": [
            {
                "component": "api_gateway",
                "instances": 3,
                "max_instances": 50,
                "burst_rps": 100000.0,
                "rps_per_instance": None,  # empty in every row: left out
            }
        ],
    }
    run_dir = rich_run(tmp_path, capacity=capacity)
    write_run_page(run_dir)
    section = _page(run_dir / "index.html").xpath('//section[@id="capacity"]')[0]
    title = section.xpath("./h2")[0].text_content()
    assert title == "Capacity estimate from this run's CPU (informational)"
    assert "a capacity search (perfctl capacity) measures" in section.text_content()
    summary = {
        th.text_content(): th.getnext().text_content()
        for th in section.xpath('.//table[@class="pairs"]//th')
    }
    assert summary == {"target_cpu": "0.7", "cannot_meet_burst": "none"}
    assert [th.text_content() for th in section.xpath(".//thead//th")] == [
        "component",
        "instances",
        "max instances",
        "burst rps",
    ]
    cells = [td.text_content() for td in section.xpath(".//tbody//td")]
    assert cells == ["api_gateway", "3", "50", "100,000"]


def test_a_run_without_verdict_is_not_evaluated_and_sections_say_what_is_missing(
    tmp_path: Path,
) -> None:
    run_dir = rich_run(tmp_path, evaluated=False, server=False)
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    assert page.xpath("//*[@data-verdict]")[0].get("data-verdict") == "not_evaluated"
    assert "NOT EVALUATED" in page.text_content()
    assert not (run_dir / "verdict.json").exists()
    text = {s.get("id"): s.text_content() for s in page.xpath("//main/section")}
    assert "Not evaluated" in text["sla"]
    assert "No server metrics" in text["server"]
    assert "No business metrics" in text["business"]
    assert "No capacity estimate" in text["capacity"]
    titles = _figures(page)
    assert "Server metrics, aligned with client latency" not in titles
    assert "Every request: latency" in titles


def test_an_empty_run_renders_with_every_section_saying_so(tmp_path: Path) -> None:
    run_dir = SyntheticRun(tmp_path / "empty", simple_plan()).finish()
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    text = {s.get("id"): s.text_content() for s in page.xpath("//main/section")}
    assert "No latency was recorded" in text["latency"]
    assert "No request failed" in text["errors"]
    assert "No whole-journey timings" in text["journeys"]


def test_an_operation_without_latency_gets_a_sentence_not_an_empty_plot(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "refused", simple_plan(operations=("search", "pay")))
    run.steady("search", range(60), 5, 10.0)
    for second in range(60):
        run.add("pay", second, [1.0], "connection_error", error="ConnectionRefusedError(111)")
    run_dir = run.finish()
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    assert "pay: latency" not in _figures(page)
    assert "search: latency" in _figures(page)
    assert "No latency for pay" in page.xpath('//section[@id="latency"]')[0].text_content()


def test_operation_names_and_error_messages_render_as_text(rich: Path) -> None:
    source = (rich / "index.html").read_text(encoding="utf-8")
    assert EVIL not in source
    assert "<b>boom</b>" not in source
    page = _page(rich / "index.html")
    assert not page.xpath("//main//script[not(@type)]")  # no script element from data
    operations = [td.text_content() for td in page.xpath('//section[@id="sla"]//table[2]//td[1]')]
    assert EVIL in operations
    assert f"{EVIL}.latency.p95" in page.xpath('//section[@id="sla"]//table[1]')[0].text_content()


def test_no_secret_reaches_any_report_artefact(rich: Path) -> None:
    written = [rich / "index.html", rich / "report.json", rich.parent / "index.html"]
    for path in written:
        text = path.read_text(encoding="utf-8")
        for secret in SECRET_WORDS:
            assert secret not in text, f"{secret!r} in {path.name}"
    assert "api_token=REDACTED" in (rich / "index.html").read_text(encoding="utf-8")


def test_long_runs_are_downsampled_for_display_with_exact_bin_percentiles(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "long", simple_plan(stages=(("steady", 1500.0),)))
    for second in range(1500):
        run.add("search", second, [float(second % 3 + 1) * 10.0])
    run_dir = run.finish()
    write_run_page(run_dir)
    figure = _figures(_page(run_dir / "index.html"))["search: latency"]
    p99 = next(trace for trace in figure["data"] if trace["name"] == "p99")
    assert len(p99["y"]) == 500  # 3-second bins
    assert p99["x"][:3] == [0.0, 3.0, 6.0]
    # each bin merges 10, 20 and 30 ms exactly: its p99 is the 30 ms bucket, its p50 20 ms
    assert set(p99["y"]) == {30.015}
    p50 = next(trace for trace in figure["data"] if trace["name"] == "p50")
    assert set(p50["y"]) == {20.015}


def test_report_json_holds_the_headline_figures(rich: Path) -> None:
    summary = json.loads((rich / "report.json").read_text())
    assert summary["verdict"] == "fail"
    assert summary["scenario"] == "shop"
    headline = summary["headline"]
    # judged span 5..60 s: 54 requests a second plus the failures
    assert headline["requests"] == 55 * 54 + 11 + 8
    assert headline["requests_per_s"] == pytest.approx(headline["requests"] / 55)
    assert headline["error_rate"] == pytest.approx(19 / headline["requests"])


def test_a_directory_that_is_not_a_run_is_a_run_dir_error(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match=r"run\.json is missing"):
        render_run_report(tmp_path)
    with pytest.raises(RunDirError, match="no such run directory"):
        render_run_report(tmp_path / "absent")


def test_measured_values_show_their_confidence_interval(rich: Path) -> None:
    from harness.verdict import format_interval

    verdict = read_verdict(rich)
    assert verdict is not None
    rows = _page(rich / "index.html").xpath('//section[@id="sla"]//table[1]/tbody/tr')
    measured = {
        row.xpath("./td[1]")[0].text_content(): row.xpath("./td[4]")[0].text_content()
        for row in rows
    }
    with_interval = [check for check in verdict.checks if check.ci_method is not None]
    assert with_interval
    for check in verdict.checks:
        interval = format_interval(check)
        if check.ci_method is None:
            assert "[" not in measured[check.id]
        elif check.measured is not None:
            assert measured[check.id].endswith(interval), (check.id, measured[check.id])


def test_a_check_too_close_to_call_leads_the_banner(rich: Path) -> None:
    data = json.loads((rich / "verdict.json").read_text())
    data["status"] = "marginal"
    close = next(check for check in data["checks"] if check["ci_method"] == "order_statistics")
    close.update(status="marginal", ci_low=close["limit"] * 0.98, ci_high=close["limit"] * 1.02)
    for check in data["checks"]:
        if check["status"] in ("fail", "warn") and check is not close:
            check["status"] = "pass"
    (rich / "verdict.json").write_text(json.dumps(data))
    render_run_report(rich)
    page = _page(rich / "index.html")
    banner = page.xpath("//*[@data-verdict]")[0]
    assert banner.get("data-verdict") == "marginal"
    assert "TOO CLOSE TO CALL" in banner.text_content()
    urgent = page.xpath('//div[contains(@class, "urgent")]')
    assert [div.get("data-check") for div in urgent] == [close["id"]]
    assert "[" in urgent[0].text_content()
    assert "straddles the limit" in page.xpath('//section[@id="verdict"]')[0].text_content()


def test_the_diagnosis_leads_the_page_and_links_each_sentence_to_its_plot(
    tmp_path: Path,
) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan())
    run.steady("search", range(60), 10, 20.0).steady("search", range(60, 120), 10, 800.0)
    sla = tmp_path / "sla.yaml"
    sla.write_text(
        "version: 1\nname: t\nobjectives:\n"
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
    )
    run_dir = run.finish()
    judge_run_dir(run_dir, sla_path=sla, find_capacity=False)
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    items = page.xpath('//section[@id="verdict"]//ol[@id="diagnosis"]/li')
    assert [item.get("data-rule") for item in items] == ["first_breach", "operation_broke"]
    assert "1:00 into the run" in items[0].text_content()
    for item in items:
        href = item.xpath(".//a/@href")[0]
        assert href == "#latency"
        assert page.xpath(f'//section[@id="{href[1:]}"]')


def test_a_page_without_a_verdict_has_no_diagnosis(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(5), 2, 20.0)
    write_run_page(run.finish())
    assert not _page(run.run_dir / "index.html").xpath('//ol[@id="diagnosis"]')


_CONNECT_TITLE = "New connections: time to open them"
_TTFB_TITLE = "Time to first byte and response time, p95 (every request)"


def _phased_run(tmp_path: Path) -> Path:
    """A minute of search and cart: search opens one new connection a second, quickly for
    30 s and then after a dropped SYN (1,003 ms); cart reuses its connections throughout."""
    run = SyntheticRun(tmp_path / "phased", simple_plan(operations=("search", "cart")))
    for second in range(60):
        connect = 0.5 if second < 30 else 1003.0
        run.add("search", second, [20.0] * 9, ttfb_ms=[18.0] * 9)
        run.add("search", second, [connect + 20.0], connect_ms=[connect], ttfb_ms=[connect + 18])
        run.add("cart", second, [40.0] * 2, ttfb_ms=[35.0] * 2)
    return run.finish()


def test_connection_phases_show_connect_time_new_connections_and_ttfb(tmp_path: Path) -> None:
    run_dir = _phased_run(tmp_path)
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    assert page.xpath('//nav//a[@href="#connections"]')
    figures = _figures(page)
    connect = {t["name"]: t for t in figures["New connections: time to open them"]["data"]}
    assert set(connect) == {"new connections/s", "connect p50", "connect p99", "longest connect"}
    assert connect["new connections/s"]["y"][:60] == [1.0] * 60
    assert connect["new connections/s"]["yaxis"] == "y2"
    longest = connect["longest connect"]["y"]
    assert longest[0] == pytest.approx(0.5, rel=1e-2)
    assert longest[59] == pytest.approx(1003.0, rel=1e-3)
    ttfb = {t["name"]: t for t in figures[_TTFB_TITLE]["data"]}
    assert set(ttfb) == {"response time p95", "time to first byte p95"}
    assert all(_has_data(figures[title]) for title in (_CONNECT_TITLE, _TTFB_TITLE))
    rows = [
        [cell.text_content() for cell in row.xpath("./td")]
        for row in page.xpath('//table[@id="phase-table"]/tbody/tr')
    ]
    assert rows == [
        ["cart", "120", "0", "—", "—", "—", "35.0 ms", "35.0 ms"],
        ["search", "600", "60", "0.5 ms", "1,003 ms", "1,003 ms", "18.0 ms", "18.5 ms"],
    ]


def test_a_run_without_connection_phases_says_they_were_not_recorded(rich: Path) -> None:
    page = _page(rich / "index.html")
    section = page.xpath('//section[@id="connections"]')[0]
    assert "Connection phases not recorded" in section.text_content()
    assert not section.xpath(".//table")
    assert _CONNECT_TITLE not in _figures(page)
    assert _TTFB_TITLE not in _figures(page)


def test_the_slow_connect_diagnosis_links_to_the_connection_phases(tmp_path: Path) -> None:
    run_dir = _phased_run(tmp_path)
    sla = tmp_path / "sla.yaml"
    sla.write_text(
        "version: 1\nname: t\nobjectives:\n"
        '  - {operation: search, metric: latency, statistic: p99, limit: "< 300 ms"}\n'
    )
    judge_run_dir(run_dir, sla_path=sla, find_capacity=False)
    write_run_page(run_dir)
    page = _page(run_dir / "index.html")
    (item,) = page.xpath('//ol[@id="diagnosis"]/li[@data-rule="slow_connect"]')
    assert "30 of the 60 new connections took 1 s or more" in item.text_content()
    (link,) = item.xpath(".//a")
    assert link.get("href") == "#connections"
    assert link.text_content() == "connection phases"
    assert page.xpath('//section[@id="connections"]')
