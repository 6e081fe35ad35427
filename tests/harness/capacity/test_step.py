from __future__ import annotations

from typing import Any

import pytest

from harness.capacity._step import STEP_STAGE, judge_step, step_plan
from harness.errors import RunError
from harness.plan import Scale
from harness.spec import plan_run
from harness.verdict import Check, Verdict


def check(check_id: str, metric: str, status: str, **fields: Any) -> Check:
    values: dict[str, Any] = {
        "id": check_id,
        "operation": check_id.split(".")[0],
        "metric": metric,
        "statistic": "p95" if metric == "latency" else "ratio",
        "comparator": "<",
        "limit": 100.0,
        "unit": "ms" if metric == "latency" else "ratio",
        "status": status,
        "severity": "high",
    }
    values.update(fields)
    return Check(**values)


def verdict(*checks: Check, rps: float | None = 412.5) -> Verdict:
    capacity = {"basis": {"rps": rps, "cpu_ratio": 0.7}, "components": []} if rps else None
    return Verdict(status="pass", checks=checks, capacity=capacity)


def test_a_step_holds_when_every_latency_and_error_objective_holds() -> None:
    step = judge_step(
        400.0,
        verdict(
            check("search.latency.p95", "latency", "pass", measured=80.0),
            check("search.errors", "error_rate", "warn", measured=0.004, limit=0.005),
            check("gateway.throughput", "throughput", "not_exercised"),
            check("cpu", "cpu", "fail", measured=0.93, limit=0.7),
            check("memory", "memory", "pass", measured=0.41, limit=0.8),
        ),
        run_id="20261130T120000Z-capacity-400",
    )
    assert step.held
    assert step.delivered
    assert step.limiting_objective == ""
    assert step.cpu_ratio == 0.93  # server KPIs are read, never judged by a step
    assert step.memory_ratio == 0.41
    assert step.run_id == "20261130T120000Z-capacity-400"


def test_a_failed_latency_objective_breaks_the_step_and_the_worst_overshoot_limits_it() -> None:
    step = judge_step(
        800.0,
        verdict(
            check("search.latency.p95", "latency", "fail", measured=120.0),
            check("checkout.latency.p99", "latency", "fail", measured=450.0, limit=300.0),
            check("search.availability", "availability", "pass"),
        ),
    )
    assert not step.held
    assert step.delivered
    assert step.limiting_objective == "checkout.latency.p99"  # 50 % over beats 20 % over


def test_an_inconclusive_step_without_a_failure_is_the_generators_shortfall() -> None:
    step = judge_step(
        5000.0,
        verdict(
            check("search.latency.p95", "latency", "inconclusive", measured=40.0),
            check("search.errors", "error_rate", "inconclusive", measured=0.0),
        ),
    )
    assert step.held
    assert not step.delivered


def test_a_saturated_target_breaks_the_step_even_when_the_generator_was_short_too() -> None:
    # both at their limit: the checks are inconclusive (generator saturated), but the target
    # had no CPU left and the figures miss their limits: the target broke, whatever else did
    step = judge_step(
        1280.0,
        verdict(
            check("search.latency.p95", "latency", "inconclusive", measured=4800.0),
            check("checkout.latency.p99", "latency", "inconclusive", measured=900.0),
            check("search.errors", "error_rate", "inconclusive", measured=0.0, limit=0.01),
            check("cpu", "cpu", "fail", measured=0.97, limit=0.7),
        ),
    )
    assert not step.held
    assert step.delivered
    assert step.limiting_objective == "search.latency.p95"


def test_a_short_generator_with_a_target_below_saturation_is_still_a_shortfall() -> None:
    step = judge_step(
        1280.0,
        verdict(
            check("search.latency.p95", "latency", "inconclusive", measured=4800.0),
            check("cpu", "cpu", "pass", measured=0.6, limit=0.7),
        ),
    )
    assert step.held
    assert not step.delivered


def test_a_step_that_judged_nothing_is_a_run_error_naming_the_objectives() -> None:
    with pytest.raises(RunError, match=r"judged no latency or error objective \(search"):
        judge_step(10.0, verdict(check("search.latency.p95", "latency", "no_data")))
    with pytest.raises(RunError, match="none in the SLA"):
        judge_step(10.0, verdict(check("cpu", "cpu", "pass", measured=0.2)))


def test_a_step_plan_is_the_scenarios_mix_held_at_one_rate_after_a_warmup() -> None:
    base = plan_run("capacity", profile="demo")
    plan = step_plan(base, rate_per_s=250.0, hold_s=20.0, warmup_s=5.0)
    assert [stage.name for stage in plan.stages] == [STEP_STAGE]
    (stage,) = plan.stages
    assert stage.start_s == 0.0
    assert stage.duration_s == 25.0
    assert stage.rate_start_per_s == stage.rate_end_per_s == 250.0
    assert plan.warmup_s == 5.0
    assert plan.duration_s == 25.0
    assert plan.journeys == base.journeys
    assert plan.max_concurrency == base.max_concurrency
    assert plan.graceful_stop_s == 2.0  # an overloaded step does not wait the scenario's 30 s
    # the rate is the search's own: no throughput limit is scaled as a profile's share of it
    assert base.scale.rate < 1.0
    assert plan.scale == Scale()


def test_a_step_keeps_the_scenarios_own_concurrency_cap_not_the_profiles() -> None:
    scaled = plan_run("capacity", profile="ci")
    unscaled = plan_run("capacity")
    assert scaled.max_concurrency < unscaled.max_concurrency
    plan = step_plan(scaled, 500.0, 10.0, 2.0, max_concurrency=unscaled.max_concurrency)
    assert plan.max_concurrency == unscaled.max_concurrency
    assert plan.profile == "ci"


@pytest.mark.parametrize(
    ("rate", "hold", "warmup"), [(0.0, 10.0, 1.0), (5.0, 0.0, 1.0), (5.0, 1.0, -1.0)]
)
def test_a_step_needs_a_positive_rate_and_hold(rate: float, hold: float, warmup: float) -> None:
    with pytest.raises(RunError, match="positive rate"):
        step_plan(plan_run("capacity", profile="demo"), rate, hold, warmup)


def test_a_step_needs_an_open_model_scenario() -> None:
    with pytest.raises(RunError, match="open-model"):
        step_plan(plan_run("normal", profile="demo"), 10.0, 10.0, 1.0)
