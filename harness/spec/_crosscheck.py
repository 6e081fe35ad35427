"""Cross-checks between an SLA and a scenario, made before any load is sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from difflib import get_close_matches

from harness.errors import PerfctlError, SpecError
from harness.plan import BUILTIN_JOURNEYS, RunPlan
from harness.spec._locustfile import SHAPE_STAGE
from harness.spec._objective import OPERATION_ALL, Objective
from harness.spec._scenario import Scenario, list_scenario_names, load_scenario
from harness.spec._sla import Sla

RUN_SCOPE = "run"
"""The scope of an objective judged over the whole run (after warm-up)."""


def scenario_operations(scenario: Scenario) -> tuple[str, ...] | None:
    """Operations the scenario's journeys report, in first-seen order; None when a locustfile
    journey does not declare its operations (then the set cannot be known in advance)."""
    seen: dict[str, None] = {}
    for name, journey in scenario.spec.journeys.items():
        if journey.steps is not None:
            for step in (*journey.on_start, *journey.steps, *journey.on_stop):
                seen.setdefault(step.operation, None)
            # under the open model each arrival runs on_start and on_stop too (a visit)
            visit = len(journey.on_start) + len(journey.on_stop)
            if len(journey.steps) + (visit if scenario.spec.model == "open" else 0) > 1:
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
    problems = _unproducible(objectives, known, scenario.name) if known is not None else []
    if problems:
        raise SpecError("\n".join(problems))
    return objectives


def check_plan(sla: Sla | None, plan: RunPlan) -> tuple[Objective, ...]:
    """The objectives a run of `plan` is judged on, or a SpecError (before any load is sent,
    and again when a run is judged) naming every objective that can never be judged: one
    whose operation the plan's journeys never produce (a locustfile's operations are known
    only once it runs, so its plans are not checked for that), or one scoped on a stage that
    no scenario it applies to has (this plan's stages, and those of scenarios/)."""
    objectives = objectives_for_plan(sla, plan)
    problems: list[str] = []
    if not any(journey.kind == "locustfile" for journey in plan.journeys):
        problems += _unproducible(objectives, plan.operations, plan.scenario)
    own = [Objective.from_dict(data) for data in plan.scenario_objectives]
    this_run = {plan.scenario: frozenset(stage.name for stage in plan.stages)}
    from_sla = [objective for objective in objectives if objective not in own]
    problems += unknown_scopes(from_sla, {**project_stages(), **this_run})
    # a scenario's own thresholds apply to it alone
    problems += unknown_scopes([o for o in objectives if o in own], this_run)
    if problems:
        raise SpecError("\n".join(problems))
    return objectives


def _unproducible(
    objectives: Iterable[Objective], known: tuple[str, ...], scenario: str
) -> list[str]:
    return [
        f"{objective.source}: {objective.id}: operation {objective.operation!r} is not produced "
        f"by scenario {scenario!r} (mark the objective `optional: true` or add a journey "
        f"that reports it){_closest(objective.operation, known)}; known operations: "
        f"{', '.join(known)}"
        for objective in objectives
        if not objective.optional
        and not objective.server_side
        and objective.operation != OPERATION_ALL
        and objective.operation not in known
    ]


def _closest(name: str, known: Iterable[str]) -> str:
    match = get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; closest: {match[0]!r}" if match else ""


def stage_names(scenario: Scenario) -> frozenset[str]:
    """The scenario's stage names as its plan names them (an unnamed stage is `stage-N`; a
    scenario run by its locustfile's LoadTestShape has the one stage `run`)."""
    if scenario.spec.stages is None:
        return frozenset({SHAPE_STAGE})
    return frozenset(
        stage.name or f"stage-{index}" for index, stage in enumerate(scenario.spec.stages, 1)
    )


def project_stages() -> dict[str, frozenset[str]]:
    """Stage names of every scenario in scenarios/ that the SLA judges (not `sla: false`)
    and that loads (one that does not is the business of `perfctl sla lint`, not of the run
    of another scenario)."""
    stages: dict[str, frozenset[str]] = {}
    for name in list_scenario_names():
        try:
            scenario = load_scenario(name)
        except PerfctlError:
            continue
        if scenario.spec.sla:
            stages[scenario.name] = stage_names(scenario)
    return stages


def unknown_scopes(
    objectives: Iterable[Objective], stages_of: Mapping[str, frozenset[str]]
) -> list[str]:
    """Errors for objectives whose written `scope` is no stage of any scenario (of
    `stages_of`: scenario -> stage names) that they apply to: a typo such as `scope: paek`
    would otherwise make the objective silently not_exercised in every run. A stage that
    only some of those scenarios have is fine: the others run without judging it."""
    problems = []
    for objective in objectives:
        if objective.scope == RUN_SCOPE or not objective.scope_written:
            continue
        applicable = {
            name: stages for name, stages in stages_of.items() if objective.applies_to(name)
        }
        stages = frozenset().union(*applicable.values())
        if not applicable or objective.scope in stages:
            continue
        problems.append(
            f"{objective.source}: {objective.id}: scope {objective.scope!r} is no stage of any "
            f"scenario the objective applies to ({', '.join(sorted(applicable))})"
            f"{_closest(objective.scope, stages)}; stages: {', '.join(sorted(stages))}"
        )
    return problems


def unmatched_scopes(objectives: tuple[Objective, ...], scenarios: list[Scenario]) -> list[str]:
    """Warnings for objectives whose scope a table implies (a component's peak or burst
    figure) on a stage none of `scenarios` has: never exercised in these scenarios, by
    design rather than by a typo (a written scope no scenario has is `unknown_scopes`)."""
    stages = frozenset().union(*(stage_names(scenario) for scenario in scenarios))
    return [
        f"{objective.source}: {objective.id}: scope {objective.scope!r} is no stage of "
        f"{', '.join(scenario.name for scenario in scenarios)}; it will be not_exercised "
        f"(stages: {', '.join(sorted(stages)) or 'none named'})"
        for objective in objectives
        if objective.scope != RUN_SCOPE
        and not objective.scope_written
        and objective.scope not in stages
        and any(objective.applies_to(scenario.name) for scenario in scenarios)
    ]
