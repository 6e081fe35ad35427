"""Abort on breach stops a run only when a breach has lasted, never in warm-up."""

from __future__ import annotations

from pathlib import Path

from harness.plan import RunPlan
from harness.spec._sla import load_sla
from harness.timeline import Outcome, WindowLine, WindowRecord, parse_python
from harness.verdict._abort import AbortWatch
from tests.harness._synthetic_run import simple_plan

START = 1_800_000_000
PLAN = simple_plan(scenario="shop", stages=(("steady", 600.0),))
STAGED = simple_plan(scenario="shop", stages=(("ramp-up", 60.0), ("peak", 60.0), ("down", 60.0)))


def _watch(tmp_path: Path, after: str = "10s", warmup_s: float = 0.0) -> AbortWatch:
    path = tmp_path / "sla.yaml"
    path.write_text(
        "version: 1\nname: t\nobjectives:\n"
        f'  - {{operation: search, metric: latency, statistic: p95, limit: "< 300 ms", abort: {{after: {after}}}}}\n'
        '  - {operation: search, metric: error_rate, limit: "< 5 %"}\n'
    )
    plan = simple_plan(scenario="shop", stages=(("steady", 600.0),), warmup_s=warmup_s)
    return AbortWatch(load_sla(path).objectives, plan, started_t=START)


def _watch_of(tmp_path: Path, objective: str, plan: RunPlan = STAGED) -> AbortWatch:
    path = tmp_path / "sla.yaml"
    path.write_text(f"version: 1\nname: t\nobjectives:\n  - {objective}\n")
    return AbortWatch(load_sla(path).objectives, plan, started_t=START)


def _second(offset: int, latency_ms: float, count: int = 30, outcome: Outcome = "ok") -> WindowLine:
    record = WindowRecord(START + offset, "search")
    for _ in range(count):
        record.record(outcome, latency_ms)
    return parse_python(WindowLine, record.to_line())


def test_only_objectives_with_an_abort_rule_are_watched(tmp_path: Path) -> None:
    watch = _watch(tmp_path)
    assert [objective.id for objective in watch.objectives] == ["search.latency.p95"]


def test_a_sustained_breach_aborts_with_a_reason(tmp_path: Path) -> None:
    watch = _watch(tmp_path, after="10s")
    watch.observe(_second(t, 50.0) for t in range(20))
    watch.observe(_second(t, 900.0) for t in range(20, 40))
    assert watch.check(START + 25) is None  # breached, not for long enough yet
    decision = watch.check(START + 45)
    assert decision is not None
    assert decision.objective_id == "search.latency.p95"
    assert "for 10s" in decision.reason
    assert decision.measured > 300


def test_a_short_spike_does_not_abort(tmp_path: Path) -> None:
    watch = _watch(tmp_path, after="10s")
    seconds = [_second(t, 900.0 if 20 <= t < 22 else 50.0) for t in range(60)]
    watch.observe(seconds)
    assert watch.check(START + 62) is None


def test_breach_during_warm_up_never_aborts(tmp_path: Path) -> None:
    watch = _watch(tmp_path, after="5s", warmup_s=30.0)
    watch.observe(_second(t, 900.0 if t < 30 else 50.0) for t in range(60))
    assert watch.check(START + 62) is None


def test_a_breach_inside_the_warning_band_does_not_abort(tmp_path: Path) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(
        "version: 1\nname: t\nobjectives:\n"
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", warn: "< 1000 ms", abort: {after: 5s}}\n'
    )
    watch = AbortWatch(load_sla(path).objectives, PLAN, started_t=START)
    watch.observe(_second(t, 600.0) for t in range(30))
    assert watch.check(START + 32) is None
    watch.observe(_second(t, 1500.0) for t in range(30, 45))
    decision = watch.check(START + 47)
    assert decision is not None
    assert "< 1000 ms" in decision.reason


P95_PEAK = (
    '{operation: search, metric: latency, statistic: p95, limit: "< 300 ms", scope: peak, '
    "abort: {after: 5s}}"
)


def test_a_rule_scoped_on_a_stage_ignores_a_breach_in_another_stage(tmp_path: Path) -> None:
    """Issue 10: an abort written for stage `peak` fired in any stage."""
    watch = _watch_of(tmp_path, P95_PEAK)
    watch.observe(_second(t, 900.0 if t < 60 else 50.0) for t in range(180))
    assert watch.check(START + 182) is None


def test_a_rule_scoped_on_a_stage_fires_in_that_stage(tmp_path: Path) -> None:
    watch = _watch_of(tmp_path, P95_PEAK)
    watch.observe(_second(t, 900.0 if 70 <= t < 90 else 50.0) for t in range(180))
    decision = watch.check(START + 182)
    assert decision is not None
    assert decision.objective_id == "search.latency.p95@peak"


def test_a_breach_before_the_stage_does_not_count_towards_it(tmp_path: Path) -> None:
    """The trailing seconds are read inside the stage only: a breach that ends as the stage
    starts is not carried into it."""
    watch = _watch_of(tmp_path, P95_PEAK.replace("5s", "3s"))
    watch.observe(_second(t, 900.0 if t < 60 else 50.0) for t in range(180))
    assert watch.check(START + 182) is None


def test_a_rule_for_a_stage_the_plan_lacks_is_not_watched(tmp_path: Path) -> None:
    watch = _watch_of(tmp_path, P95_PEAK, plan=PLAN)
    assert not watch
    watch.observe(_second(t, 900.0) for t in range(60))
    assert watch.check(START + 62) is None


def test_a_rule_for_other_scenarios_is_not_watched(tmp_path: Path) -> None:
    watch = _watch_of(
        tmp_path,
        '{operation: search, metric: latency, statistic: p95, limit: "< 300 ms", '
        "scenarios: [capacity], abort: {after: 5s}}",
        plan=PLAN,
    )
    assert not watch
    watch.observe(_second(t, 900.0) for t in range(60))
    assert watch.check(START + 62) is None


def test_dropped_and_interrupted_requests_count_against_availability(tmp_path: Path) -> None:
    watch = _watch_of(
        tmp_path,
        '{operation: search, metric: availability, limit: ">= 99 %", abort: {after: 5s}}',
        plan=PLAN,
    )
    watch.observe(_second(t, 50.0, count=20) for t in range(30))
    watch.observe(_second(t, 0.0, count=10, outcome="dropped") for t in range(10, 20))
    watch.observe(_second(t, 50.0, count=10, outcome="interrupted") for t in range(30, 40))
    decision = watch.check(START + 22)
    assert decision is not None
    assert decision.measured < 0.99
