"""The diagnosis says why a run came out as it did, each rule only when the run shows it.

Every rule is tested on a synthetic run directory that shows its situation and on one that
does not; a run with nothing wrong gets one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

import harness.verdict
from harness.rundir import EndCause
from harness.verdict._finding import NOTHING_TO_DIAGNOSE, DiagnosisRule, Finding
from harness.verdict._gate import judge_run_dir
from harness.verdict._model import Verdict
from harness.verdict._outputs import read_verdict
from harness.verdict._table import print_verdict
from tests.harness._synthetic_run import SyntheticRun, open_plan, simple_plan, write_server_series

P95 = '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
ERRORS = '  - {operation: checkout, metric: error_rate, limit: "< 1 %"}\n'
CPU = '  - {operation: "*", metric: cpu, statistic: mean, limit: "< 80 %"}\n'


def _sla(tmp_path: Path, objectives: str) -> Path:
    path = tmp_path / "sla.yaml"
    path.write_text(f"version: 1\nname: test\nobjectives:\n{objectives}")
    return path


def _verdict(run_dir: Path, sla: Path) -> Verdict:
    return judge_run_dir(run_dir, sla_path=sla, find_capacity=False)


def _by_rule(verdict: Verdict) -> dict[DiagnosisRule, Finding]:
    return {finding.rule: finding for finding in verdict.diagnosis}


def _healthy(tmp_path: Path, name: str = "run") -> SyntheticRun:
    """Two minutes of search at 10 rps and 20 ms, ten users running throughout."""
    run = SyntheticRun(tmp_path / name, simple_plan()).steady("search", range(120), 10, 20.0)
    for t in range(120):
        run.load(t, users=10, achieved_rps=10.0, cpu_percent={"local": 30.0})
    return run


def _breaking(tmp_path: Path) -> SyntheticRun:
    """Search at 20 ms for a minute, then 800 ms once the users went from 10 to 50."""
    run = SyntheticRun(tmp_path / "run", simple_plan())
    run.steady("search", range(60), 10, 20.0).steady("search", range(60, 120), 10, 800.0)
    for t in range(120):
        run.load(t, users=10 if t < 60 else 50, achieved_rps=10.0, cpu_percent={"local": 30.0})
    return run


def test_a_run_with_nothing_wrong_says_so_in_one_line(tmp_path: Path) -> None:
    clean = _verdict(_healthy(tmp_path).finish(), _sla(tmp_path, P95))
    assert clean.status == "pass"
    assert [(f.rule, f.sentence) for f in clean.diagnosis] == [
        (DiagnosisRule.NOTHING_TO_DIAGNOSE, NOTHING_TO_DIAGNOSE)
    ]


def test_the_first_breach_gives_its_time_the_users_then_and_the_achieved_rate(
    tmp_path: Path,
) -> None:
    verdict = _verdict(_breaking(tmp_path).finish(), _sla(tmp_path, P95))
    assert verdict.status == "fail"
    first = verdict.diagnosis[0]
    assert first.rule == DiagnosisRule.FIRST_BREACH
    assert first.figures["check"] == "search.latency.p95"
    assert first.figures["at_s"] == 60
    assert first.figures["users"] == 50
    assert first.figures["achieved_rps"] == 10.0
    assert first.figures["measured"] == pytest.approx(800.0, rel=1e-3)
    assert first.anchor == "latency"
    assert "1:00 into the run" in first.sentence
    assert "50 users running" in first.sentence
    assert "10.0 rps achieved" in first.sentence
    assert DiagnosisRule.NOTHING_TO_DIAGNOSE not in _by_rule(verdict)


def test_a_windowed_objective_breaks_in_its_own_window(tmp_path: Path) -> None:
    windowed = (
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", window: 30s}\n'
    )
    run = SyntheticRun(tmp_path / "run", simple_plan())
    run.steady("search", range(75), 10, 20.0).steady("search", range(75, 120), 10, 800.0)
    first = _by_rule(_verdict(run.finish(), _sla(tmp_path, windowed)))[DiagnosisRule.FIRST_BREACH]
    assert first.figures["at_s"] == 60  # the 60-90 s window holds the first slow second (75)
    assert first.figures["window_s"] == 30
    assert "users running" not in first.sentence  # no load.jsonl: no figure is made up


@pytest.mark.parametrize(("cpu_after", "fires"), [(0.95, True), (0.30, False)])
def test_server_cpu_is_saturated_only_beyond_the_slas_own_limit_at_the_breach(
    tmp_path: Path, cpu_after: float, fires: bool
) -> None:
    run = _breaking(tmp_path)
    write_server_series(
        run.run_dir, [(float(t), "cpu_ratio", 0.30 if t < 60 else cpu_after) for t in range(120)]
    )
    verdict = _verdict(run.finish(), _sla(tmp_path, P95 + CPU))
    found = _by_rule(verdict).get(DiagnosisRule.SERVER_SATURATED)
    assert (found is not None) == fires
    if found is not None:
        assert found.figures["measured"] == pytest.approx(0.95)
        assert found.figures["check"] == "*.cpu.mean"
        assert "95 %" in found.sentence
        assert "< 80 %" in found.sentence
        assert found.anchor == "server"


def test_without_a_server_objective_no_cpu_figure_is_called_saturated(tmp_path: Path) -> None:
    run = _breaking(tmp_path)
    write_server_series(run.run_dir, [(float(t), "cpu_ratio", 0.99) for t in range(120)])
    verdict = _verdict(run.finish(), _sla(tmp_path, P95))
    assert DiagnosisRule.SERVER_SATURATED not in _by_rule(verdict)


@pytest.mark.parametrize(("in_use", "fires"), [(20.0, True), (12.0, False)])
def test_the_database_pool_is_exhausted_when_in_use_reaches_its_size(
    tmp_path: Path, in_use: float, fires: bool
) -> None:
    run = _breaking(tmp_path)
    points = [(float(t), "db_pool_size", 20.0) for t in range(120)]
    points += [(float(t), "db_pool_in_use", 3.0 if t < 60 else in_use) for t in range(120)]
    write_server_series(run.run_dir, points)
    found = _by_rule(_verdict(run.finish(), _sla(tmp_path, P95))).get(
        DiagnosisRule.DB_POOL_EXHAUSTED
    )
    assert (found is not None) == fires
    if found is not None:
        assert found.figures["db_pool_size"] == 20.0
        assert found.figures["samples_at_size"] == 10
        assert "20 of 20 connections" in found.sentence


@pytest.mark.parametrize(("dropped", "fires"), [(3, True), (0, False)])
def test_dropped_arrivals_are_counted_with_the_targets_share(
    tmp_path: Path, dropped: int, fires: bool
) -> None:
    plan = open_plan(stages=(("steady", 60.0, 10.0, 10.0),))
    run = SyntheticRun(tmp_path / "run", plan).steady("search", range(60), 10, 20.0)
    for t in range(60):
        late = dropped if t >= 30 else 0
        run.load(
            t,
            planned_arrivals=10,
            started_arrivals=10 - late,
            dropped_arrivals=late,
            dropped_by_target=late,
            achieved_rps=10.0,
        )
    verdict = _verdict(run.finish(), _sla(tmp_path, P95))
    found = _by_rule(verdict).get(DiagnosisRule.DROPPED_ARRIVALS)
    assert (found is not None) == fires
    if found is not None:
        assert found.figures == {
            "dropped_arrivals": 90,
            "planned_arrivals": 600,
            "dropped_by_target": 90,
            "at_s": 30,
        }
        assert "15.0 % of 600 planned" in found.sentence
        assert found.anchor == "load"
    else:
        assert verdict.diagnosis[0].rule == DiagnosisRule.NOTHING_TO_DIAGNOSE


def test_an_operation_broken_by_errors_names_its_error_kinds(tmp_path: Path) -> None:
    run = _healthy(tmp_path).steady("checkout", range(120), 9, 30.0)
    for t in range(120):
        run.add("checkout", t, [5000.0], "timeout", error="TimeoutError: timed out")
    for t in range(0, 120, 4):
        run.add("checkout", t, [40.0], "http_5xx", error="HTTP 504")
    verdict = _verdict(run.finish(), _sla(tmp_path, P95 + ERRORS))
    broke = [f for f in verdict.diagnosis if f.rule == DiagnosisRule.OPERATION_BROKE]
    assert [f.figures["operation"] for f in broke] == ["checkout"]  # search held
    finding = broke[0]
    assert "checkout broke (0:00 into the run)" in finding.sentence
    assert "by errors" in finding.sentence
    assert finding.figures["failed"] == 150
    assert finding.figures["timeout_share"] == pytest.approx(0.8)
    assert finding.figures["http_5xx_share"] == pytest.approx(0.2)
    assert "80 % timeout, 20 % http_5xx" in finding.sentence
    # which timeout, which 5xx: the messages of the failed requests, most frequent first
    assert "(TimeoutError: timed out × 120; HTTP 504 × 30)." in finding.sentence
    assert finding.anchor == "errors"


def test_a_latency_objective_failed_by_failed_requests_broke_by_errors(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan())
    run.steady("search", range(120), 5, 20.0).steady("search", range(120), 5, 20.0, "http_4xx")
    verdict = _verdict(run.finish(), _sla(tmp_path, P95))
    rules = _by_rule(verdict)
    assert DiagnosisRule.FIRST_BREACH not in rules  # every window's p95 met the limit
    assert "by errors" in rules[DiagnosisRule.OPERATION_BROKE].sentence
    assert "100 % http_4xx" in rules[DiagnosisRule.OPERATION_BROKE].sentence


def test_a_check_too_close_to_call_is_said(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, 299.0)
    close = '  - {operation: search, metric: latency, statistic: p95, limit: "<= 299 ms"}\n'
    verdict = _verdict(run.finish(), _sla(tmp_path, close))
    assert verdict.status == "marginal"
    assert [f.rule for f in verdict.diagnosis] == [DiagnosisRule.TOO_CLOSE_TO_CALL]
    assert "search.latency.p95" in verdict.diagnosis[0].sentence


@pytest.mark.parametrize("saturated", [True, False])
def test_a_saturated_generator_makes_the_run_suspect(tmp_path: Path, saturated: bool) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, 20.0)
    for t in range(120):
        percent = 97.0 if saturated and t >= 30 else 40.0
        run.load(t, users=10, achieved_rps=10.0, cpu_percent={"local": percent})
    if saturated:
        run.event("generator_saturated", 35.0, "local above 90% CPU for 5 s")
    verdict = _verdict(run.finish(saturated=saturated), _sla(tmp_path, P95))
    found = _by_rule(verdict).get(DiagnosisRule.GENERATOR)
    assert (found is not None) == saturated
    if found is not None:
        assert found.figures["cpu_percent_max"] == 97.0
        assert found.figures["at_s"] == 35
        assert "saturated 0:35 into the run" in found.sentence
        assert found.anchor == "metadata"


def test_a_run_that_did_not_complete_says_how_far_it_got(tmp_path: Path) -> None:
    run = _healthy(tmp_path)
    verdict = _verdict(
        run.finish(status="aborted", ended_offset_s=60, end_cause=EndCause.ENGINE_ABORTED),
        _sla(tmp_path, P95),
    )
    found = _by_rule(verdict)[DiagnosisRule.RUN_INCOMPLETE]
    assert found.figures["ran_s"] == 60
    assert found.figures["planned_s"] == 120
    assert "it ran 1:00 of its planned 2:00" in found.sentence
    completed = _verdict(_healthy(tmp_path, "other").finish(), _sla(tmp_path, P95))
    assert DiagnosisRule.RUN_INCOMPLETE not in _by_rule(completed)


def test_in_scope_objectives_left_unjudged_are_named(tmp_path: Path) -> None:
    # a cpu objective without server series, a p99 over 20 requests: in scope, not judged
    run = _healthy(tmp_path).add("rare", 5, [10.0] * 20)
    p99 = '  - {operation: rare, metric: latency, statistic: p99, limit: "< 300 ms"}\n'
    found = _by_rule(_verdict(run.finish(), _sla(tmp_path, P95 + p99 + CPU)))[
        DiagnosisRule.COVERAGE
    ]
    assert found.figures == {"unjudged": 2, "in_scope": 3}
    assert "rare.latency.p99" in found.sentence


def test_evaluate_again_gives_the_same_diagnosis_and_verdict_json_holds_it(
    tmp_path: Path,
) -> None:
    run = _breaking(tmp_path)
    write_server_series(
        run.run_dir, [(float(t), "cpu_ratio", 0.30 if t < 60 else 0.95) for t in range(120)]
    )
    run_dir, sla = run.finish(), _sla(tmp_path, P95 + CPU)
    first = _verdict(run_dir, sla)
    assert _verdict(run_dir, sla).diagnosis == first.diagnosis
    stored = read_verdict(run_dir)
    assert stored is not None
    assert stored.diagnosis == first.diagnosis
    data = json.loads((run_dir / "verdict.json").read_text())
    schema = Path(harness.verdict.__file__).parent / "schemas" / "verdict.schema.json"
    jsonschema.validate(data, json.loads(schema.read_text()))
    assert [item["rule"] for item in data["diagnosis"]][:2] == ["first_breach", "server_saturated"]


def test_summary_and_terminal_show_the_diagnosis_first(tmp_path: Path) -> None:
    run_dir = _breaking(tmp_path).finish()
    verdict = _verdict(run_dir, _sla(tmp_path, P95))
    summary = (run_dir / "summary.md").read_text()
    lines = summary.splitlines()
    assert lines[0].startswith("## perfctl:")
    assert lines[2].startswith("1. search.latency.p95 broke first")
    console = Console(record=True, width=200)
    print_verdict(verdict, console, all_checks=False)
    text = console.export_text().splitlines()
    headline = next(i for i, line in enumerate(text) if line.startswith("verdict: FAIL"))
    assert text[headline + 1].startswith("  1. search.latency.p95 broke first")


def test_operations_are_ranked_by_when_they_broke(tmp_path: Path) -> None:
    run = _breaking(tmp_path).steady("checkout", range(120), 9, 30.0)
    for t in range(30, 120):
        run.add("checkout", t, [40.0], "connection_error")
    verdict = _verdict(run.finish(), _sla(tmp_path, P95 + ERRORS))
    broke = [f for f in verdict.diagnosis if f.rule == DiagnosisRule.OPERATION_BROKE]
    assert [(f.figures["operation"], f.figures["at_s"]) for f in broke] == [
        ("checkout", 30),
        ("search", 60),
    ]
    assert broke[0].sentence.startswith("checkout broke first (0:30 into the run) by errors")
    assert broke[1].sentence.startswith("search broke (1:00 into the run) by latency")
    assert verdict.diagnosis[0].figures["check"] == "checkout.error_rate"


def test_beyond_three_broken_operations_the_rest_are_counted(tmp_path: Path) -> None:
    names = ("a", "b", "c", "d", "e")
    run = SyntheticRun(tmp_path / "run", simple_plan(operations=names))
    objectives = ""
    for offset, name in enumerate(names):
        run.steady(name, range(offset * 10), 10, 20.0)
        run.steady(name, range(offset * 10, 120), 10, 800.0)
        objectives += P95.replace("search", name)
    broke = [
        f
        for f in _verdict(run.finish(), _sla(tmp_path, objectives)).diagnosis
        if f.rule == DiagnosisRule.OPERATION_BROKE
    ]
    assert [f.figures["operation"] for f in broke] == ["a", "b", "c"]
    assert broke[-1].figures["more_operations"] == 2
    assert broke[-1].sentence.endswith("2 more failed or warned: d, e (see the SLA checks).")


def test_an_open_model_breach_gives_the_arrival_rate_planned_then(tmp_path: Path) -> None:
    plan = open_plan(stages=(("ramp", 60.0, 10.0, 10.0),))
    run = SyntheticRun(tmp_path / "run", plan)
    run.steady("search", range(30), 10, 20.0).steady("search", range(30, 60), 10, 800.0)
    for t in range(60):
        run.load(t, planned_arrivals=10, started_arrivals=10, achieved_rps=10.0)
    first = _verdict(run.finish(), _sla(tmp_path, P95)).diagnosis[0]
    assert first.rule == DiagnosisRule.FIRST_BREACH
    assert first.figures["planned_arrivals_per_s"] == 10.0
    assert "users" not in first.figures
    assert "10.0 arrivals/s planned" in first.sentence


def _connecting(
    tmp_path: Path,
    *,
    slow_connects: int,
    per_second: int = 10,
    slow_handler: bool = False,
    warmup_s: float = 0.0,
) -> SyntheticRun:
    """Search for two minutes on keep-alive connections, ten opened quickly at the start; from
    1:00, `slow_connects` requests (spread over the seconds) open a connection after a dropped
    SYN (1,003 ms), and with `slow_handler` one request a second takes 800 ms in its handler."""
    run = SyntheticRun(tmp_path / "run", simple_plan(warmup_s=warmup_s))
    run.add("search", 0, [20.0] * 10, connect_ms=[0.4] * 10, ttfb_ms=[19.0] * 10)
    run.steady("search", range(1, 120), per_second, 20.0)
    for index in range(slow_connects):
        offset = 60 + index % 60
        run.add("search", offset, [1025.0], connect_ms=[1003.0], ttfb_ms=[1024.0])
    if slow_handler:
        run.steady("search", range(60, 120), 1, 800.0)
    for t in range(120):
        run.load(t, users=10, achieved_rps=float(per_second), cpu_percent={"local": 30.0})
    return run


def test_connections_slow_to_open_are_told_apart_from_a_slow_handler(tmp_path: Path) -> None:
    run_dir = _connecting(tmp_path, slow_connects=120, slow_handler=True).finish()
    verdict = _verdict(run_dir, _sla(tmp_path, P95))
    rules = [finding.rule for finding in verdict.diagnosis]
    # what was saturated then: right after the first breach's own sentences
    assert rules[:2] == [DiagnosisRule.FIRST_BREACH, DiagnosisRule.SLOW_CONNECT]
    found = _by_rule(verdict)[DiagnosisRule.SLOW_CONNECT]
    assert found.figures["slow_connects"] == 120
    assert found.figures["new_connections"] == 130
    assert found.figures["at_s"] == 60
    assert found.figures["connect_max_ms"] == pytest.approx(1003.0, rel=1e-3)
    assert found.figures["connect_p99_ms"] == pytest.approx(1003.0, rel=1e-3)
    assert found.figures["operations"] == "search"
    # 120 slow connects and 60 slow handlers went past the 300 ms limit
    assert found.figures["slow_requests"] == 180
    assert found.figures["slow_requests_with_slow_connect"] == 120
    assert found.figures["slow_connect_share_of_slow_requests"] == pytest.approx(0.6667)
    assert found.anchor == "connections"
    sentence = found.sentence
    assert "120 of the 130 new connections took 1 s or more" in sentence
    assert "the longest 1,003 ms, connect p99 1,003 ms" in sentence
    assert "the first 1:00 into the run, most in search (120)" in sentence
    assert "100 % of them on the SYN retry schedule (1, 3, 7, 15, 31 s): SYNs the target" in (
        sentence
    )
    assert found.figures["on_syn_schedule"] == 120
    assert "120 of the 180 requests slower than their latency limit (66.7 %)" in sentence
    data = json.loads((run_dir / "verdict.json").read_text())
    schema = Path(harness.verdict.__file__).parent / "schemas" / "verdict.schema.json"
    jsonschema.validate(data, json.loads(schema.read_text()))


@pytest.mark.parametrize("generator_saturated", [False, True])
def test_slow_connects_off_the_syn_schedule_are_not_blamed_on_dropped_syns(
    tmp_path: Path, generator_saturated: bool
) -> None:
    """Connects of 1.6 to 5.9 s, between the SYN retry times: a delay around the handshake,
    the generator's own when it was saturated."""
    run = _connecting(tmp_path, slow_connects=0)
    for index in range(40):
        run.add("search", 60 + index, [2000.0 + 100 * index], connect_ms=[1600.0 + 110 * index])
    if generator_saturated:
        run.event("generator_saturated", 70, "local above 90% CPU for 5 s")
    found = _by_rule(_verdict(run.finish(), _sla(tmp_path, P95)))[DiagnosisRule.SLOW_CONNECT]
    assert found.figures["slow_connects"] == 40
    assert found.figures["on_syn_schedule_share"] < 0.6
    assert found.figures["generator_saturated"] == int(generator_saturated)
    assert "SYNs the target dropped" not in found.sentence
    assert "the rest spread between: not dropped SYNs but a delay around the handshake" in (
        found.sentence
    )
    blamed = "more likely the generator's own (a busy event loop, name resolution)"
    assert (blamed in found.sentence) == generator_saturated


@pytest.mark.parametrize(
    ("per_second", "slow_connects", "fires"),
    [
        (10, 9, False),  # fewer than MIN_SLOW_CONNECTS
        (10, 10, True),
        (100, 11, False),  # below 0.1 % of the 11,921 requests (12)
        (100, 12, True),
    ],
)
def test_slow_connects_need_ten_or_a_thousandth_of_the_requests(
    tmp_path: Path, per_second: int, slow_connects: int, fires: bool
) -> None:
    run = _connecting(tmp_path, slow_connects=slow_connects, per_second=per_second)
    verdict = _verdict(run.finish(), _sla(tmp_path, P95))
    found = _by_rule(verdict).get(DiagnosisRule.SLOW_CONNECT)
    assert (found is not None) == fires
    if found is not None:
        assert found.figures["slow_connects"] == slow_connects
        # every request slower than 300 ms waited on its connection
        assert found.figures["slow_connect_share_of_slow_requests"] == 1.0
        assert verdict.status == "pass"  # p95 held: the rule needs no breach
    else:
        assert verdict.diagnosis[0].rule == DiagnosisRule.NOTHING_TO_DIAGNOSE


def test_slow_connects_in_the_warm_up_are_not_diagnosed(tmp_path: Path) -> None:
    run = _connecting(tmp_path, slow_connects=0, warmup_s=30.0)
    for offset in range(5, 25):
        run.add("search", offset, [1025.0], connect_ms=[3010.0], ttfb_ms=[3020.0])
    verdict = _verdict(run.finish(), _sla(tmp_path, P95))
    assert DiagnosisRule.SLOW_CONNECT not in _by_rule(verdict)


def test_without_a_latency_objective_the_slow_connects_are_said_alone(tmp_path: Path) -> None:
    run = _connecting(tmp_path, slow_connects=30)
    availability = '  - {operation: search, metric: availability, limit: ">= 99 %"}\n'
    found = _by_rule(_verdict(run.finish(), _sla(tmp_path, availability)))[
        DiagnosisRule.SLOW_CONNECT
    ]
    assert "slow_requests" not in found.figures
    assert "latency limit" not in found.sentence


def test_a_run_with_quick_new_connections_still_has_nothing_to_diagnose(tmp_path: Path) -> None:
    run = _healthy(tmp_path)
    for t in range(0, 120, 10):  # connections closed and reopened now and then, quickly
        run.add("search", t, [21.0], connect_ms=[0.6], ttfb_ms=[20.0])
    clean = _verdict(run.finish(), _sla(tmp_path, P95))
    assert [(f.rule, f.sentence) for f in clean.diagnosis] == [
        (DiagnosisRule.NOTHING_TO_DIAGNOSE, NOTHING_TO_DIAGNOSE)
    ]
