"""Cross-checks between an SLA and a scenario, made before any load is sent."""

from __future__ import annotations

from harness.errors import SpecError
from harness.plan import RunPlan
from harness.spec.journeys import BUILTIN_JOURNEYS
from harness.spec.objective import OPERATION_ALL, Objective
from harness.spec.scenario import Scenario
from harness.spec.sla import Sla


def scenario_operations(scenario: Scenario) -> tuple[str, ...] | None:
    """Operations the scenario's journeys report, in first-seen order; None when a locustfile
    journey does not declare its operations (then the set cannot be known in advance)."""
    seen: dict[str, None] = {}
    for name, journey in scenario.spec.journeys.items():
        if journey.steps is not None:
            for step in journey.steps:
                seen.setdefault(step.operation, None)
            if len(journey.steps) > 1:
                seen.setdefault(f"journey.{name}", None)
        elif journey.locustfile is not None:
            if journey.operations is None:
                return None
            for operation in journey.operations:
                seen.setdefault(operation, None)
        else:
            for operation in BUILTIN_JOURNEYS[journey.builtin or name].operations_as(name):
                seen.setdefault(operation, None)
    return tuple(seen)


def effective_objectives(sla: Sla | None, scenario: Scenario) -> tuple[Objective, ...]:
    """The objectives a run of `scenario` is judged on: the SLA's that apply to it (unless the
    scenario sets `sla: false`), then the scenario's own thresholds."""
    from_sla = () if sla is None or not scenario.spec.sla else sla.objectives
    return tuple(
        objective
        for objective in (*from_sla, *scenario.objectives)
        if objective.applies_to(scenario.name)
    )


def objectives_for_plan(sla: Sla | None, plan: RunPlan) -> tuple[Objective, ...]:
    """The objectives a run of `plan` is judged on: the SLA's that apply to its scenario (unless
    the scenario set `sla: false`), then the scenario's own, which the plan carries."""
    from_sla = () if sla is None or not plan.uses_sla else sla.objectives
    own = tuple(Objective.from_dict(data) for data in plan.scenario_objectives)
    return tuple(
        objective for objective in (*from_sla, *own) if objective.applies_to(plan.scenario)
    )


def check_against(sla: Sla | None, scenario: Scenario) -> tuple[Objective, ...]:
    """The effective objectives, or a SpecError naming every objective whose operation the
    scenario cannot produce (optional objectives and server-side metrics excepted)."""
    objectives = effective_objectives(sla, scenario)
    known = scenario_operations(scenario)
    if known is not None:
        _raise_unproducible(objectives, known, scenario.name)
    return objectives


def check_plan(sla: Sla | None, plan: RunPlan) -> tuple[Objective, ...]:
    """The objectives a run of `plan` is judged on, or a SpecError before any load is sent
    when one names an operation the plan's journeys never produce (a locustfile's operations
    are known only once it runs, so its plans are not checked)."""
    objectives = objectives_for_plan(sla, plan)
    if not any(journey.kind == "locustfile" for journey in plan.journeys):
        _raise_unproducible(objectives, plan.operations, plan.scenario)
    return objectives


def _raise_unproducible(
    objectives: tuple[Objective, ...], known: tuple[str, ...], scenario: str
) -> None:
    problems = [
        f"{objective.source}: {objective.id}: operation {objective.operation!r} is not produced "
        f"by scenario {scenario!r} (mark the objective `optional: true` or add a journey "
        f"that reports it); known operations: {', '.join(known)}"
        for objective in objectives
        if not objective.optional
        and not objective.server_side
        and objective.operation != OPERATION_ALL
        and objective.operation not in known
    ]
    if problems:
        raise SpecError("\n".join(problems))


def unmatched_scopes(objectives: tuple[Objective, ...], scenarios: list[Scenario]) -> list[str]:
    """Warnings for objectives scoped on a stage none of `scenarios` has: a typo such as
    `scope: paek`, or a stage the scenarios at hand never run; either way never exercised."""
    stages = {stage.name for scenario in scenarios for stage in scenario.spec.stages if stage.name}
    return [
        f"{objective.source}: {objective.id}: scope {objective.scope!r} is no stage of "
        f"{', '.join(scenario.name for scenario in scenarios)}; it will be not_exercised "
        f"(stages: {', '.join(sorted(stages)) or 'none named'})"
        for objective in objectives
        if objective.scope != "run" and objective.scope not in stages
    ]
