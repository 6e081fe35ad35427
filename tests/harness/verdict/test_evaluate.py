"""The verdict judges every objective honestly: boundaries, windows, scopes, and what it cannot tell."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.plan import Scale
from harness.rundir import EndCause
from harness.spec._sla import Sla, load_sla
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._model import Check, Verdict
from tests.harness._synthetic_run import SyntheticRun, simple_plan


def _sla(tmp_path: Path, objectives: str, extra: str = "") -> Sla:
    path = tmp_path / "sla.yaml"
    path.write_text(f"version: 1\nname: test\n{extra}objectives:\n{objectives}")
    return load_sla(path)


def _judge(
    run_dir: Path, sla: Sla, *, strict: bool = False, baseline: Path | None = None
) -> Verdict:
    return evaluate(
        read_judged_run(run_dir),
        sla,
        baseline=read_judged_run(baseline) if baseline else None,
        strict=strict,
    )


def _only(verdict: Verdict) -> Check:
    assert len(verdict.checks) == 1
    return verdict.checks[0]


@pytest.mark.parametrize(
    ("latency_ms", "limit", "warn", "status"),
    [
        (299.0, "< 300 ms", "", "pass"),
        (301.0, "< 300 ms", "", "fail"),
        # HDR reports the bucket's upper bound (299.x > 299), whose lowest value is below 299:
        # the recorded precision cannot tell, so the check is too close to call, never a pass
        (299.0, "<= 299 ms", "", "marginal"),
        (300.0, "<= 301 ms", "", "pass"),
        (301.0, "< 300 ms", "< 500 ms", "warn"),
        (499.0, "< 300 ms", "< 500 ms", "warn"),
        (501.0, "< 300 ms", "< 500 ms", "fail"),
    ],
)
def test_latency_is_judged_at_recorded_precision(
    tmp_path: Path, latency_ms: float, limit: str, warn: str, status: str
) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, latency_ms)
    warn_part = f', warn: "{warn}"' if warn else ""
    sla = _sla(
        tmp_path,
        f'  - {{operation: search, metric: latency, statistic: p95, limit: "{limit}"{warn_part}}}\n',
    )
    check = _only(_judge(run.finish(), sla))
    assert check.status == status
    assert check.measured == pytest.approx(latency_ms, rel=1e-3)
    assert check.samples == 1200


def test_p99_over_too_few_requests_is_no_data(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).add("search", 5, [10.0] * 20)
    sla = _sla(
        tmp_path, '  - {operation: search, metric: latency, statistic: p99, limit: "< 300 ms"}\n'
    )
    verdict = _judge(run.finish(), sla)
    assert _only(verdict).status == "no_data"
    assert verdict.status == "inconclusive"
    assert verdict.exit_code == 3


def test_operation_never_produced_is_not_exercised_never_pass(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(60), 5, 10.0)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p50, limit: "< 300 ms"}\n'
        '  - {operation: checkout, metric: latency, statistic: p50, limit: "< 300 ms", optional: true}\n',
    )
    verdict = _judge(run.finish(), sla)
    statuses = {check.operation: check.status for check in verdict.checks}
    assert statuses == {"search": "pass", "checkout": "not_exercised"}
    assert verdict.status == "pass"


def test_every_window_is_judged_and_counted(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan(stages=(("steady", 180.0),)))
    run.steady("search", range(0, 60), 10, 50.0)
    run.steady("search", range(60, 120), 10, 900.0)  # one bad minute
    run.steady("search", range(120, 180), 10, 50.0)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", window: 1m}\n',
    )
    check = _only(_judge(run.finish(), sla))
    assert check.status == "fail"
    assert (check.windows_passed, check.windows_total) == (2, 3)
    assert check.measured == pytest.approx(900.0, rel=1e-3)


def test_windows_required_tolerates_a_share_of_bad_windows(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan(stages=(("steady", 240.0),)))
    run.steady("search", range(0, 180), 10, 50.0).steady("search", range(180, 240), 10, 900.0)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", window: 1m, windows_required: "75 %"}\n',
    )
    check = _only(_judge(run.finish(), sla))
    assert check.status == "pass"
    assert (check.windows_passed, check.windows_total) == (3, 4)


def test_warm_up_is_excluded(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan(warmup_s=30.0))
    run.steady("search", range(0, 30), 10, 5000.0).steady("search", range(30, 120), 10, 50.0)
    sla = _sla(
        tmp_path, '  - {operation: search, metric: latency, statistic: max, limit: "< 300 ms"}\n'
    )
    assert _only(_judge(run.finish(), sla)).status == "pass"


def test_stage_scoped_objective_reads_only_its_stage(tmp_path: Path) -> None:
    plan = simple_plan(stages=(("ramp", 60.0), ("peak", 60.0), ("down", 60.0)))
    run = SyntheticRun(tmp_path / "run", plan)
    run.steady("search", range(0, 60), 10, 10.0)
    run.steady("search", range(60, 120), 200, 10.0)
    run.steady("search", range(120, 180), 10, 10.0)
    sla = _sla(
        tmp_path,
        '  - {operation: "*", metric: throughput, limit: ">= 150 rps", scope: peak}\n'
        '  - {operation: "*", metric: throughput, limit: ">= 150 rps", scope: spike}\n',
    )
    peak, spike = _judge(run.finish(), sla).checks
    assert peak.status == "pass"
    assert peak.measured == pytest.approx(200.0)
    assert spike.status == "not_exercised"
    assert "no stage 'spike'" in spike.message


def test_throughput_limit_scales_with_the_load_and_shows_the_seed_figure(tmp_path: Path) -> None:
    plan = simple_plan(scale=Scale(users=0.01, rate=0.01, time=0.1))
    run = SyntheticRun(tmp_path / "run", plan).steady("search", range(120), 120, 10.0)
    sla = _sla(tmp_path, '  - {operation: "*", metric: throughput, limit: ">= 10000 rps"}\n')
    check = _only(_judge(run.finish(), sla))
    assert check.seed_limit == 10000
    assert check.limit == pytest.approx(100.0)
    assert check.status == "pass"


@pytest.mark.parametrize(
    ("outcome", "availability", "error_rate"),
    [
        ("http_5xx", "fail", "fail"),
        ("connection_error", "fail", "fail"),
        (
            "http_4xx",
            "pass",
            "fail",
        ),  # the server answered: unexpected 4xx are errors, not downtime
        ("check_failed", "pass", "fail"),
    ],
)
def test_availability_and_error_rate_count_the_right_outcomes(
    tmp_path: Path, outcome: str, availability: str, error_rate: str
) -> None:
    # 50 bad of 5,050 (~1 %): enough requests that a 100 % availability's interval stays
    # above 99.9 % (of 1,010 requests it would straddle it: too close to call)
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(100), 50, 10.0)
    run.add("search", 50, [10.0] * 50, outcome)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: availability, limit: ">= 99.9 %"}\n'
        '  - {operation: search, metric: error_rate, limit: "< 0.5 %"}\n',
    )
    avail, errors = _judge(run.finish(), sla).checks
    assert (avail.status, errors.status) == (availability, error_rate)


def test_stopped_target_fails_availability_and_latency_has_no_data(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan())
    for offset in range(60):
        run.add("search", offset, [0.0] * 20, "connection_error", error="ConnectionRefusedError")
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
        '  - {operation: search, metric: availability, limit: ">= 99.9 %"}\n',
    )
    verdict = _judge(run.finish(), sla)
    latency, availability = verdict.checks
    assert latency.status == "no_data"
    assert availability.status == "fail"
    assert availability.measured == 0.0
    assert verdict.status == "fail"
    assert verdict.exit_code == 1


def test_saturated_generator_makes_a_failing_latency_inconclusive(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, 900.0)
    run.event("generator_saturated", 40.0, "local at 98 % CPU for 5 s")
    sla = _sla(
        tmp_path, '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
    )
    verdict = _judge(run.finish(), sla)
    check = _only(verdict)
    assert check.status == "inconclusive"
    assert "saturated" in check.message
    assert verdict.status == "inconclusive"
    assert verdict.exit_code == 3


@pytest.mark.parametrize(
    ("status", "interrupted", "end_cause", "expected_exit"),
    [
        # an aborted run with no failed objective failed as a run: exit 1 is the SLA's alone
        ("aborted", False, None, 3),
        ("aborted", False, EndCause.WORKERS_LOST, 3),
        # an objective's abort rule stopped it: an objective failed
        ("aborted", False, EndCause.ABORT_ON_BREACH, 1),
        ("aborted", True, None, 130),
        ("degraded", False, None, 3),
    ],
)
def test_aborted_or_degraded_run_is_never_a_pass(
    tmp_path: Path,
    status: str,
    interrupted: bool,
    end_cause: EndCause | None,
    expected_exit: int,
) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, 10.0)
    sla = _sla(
        tmp_path, '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
    )
    run_dir = run.finish(status=status, interrupted=interrupted, end_cause=end_cause)
    verdict = _judge(run_dir, sla)
    assert _only(verdict).status == "pass"
    assert verdict.status != "pass"
    assert verdict.exit_code == expected_exit


def test_strict_turns_a_warning_into_a_failure(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, 400.0)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", warn: "< 500 ms"}\n',
    )
    run_dir = run.finish()
    assert _judge(run_dir, sla).exit_code == 0
    assert _judge(run_dir, sla, strict=True).exit_code == 1


def test_failed_check_carries_severity_and_the_seed_actions(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, 900.0)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", severity: critical}\n',
    )
    check = _only(_judge(run.finish(), sla))
    assert check.severity == "critical"
    assert "Auto-scaling activation" in check.actions


def test_open_model_latency_says_it_is_the_corrected_one(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan(model="open"))
    for offset in range(60):
        run.add("search", offset, [1000.0] * 10, service_ms=[5.0] * 10)
    sla = _sla(
        tmp_path, '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
    )
    check = _only(_judge(run.finish(), sla))
    assert check.latency_kind == "corrected"
    assert check.status == "fail"  # the corrected latency, not the 5 ms service time


def test_relative_objective_against_a_baseline(tmp_path: Path) -> None:
    base = SyntheticRun(tmp_path / "base", simple_plan()).steady("search", range(120), 10, 100.0)
    slower = SyntheticRun(tmp_path / "new", simple_plan()).steady("search", range(120), 10, 125.0)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", baseline: "<= +10 %"}\n',
    )
    base_dir, new_dir = base.finish(), slower.finish()
    without = _judge(new_dir, sla)
    assert [check.status for check in without.checks] == ["pass", "not_exercised"]
    judged = _judge(new_dir, sla, baseline=base_dir)
    relative = judged.checks[1]
    assert relative.id.endswith(".vs_baseline")
    assert relative.status == "fail"
    assert relative.measured == pytest.approx(0.25, abs=0.01)


def test_latency_drift_found_when_it_grows_and_not_when_steady(tmp_path: Path) -> None:
    plan = simple_plan(stages=(("soak", 600.0),))
    growing = SyntheticRun(tmp_path / "growing", plan)
    steady = SyntheticRun(tmp_path / "steady", plan)
    for offset in range(600):
        growing.add("search", offset, [100.0 + offset * 0.2] * 5)
        steady.add("search", offset, [100.0 + (offset % 7)] * 5)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency_drift, statistic: p95, limit: "< 10 %/h", window: 1m}\n',
    )
    assert _only(_judge(growing.finish(), sla)).status == "fail"
    assert _only(_judge(steady.finish(), sla)).status == "pass"


def test_a_scenario_that_opts_out_of_the_sla_is_judged_on_its_own_thresholds(
    tmp_path: Path,
) -> None:
    from harness.spec import plan_run

    plan = plan_run("k6-seed", "smoke")
    run = SyntheticRun(tmp_path / "run", plan)
    # 20 a second each: enough requests that no error at all is shown below k6's 1 % at 95 %
    for offset in range(int(plan.duration_s)):
        run.add("product_search", offset, [120.0] * 20)
        run.add("recommendations", offset, [1500.0] * 20)  # p(95) over all requests > 1000 ms
    sla = _sla(
        tmp_path,
        '  - {operation: product_search, metric: latency, statistic: p50, limit: "< 1 ms"}\n',
    )
    verdict = _judge(run.finish(), sla)
    assert {check.id: check.status for check in verdict.checks} == {
        "http_req_duration": "fail",
        "http_req_failed": "pass",
        "checks": "pass",
    }


def test_throughput_the_plan_never_offered_is_not_exercised(tmp_path: Path) -> None:
    from dataclasses import replace

    from harness.plan import JourneyPlan

    search = JourneyPlan("search", 1.0, "builtin", 1.0, 3.0, operations=("product_search",))
    plan = replace(simple_plan(), journeys=(search,))  # 10 users, 1-3 s think: ~15 rps offered
    run = SyntheticRun(tmp_path / "run", plan).steady("product_search", range(120), 5, 10.0)
    sla = _sla(
        tmp_path,
        '  - {operation: "*", metric: throughput, limit: ">= 1000 rps"}\n'
        '  - {id: modest, operation: "*", metric: throughput, limit: ">= 5 rps"}\n',
    )
    never, offered = _judge(run.finish(), sla).checks
    assert never.status == "not_exercised"
    assert "never offered" in never.message
    assert offered.status == "pass"
