"""A verdict on load the generator did not deliver is inconclusive; load the target refused
(arrivals dropped with every journey slot waiting on it) is the target's failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.spec._sla import Sla, load_sla
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._model import Verdict
from tests.harness._synthetic_run import SyntheticRun, open_plan, simple_plan

LATENCY = '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
ERRORS = '  - {operation: search, metric: error_rate, limit: "< 1 %"}\n'
AVAILABILITY = '  - {operation: search, metric: availability, limit: ">= 99 %"}\n'


def _sla(tmp_path: Path, objectives: str, defaults: str = "") -> Sla:
    path = tmp_path / "sla.yaml"
    path.write_text(f"version: 1\nname: delivery\n{defaults}objectives:\n{objectives}")
    return load_sla(path)


def _judge(run_dir: Path, sla: Sla) -> Verdict:
    return evaluate(read_judged_run(run_dir), sla)


def _open_run(
    tmp_path: Path,
    *,
    started: int,
    by_generator: int = 0,
    by_target: int = 0,
    latency_ms: float = 50.0,
    planned: int = 10,
    seconds: int = 100,
) -> SyntheticRun:
    """An open-model run planned at `planned` arrivals a second, of which `started` ran."""
    plan = open_plan(stages=(("steady", float(seconds), planned, planned),))
    run = SyntheticRun(tmp_path / "run", plan).steady("search", range(seconds), started, latency_ms)
    for offset in range(seconds):
        if by_target:
            run.add("search", offset, [0.0] * by_target, "dropped")
        run.load(
            offset,
            stage="steady",
            planned_arrivals=planned,
            started_arrivals=started,
            dropped_arrivals=by_generator + by_target,
            dropped_by_target=by_target,
        )
    return run


def test_a_pass_measured_on_half_the_planned_arrivals_is_inconclusive(tmp_path: Path) -> None:
    """Issue 10: a passing latency measured while 50 % of the arrivals were dropped was PASS."""
    run = _open_run(tmp_path, started=5, by_generator=5)
    verdict = _judge(run.finish(), _sla(tmp_path, LATENCY))
    (check,) = verdict.checks
    assert check.status == "inconclusive"
    assert check.measured is not None
    assert check.measured < 300  # it would have passed
    assert verdict.status == "inconclusive"
    assert verdict.exit_code == 3
    reason = next(r for r in verdict.reasons if "planned arrivals" in r)
    assert "delivered 500 of 1,000 planned arrivals (50.0% short, tolerance 1.0%)" in reason
    assert "500 arrivals dropped by the generator" in reason


def test_arrivals_started_late_or_never_count_as_a_shortfall(tmp_path: Path) -> None:
    """started < planned with nothing dropped: the generator's scheduler fell behind."""
    run = _open_run(tmp_path, started=8)
    verdict = _judge(run.finish(), _sla(tmp_path, LATENCY))
    assert verdict.checks[0].status == "inconclusive"
    assert any("started late or never" in reason for reason in verdict.reasons)


def test_arrivals_the_target_caused_to_drop_fail_the_error_rate(tmp_path: Path) -> None:
    """Issue 10: arrivals dropped because the target kept the concurrency cap full turned a
    real failure into inconclusive. They are the target's failure: counted as failed
    requests, never a reason for inconclusive."""
    run = _open_run(tmp_path, started=6, by_target=4, latency_ms=900.0)
    run.event("behind_plan", 30.0, "600 of 1,000 planned arrivals started in the last 5 s")
    sla = _sla(tmp_path, LATENCY + ERRORS + AVAILABILITY)
    verdict = _judge(run.finish(), sla)
    latency, errors, availability = verdict.checks
    assert latency.status == "fail"
    assert errors.status == "fail"
    assert errors.measured == pytest.approx(0.4)
    assert availability.status == "fail"
    assert availability.measured == pytest.approx(0.6)
    assert verdict.status == "fail"
    assert verdict.exit_code == 1
    assert any(
        "400 arrivals were dropped because the target kept all" in reason
        for reason in verdict.reasons
    )


def test_target_drops_alone_never_make_a_pass_inconclusive(tmp_path: Path) -> None:
    run = _open_run(tmp_path, planned=100, started=98, by_target=2, seconds=20)
    verdict = _judge(run.finish(), _sla(tmp_path, LATENCY))
    assert verdict.checks[0].status == "pass"
    assert verdict.status == "pass"


@pytest.mark.parametrize(
    ("defaults", "status"),
    [
        ("", "inconclusive"),  # 2 % short, default tolerance 1 %
        ("defaults: {generator_tolerance: 5 %}\n", "pass"),
        ("defaults: {generator_tolerance: 1.5 %}\n", "inconclusive"),
    ],
)
def test_the_tolerance_is_the_slas(tmp_path: Path, defaults: str, status: str) -> None:
    run = _open_run(tmp_path, planned=100, started=98, by_generator=2)
    verdict = _judge(run.finish(), _sla(tmp_path, LATENCY, defaults))
    assert verdict.checks[0].status == status


def test_a_shortfall_within_the_tolerance_stays_a_pass(tmp_path: Path) -> None:
    run = _open_run(tmp_path, planned=1000, started=995, by_generator=5, seconds=20)
    verdict = _judge(run.finish(), _sla(tmp_path, LATENCY))
    assert verdict.status == "pass"


def test_missing_users_make_a_closed_model_pass_inconclusive(tmp_path: Path) -> None:
    """The plan asks for 10 users; the generator ran only 6 for most of the run."""
    plan = simple_plan(stages=(("steady", 100.0),))
    run = SyntheticRun(tmp_path / "run", plan).steady("search", range(100), 10, 50.0)
    for offset in range(100):
        run.load(offset, stage="steady", users=6 if offset >= 10 else 10)
    verdict = _judge(run.finish(), _sla(tmp_path, LATENCY))
    assert verdict.checks[0].status == "inconclusive"
    reason = next(r for r in verdict.reasons if "user-seconds" in r)
    # the last second counts its users as the plan ends: nothing planned there
    assert "delivered 634 of 990 planned user-seconds (36.0% short" in reason


def test_the_users_the_plan_asks_for_keep_a_closed_model_pass(tmp_path: Path) -> None:
    plan = simple_plan(stages=(("steady", 100.0),))
    run = SyntheticRun(tmp_path / "run", plan).steady("search", range(100), 10, 50.0)
    for offset in range(100):
        run.load(offset, stage="steady", users=10)
    assert _judge(run.finish(), _sla(tmp_path, LATENCY)).status == "pass"


def test_a_shortfall_in_one_stage_leaves_the_others_judged(tmp_path: Path) -> None:
    plan = open_plan(stages=(("steady", 100.0, 10, 10), ("peak", 20.0, 10, 10)))
    run = SyntheticRun(tmp_path / "run", plan).steady("search", range(120), 5, 50.0)
    for offset in range(120):
        short = offset >= 100
        run.load(
            offset,
            stage="peak" if short else "steady",
            planned_arrivals=10,
            started_arrivals=5 if short else 10,
            dropped_arrivals=5 if short else 0,
        )
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", '
        "scope: steady}\n"
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", '
        "scope: peak}\n",
    )
    steady, peak = _judge(run.finish(), sla).checks
    assert (steady.status, peak.status) == ("pass", "inconclusive")


def test_without_load_figures_a_behind_plan_event_decides(tmp_path: Path) -> None:
    """A run directory without load.jsonl figures: the engine's own flag is all there is."""
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, 50.0)
    run.event("behind_plan", 40.0, "30 of 50 planned user-seconds in the last 5 s")
    verdict = _judge(run.finish(), _sla(tmp_path, LATENCY))
    assert verdict.checks[0].status == "inconclusive"
    assert verdict.status == "inconclusive"


@pytest.mark.parametrize("outcome", ["dropped", "interrupted"])
def test_dropped_and_interrupted_requests_are_failed_and_unavailable(
    tmp_path: Path, outcome: str
) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(100), 10, 10.0)
    run.add("search", 50, [10.0] * 20, outcome)  # 20 of 1,020: ~2 %
    verdict = _judge(run.finish(), _sla(tmp_path, ERRORS + AVAILABILITY))
    errors, availability = verdict.checks
    assert errors.status == "fail"
    assert availability.status == "fail"
