"""Capacity checks: throughput objectives judged from a measured knee, not from a run's load.

One machine cannot offer the seed's throughput table (10,000 to 100,000 rps). A capacity
search (`perfctl capacity`) measures instead the knee of one instance: the highest arrival
rate at which every latency and error objective held, in requests per second of each
operation of the search's journey mix. A throughput objective is then judged as capacity
engineers judge a capacity claim:

    per_instance = knee_rps(operation) × min(1, target_cpu / cpu_at_knee)
    capacity(n)  = per_instance × n / (1 + sigma × (n - 1))          (Amdahl's law)
    pass         ⇔ capacity(max_instances) ≥ the objective's figure

- `knee_rps(operation)`: the operation's requests per second at the knee (the highest rate
  that held), as a share of the mix: an instance is assumed to serve the same mix.
- `min(1, target_cpu / cpu_at_knee)`: the auto-scaler adds instances at the scaling row's
  target CPU, so an instance whose knee lies above it is only loaded to the target.
- `sigma`: Amdahl's serial fraction, fitted to the scaling efficiency measured between one
  and N instances (0 — linear — when the efficiency was not measured: then the message says
  it was assumed).
- `max_instances` from the scaling row the objective's component runs on (its `runs_on`;
  an operation's own objectives use the component serving that operation, else the one
  serving every request). Without a row, one instance is all that may be counted.

The knee is an interval: the figures above use the rate that held (conservative); the rate
that broke gives the optimistic figure, with linear scaling too when the measured efficiency
is only a lower bound (the machine, not the instances, stopped the scaled search). A figure
between the two is `inconclusive`, as is a figure above a knee that is only a lower bound
(the generator's limit: nothing broke).
`breaking_point` objectives are the knee itself (one instance, no extrapolation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.rundir import CapacityKnee, CapacityRecord
from harness.spec import Component, Limit, Objective, Sla
from harness.verdict._incident import actions_for
from harness.verdict._measurements import ALL_OPERATIONS
from harness.verdict._model import Check, CheckStatus

CAPACITY_METRICS = frozenset({"throughput", "breaking_point"})
"""The metrics a capacity search judges."""


@dataclass(frozen=True, slots=True)
class Extrapolation:
    """Capacity as a function of instances: per_instance × n / (1 + sigma (n - 1))."""

    per_instance_rps: float
    """One instance's usable throughput (at the knee, capped at the target CPU)."""
    sigma: float
    """Amdahl's serial fraction (0: linear)."""

    def capacity_rps(self, instances: int) -> float:
        return self.per_instance_rps * instances / (1 + self.sigma * (instances - 1))

    def instances_needed(self, figure_rps: float) -> int | None:
        """The fewest instances whose capacity reaches `figure_rps`; None when no count does
        (Amdahl's ceiling, per_instance / sigma, lies below it)."""
        if self.per_instance_rps <= 0:
            return None
        ratio = figure_rps / self.per_instance_rps
        if ratio <= 1:
            return 1
        if self.sigma * ratio >= 1:
            return None
        needed = ratio * (1 - self.sigma) / (1 - self.sigma * ratio)
        return max(1, math.ceil(round(needed, 9)))


def component_for(objective: Objective, components: Sequence[Component]) -> Component | None:
    """The component whose scaling row bounds an objective's instances: its own (by id), the
    one serving its operation, else the one serving every request."""
    for component in components:
        if objective.id.startswith(f"{component.name}."):
            return component
    for component in components:
        if component.operation == objective.operation:
            return component
    return next((c for c in components if c.operation == ALL_OPERATIONS), None)


def knee_rps(knee: CapacityKnee, operation: str) -> float | None:
    """Requests per second of `operation` at the knee; None when the knee step has none."""
    if operation == ALL_OPERATIONS:
        return knee.achieved_rps
    return knee.achieved_rps_by_operation.get(operation)


def capacity_checks(sla: Sla, record: CapacityRecord, capacity_run: str) -> tuple[Check, ...]:
    """Every throughput and breaking_point objective of `sla` judged from `record`."""
    return tuple(
        capacity_check(objective, sla, record, capacity_run)
        for objective in sla.objectives
        if objective.metric in CAPACITY_METRICS
        and objective.limit is not None
        and not objective.limit.is_upper
    )


def capacity_check(
    objective: Objective, sla: Sla, record: CapacityRecord, capacity_run: str
) -> Check:
    """One objective (a lower bound in rps) judged from the knee of `record`."""
    limit = objective.limit
    assert limit is not None
    knee = record.single.knee
    base: dict[str, Any] = {
        "id": objective.id,
        "operation": objective.operation,
        "metric": objective.metric,
        "statistic": objective.statistic,
        "comparator": limit.comparator,
        "limit": limit.value,
        "unit": limit.unit,
        "severity": objective.severity,
        "warn_limit": objective.warn.value if objective.warn is not None else None,
        "scope": objective.scope,
        "optional": objective.optional,
        "judged_by": "capacity",
    }
    inputs: dict[str, Any] = {
        "capacity_run": capacity_run,
        "knee_bound": knee.bound,
        "knee_summary": knee.summary,
        "scenario": record.scenario,
    }
    measured = knee_rps(knee, objective.operation)
    if knee.bound == "floor" or not measured:
        return Check(
            **base,
            status="not_exercised" if knee.bound != "floor" else "fail",
            basis=inputs,
            message=_no_knee_message(objective, knee, record),
            actions=actions_for(objective, sla, "fail") if knee.bound == "floor" else (),
        )
    upper_scale = _upper_scale(knee)
    if objective.metric == "breaking_point":
        inputs |= {"knee_rps": measured, "law": "none: one instance, the knee itself"}
        status = _status(measured, measured * upper_scale, limit, objective.warn, knee)
        message = (
            f"one instance held every latency and error objective up to {measured:,.1f} rps "
            f"({knee.summary}) vs {limit.text}"
        )
        return _judged(base, inputs, measured, status, message, objective, sla)
    component = component_for(objective, sla.components)
    scaling = component.scaling if component is not None else None
    target_cpu = float(scaling.target_cpu) if scaling is not None else None
    max_instances = scaling.max_instances if scaling is not None else 1
    cpu_cap = 1.0
    if target_cpu is not None and knee.cpu_ratio:
        cpu_cap = min(1.0, target_cpu / knee.cpu_ratio)
    law = Extrapolation(measured * cpu_cap, record.scaling.sigma)
    at_max = law.capacity_rps(max_instances)
    figures = _component_figures(component) if component is not None else {}
    needed = {kind: law.instances_needed(rps) for kind, rps in figures.items()}
    inputs |= {
        "knee_rps": measured,
        "cpu_at_knee": knee.cpu_ratio,
        "target_cpu": target_cpu,
        "rps_per_instance": law.per_instance_rps,
        "efficiency": record.scaling.efficiency,
        "efficiency_measured": record.scaling.measured,
        "law": f"amdahl: C(n) = n / (1 + {law.sigma:.4g} (n - 1))",
        "sigma": law.sigma,
        "component": component.name if component is not None else None,
        "runs_on": (scaling.title or component.name) if scaling and component else None,
        "min_instances": scaling.min_instances if scaling is not None else None,
        "max_instances": max_instances,
        "capacity_at_max_rps": at_max,
        "instances_needed": law.instances_needed(limit.value),
        "instances_for": needed,
        "margin": at_max / limit.value - 1 if limit.value else None,
    }
    # optimistic: the knee's upper end, and linear scaling when the measured efficiency is
    # only a lower bound (the machine, not the instances, stopped the scaled search)
    optimistic_sigma = 0.0 if record.scaling.efficiency_is_lower_bound else law.sigma
    optimistic = Extrapolation(law.per_instance_rps * upper_scale, optimistic_sigma)
    high = optimistic.capacity_rps(max_instances)
    inputs["capacity_at_max_rps_optimistic"] = high
    status = _status(at_max, high, limit, objective.warn, knee)
    message = _message(objective, limit, inputs, record, status)
    return _judged(base, inputs, at_max, status, message, objective, sla)


def _judged(
    base: dict[str, Any],
    inputs: dict[str, Any],
    measured: float,
    status: CheckStatus,
    message: str,
    objective: Objective,
    sla: Sla,
) -> Check:
    return Check(
        **base,
        status=status,
        measured=measured,
        basis=inputs,
        message=message,
        actions=actions_for(objective, sla, status),
    )


def _upper_scale(knee: CapacityKnee) -> float:
    """How much higher the knee may lie than the rate that held (broke / held); 1 without a
    broken step above it."""
    if knee.held_rate_per_s and knee.broke_rate_per_s and knee.bound in ("found", "steps"):
        return knee.broke_rate_per_s / knee.held_rate_per_s
    return 1.0


def _status(
    low_rps: float, high_rps: float, limit: Limit, warn: Limit | None, knee: CapacityKnee
) -> CheckStatus:
    """pass when even the conservative figure meets the limit; fail when even the optimistic
    one misses it (warn when it still meets the warn bound); inconclusive in between, or
    when the knee is only a lower bound and the figure falls short."""
    if limit.holds(low_rps):
        return "pass"
    if knee.is_lower_bound or limit.holds(high_rps):
        return "inconclusive"
    if warn is not None and warn.holds(high_rps):
        return "warn"
    return "fail"


def _component_figures(component: Component) -> dict[str, float]:
    figures = {
        "target": component.target_rps,
        "peak": component.peak_rps,
        "burst": component.burst_rps,
    }
    return {kind: rps for kind, rps in figures.items() if rps is not None}


def _message(
    objective: Objective,
    limit: Limit,
    inputs: dict[str, Any],
    record: CapacityRecord,
    status: CheckStatus,
) -> str:
    per = inputs["rps_per_instance"]
    at_max = inputs["capacity_at_max_rps"]
    max_instances = inputs["max_instances"]
    where = (
        f"{max_instances} instances ({inputs['runs_on']}'s max)"
        if inputs["runs_on"]
        else "1 instance (no scaling row)"
    )
    needed = inputs["instances_needed"]
    need = f"needs {needed}" if needed is not None else "no instance count reaches it"
    scaling = record.scaling
    at_least = "at least " if scaling.efficiency_is_lower_bound else ""
    efficiency = (
        f"scaling efficiency {at_least}{scaling.efficiency:.0%} measured at "
        f"{scaling.instances} instances"
        if scaling.measured
        else "linear scaling assumed (not measured: `perfctl capacity --instances 2`)"
    )
    cpu = ""
    if inputs["target_cpu"] is not None and inputs["cpu_at_knee"]:
        cpu = f" at {inputs['target_cpu']:.0%} target CPU (knee at {inputs['cpu_at_knee']:.0%})"
    head = (
        f"{at_max:,.0f} rps at {where} vs {limit.text} ({need}): {per:,.1f} rps per "
        f"instance{cpu}, {efficiency}"
    )
    if status == "inconclusive":
        knee = record.single.knee
        if knee.is_lower_bound:
            return f"{head}; the knee is a lower bound ({knee.summary}): at least this much"
        if scaling.efficiency_is_lower_bound:
            return (
                f"{head}; the efficiency is a lower bound (the machine stopped the scaled "
                f"search): with linear scaling it would be "
                f"{inputs['capacity_at_max_rps_optimistic']:,.0f} rps"
            )
        return f"{head}; the figure lies within the knee's uncertainty ({knee.summary})"
    return head


def _no_knee_message(objective: Objective, knee: CapacityKnee, record: CapacityRecord) -> str:
    if knee.bound == "floor":
        return f"no rate held in the capacity search: {knee.summary}"
    if objective.operation != ALL_OPERATIONS:
        return (
            f"the capacity scenario {record.scenario!r} never sent {objective.operation!r} at "
            "the knee: its capacity was not measured"
        )
    return f"the capacity search measured no throughput at the knee ({knee.summary})"
