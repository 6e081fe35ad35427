"""One step of a capacity search: the capacity scenario's plan held at one arrival rate, and
its verdict read as whether the objectives held at that rate.

A step is an ordinary run (its own run directory, judged by the verdict like any other), so
everything a run guarantees holds for each step: the generator's shortfall is caught, a
killed or corrupt run is refused, server metrics are read for the same span. What the search
needs from the verdict is narrow:

- the step *held* when no latency, error-rate or availability check failed;
- the step was *not delivered* when those checks are inconclusive because the generator fell
  short of the rate (its limit, not the target's): the search then stops with "at least";
- a step in which none of them could be judged (too few requests for their sample minimums)
  is a `RunError`: the step was too short to say anything, and a search on it would guess.

Throughput objectives are not judged by a step (one instance at one rate is not the
platform); the capacity checks built from the knee judge them.
"""

from __future__ import annotations

from dataclasses import replace

from harness.capacity._machine import MachineCpu
from harness.errors import RunError
from harness.plan import RunPlan, Scale, StagePlan
from harness.rundir import CapacityStep
from harness.verdict import Check, JudgedRun, NoSpan, Verdict, scope_span

ALL_OPERATIONS = "*"
STEP_STAGE = "step"
"""The name of a step's one stage."""
JUDGED_METRICS = frozenset({"latency", "error_rate", "availability"})
"""The objectives a step is judged on: every one must hold for the rate to count."""
_JUDGED_STATUSES = frozenset({"pass", "warn", "fail", "marginal", "inconclusive"})


STEP_GRACEFUL_STOP_S = 2.0
TARGET_SATURATED_RATIO = 0.9
"""Target CPU (share of its cores) at or above which it has nothing left: past its own limit,
whatever else (the generator) was also short of."""
"""In-flight requests at a step's end get this long; later ones are recorded `interrupted`
(an overloaded step must not add the scenario's 30 s to every probe)."""


def step_plan(
    base: RunPlan,
    rate_per_s: float,
    hold_s: float,
    warmup_s: float,
    *,
    max_concurrency: int | None = None,
) -> RunPlan:
    """`base` (an open-model plan: its journey mix, connections, timeouts) as one constant
    stage of `rate_per_s` arrivals for `warmup_s + hold_s`, judged after the warm-up.

    `max_concurrency` replaces the plan's cap on journeys in flight: a profile scales that cap
    with its users, but a step's rate is the search's, and a cap scaled for a one-minute gate
    would drop arrivals (and break the step) long before the target does."""
    if base.model != "open":
        raise RunError(f"a capacity step needs an open-model scenario, {base.scenario} is closed")
    if rate_per_s <= 0 or hold_s <= 0 or warmup_s < 0:
        raise RunError("a capacity step needs a positive rate and hold, and a warm-up of 0 or more")
    stage = StagePlan(
        name=STEP_STAGE,
        start_s=0.0,
        duration_s=warmup_s + hold_s,
        rate_start_per_s=rate_per_s,
        rate_end_per_s=rate_per_s,
    )
    return replace(
        base,
        stages=(stage,),
        warmup_s=warmup_s,
        graceful_stop_s=min(base.graceful_stop_s, STEP_GRACEFUL_STOP_S),
        max_concurrency=max_concurrency if max_concurrency is not None else base.max_concurrency,
        # the rate is the search's own, not a profile's share of the seed's: no limit scales
        scale=Scale(),
    )


def judge_step(rate_per_s: float, verdict: Verdict, run_id: str = "") -> CapacityStep:
    """The step's result from its verdict (held, delivered, limiting objective, server CPU and
    memory); a RunError when no judged objective had data. The step's own figures (rates,
    percentiles, generator CPU) are read from its run directory (see `step_figures`)."""
    judged = [check for check in verdict.checks if check.metric in JUDGED_METRICS]
    with_data = [check for check in judged if check.status in _JUDGED_STATUSES]
    if not with_data:
        names = ", ".join(check.id for check in judged) or "none in the SLA"
        raise RunError(
            f"the capacity step at {rate_per_s:g}/s judged no latency or error objective "
            f"({names}): too few requests for their sample minimums; lengthen the step"
        )
    # a step is read on its measured figures: a check too close to call breaks the step when
    # its value misses the limit (the search brackets the knee by rate, not by interval)
    failed = [
        check
        for check in with_data
        if check.status == "fail" or (check.status == "marginal" and _misses_limit(check))
    ]
    cpu_ratio = _measured(verdict, "cpu")
    if not failed and cpu_ratio is not None and cpu_ratio >= TARGET_SATURATED_RATIO:
        # the generator was short too (inconclusive checks), but the target had no CPU left:
        # the objectives its measured figures miss broke at the target, not at the generator
        failed = [
            check for check in with_data if check.status == "inconclusive" and _misses_limit(check)
        ]
    short = not failed and any(check.status == "inconclusive" for check in with_data)
    return CapacityStep(
        rate_per_s=rate_per_s,
        held=not failed,
        delivered=not short,
        limiting_objective=_limiting(failed),
        cpu_ratio=cpu_ratio,
        memory_ratio=_measured(verdict, "memory"),
        run_id=run_id,
    )


def step_figures(
    step: CapacityStep, run: JudgedRun, machine: MachineCpu | None = None
) -> CapacityStep:
    """`step` with what its run measured over the judged span: requests per second (all and
    per operation), p95 and p99 of every request, the target's and the generator's CPU, and
    the machine's busy cores when `machine` sampled them."""
    span = scope_span(run.plan, run.clock, "run")
    # rates and CPU over the step's stage: the run scope may add the second the stop crossed
    # (no arrivals in it); percentiles over the span the verdict judged (in-flight tail kept)
    stage = scope_span(run.plan, run.clock, STEP_STAGE)
    if isinstance(span, NoSpan):
        return step
    if isinstance(stage, NoSpan):
        stage = span
    start_t, end_t, duration_s = stage.start_t, stage.end_t, stage.duration_s
    by_operation = {
        operation: run.data.counts(operation, start_t, end_t).total / duration_s
        for operation in run.data.operations
    }
    histogram = run.data.histogram(ALL_OPERATIONS, span.start_t, span.end_t)
    server_cores = (
        run.server.values("cpu_cores", {}, start_t, end_t) if run.server is not None else []
    )
    generator = [
        sum(sample.cpu_percent.values()) / 100
        for sample in run.load
        if start_t <= sample.t < end_t and sample.cpu_percent
    ]
    return replace(
        step,
        achieved_rps=run.data.counts(ALL_OPERATIONS, start_t, end_t).total / duration_s,
        achieved_rps_by_operation=by_operation,
        latency_p95_ms=histogram.percentile_ms(95.0),
        latency_p99_ms=histogram.percentile_ms(99.0),
        server_cpu_cores=_mean([value for _, value in server_cores]),
        generator_cpu_cores=_mean(generator),
        machine_cpu_cores=machine.busy_cores(start_t, end_t) if machine is not None else None,
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _limiting(failed: list[Check]) -> str:
    """The failed objective furthest past its limit (relative), the one that broke first as
    the rate rose; "" when none failed."""
    if not failed:
        return ""

    def overshoot(check: Check) -> float:
        if check.measured is None or check.limit == 0:
            return 0.0
        return abs(check.measured - check.limit) / abs(check.limit)

    return max(failed, key=overshoot).id


def _misses_limit(check: Check) -> bool:
    if check.measured is None or check.limit is None:
        return False
    holds = {
        "<": check.measured < check.limit,
        "<=": check.measured <= check.limit,
        ">": check.measured > check.limit,
        ">=": check.measured >= check.limit,
    }
    return not holds.get(check.comparator, True)


def _measured(verdict: Verdict, metric: str) -> float | None:
    for check in verdict.checks:
        if check.metric == metric and check.measured is not None:
            return check.measured
    return None
