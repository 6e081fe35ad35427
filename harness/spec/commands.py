"""What the `perfctl sla` and `perfctl scenarios` commands do; the CLI only parses and calls."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from harness.errors import PerfctlError, SpecError
from harness.plan import RunPlan, plan_run
from harness.spec.check import check_against, effective_objectives, unmatched_scopes
from harness.spec.estimate import estimated_rps
from harness.spec.objective import OPERATION_ALL, Objective
from harness.spec.scenario import Scenario, list_scenario_names, load_scenario
from harness.spec.schema import scenario_schema, sla_schema
from harness.spec.sla import Sla, load_sla
from harness.spec.units import Limit, format_duration


def lint_sla(path: Path | None, scenario_names: list[str]) -> str:
    """Check an SLA and, against it, the named scenarios (all of scenarios/ when none)."""
    sla = load_sla(path)
    names = scenario_names or list(list_scenario_names())
    errors: list[str] = []
    checked: list[Scenario] = []
    for name in names:
        try:
            scenario = load_scenario(name)
            check_against(sla, scenario)
            checked.append(scenario)
        except SpecError as error:
            errors.append(error.message)
    if errors:
        raise SpecError("\n".join(errors))
    # Stage scopes are checked against the whole set: `peak` need not exist in `smoke`.
    warnings = unmatched_scopes(sla.objectives, checked) if checked and not scenario_names else []
    metrics = Counter(objective.metric for objective in sla.objectives)
    counts = ", ".join(f"{count} {metric}" for metric, count in sorted(metrics.items()))
    against = f"; operations produced by {', '.join(names)}" if checked else ""
    summary = f"{sla.source}: ok, {len(sla.objectives)} objectives ({counts}){against}"
    return "\n".join([*(f"warning: {line}" for line in warnings), summary])


def lint_scenarios(names: list[str]) -> str:
    """Check scenario files (all of scenarios/ when none are named); every problem at once."""
    errors: list[str] = []
    lines: list[str] = []
    for name in names or list(list_scenario_names()):
        try:
            scenario = load_scenario(name)
            for profile in scenario.profile_names:
                plan_run(scenario, profile)
            lines.append(f"{name}: ok ({', '.join(scenario.profile_names)})")
        except PerfctlError as error:
            errors.append(error.message)
    if errors:
        raise SpecError("\n".join(errors))
    return "\n".join(lines)


def sla_schema_json() -> str:
    return json.dumps(sla_schema(), indent=2)


def scenario_schema_json() -> str:
    return json.dumps(scenario_schema(), indent=2)


def _limit_text(limit: Limit | None) -> str:
    return limit.text if limit is not None else ""


def _window_text(objective: Objective) -> str:
    window = format_duration(objective.window_s) if objective.window_s else "run"
    if objective.window_s and objective.windows_required < 1:
        window += f" ({objective.windows_required:.0%} pass)"
    return window


def show_sla(path: Path | None, console: Console) -> None:
    """Print the SLA's objectives grouped by operation, then its tiers and incident response."""
    sla = load_sla(path)
    console.print(
        f"[bold]{sla.name}[/bold]  ({sla.source}, {len(sla.objectives)} objectives)",
        soft_wrap=True,
    )
    table = Table(
        title="Objectives (warn: worse than the limit up to this is a warning)",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("operation / objective", no_wrap=True)
    for header in ("warn", "window", "severity"):
        table.add_column(header, no_wrap=True)
    table.add_column("notes", min_width=12)
    groups: dict[str, list[Objective]] = {}
    for objective in sla.objectives:
        groups.setdefault(_group_of(objective, sla), []).append(objective)
    for group, objectives in groups.items():
        table.add_row(f"[bold]{group}[/bold]")
        for objective in objectives:
            table.add_row(
                f"  {_objective_text(objective)}",
                _limit_text(objective.warn),
                _window_text(objective),
                objective.severity,
                _notes(objective),
            )
    console.print(table)
    _show_tiers(sla, console)


def _group_of(objective: Objective, sla: Sla) -> str:
    """The first column: the operation, the component, or the KPIs."""
    if objective.id.startswith("kpi."):
        return "KPIs (all)" if objective.operation == OPERATION_ALL else objective.operation
    component = next((c for c in sla.components if objective.id.startswith(f"{c.name}.")), None)
    if component is not None:
        return component.name
    return "all" if objective.operation == OPERATION_ALL else objective.operation


def _objective_text(objective: Objective) -> str:
    metric = objective.metric.replace("_", " ")
    if objective.statistic not in ("ratio", "rate", "slope"):
        metric = f"{objective.statistic} {metric}"
    if objective.limit is None:
        return metric
    return f"{metric} {objective.limit.text}"


def _notes(objective: Objective) -> str:
    notes = []
    if objective.scope != "run":
        notes.append(f"during {objective.scope}")
    if objective.scenarios:
        notes.append(f"only in {', '.join(objective.scenarios)}")
    if objective.optional:
        notes.append("optional")
    if objective.abort_after_s is not None:
        notes.append(f"abort after {format_duration(objective.abort_after_s)}")
    if objective.baseline is not None:
        notes.append(f"baseline {objective.baseline.text}")
    return "; ".join(notes)


def _show_tiers(sla: Sla, console: Console) -> None:
    spec = sla.spec
    if spec.tiers:
        tiers = Table(title="Availability tiers")
        for header in ("tier", "availability", "RTO", "RPO", "severity", "services"):
            tiers.add_column(header)
        for name, tier in spec.tiers.items():
            services = [op for op, service in spec.services.items() if service.tier == name]
            tiers.add_row(
                tier.title or name,
                f"{tier.availability * 100:g} %",
                format_duration(tier.rto),
                format_duration(tier.rpo),
                tier.severity,
                ", ".join(services),
            )
        console.print(tiers)
    if spec.incident_response:
        response = Table(title="Incident response")
        for header in ("severity", "response", "recommended actions"):
            response.add_column(header)
        for severity, entry in spec.incident_response.items():
            response.add_row(severity, entry.response, "; ".join(entry.actions))
        console.print(response)


def list_scenarios(console: Console) -> None:
    """Print each scenario with its model, peak load, full duration and profiles."""
    table = Table()
    for header in ("scenario", "model", "peak load", "duration", "profiles", "description"):
        table.add_column(header, overflow="fold")
    for name in list_scenario_names():
        scenario = load_scenario(name)
        plan = plan_run(scenario)
        table.add_row(
            name,
            plan.model,
            _peak_load(plan),
            format_duration(plan.duration_s),
            ", ".join(scenario.profile_names),
            scenario.spec.title or scenario.spec.description,
        )
    console.print(table)


def _peak_load(plan: RunPlan) -> str:
    if plan.model == "closed":
        return f"{max((s.users_end or 0 for s in plan.stages), default=0):,} users"
    return f"{max((s.rate_end_per_s or 0.0 for s in plan.stages), default=0.0):,.6g}/s"


def show_scenario(name: str, profile: str, sla_path: Path | None, console: Console) -> None:
    """Print the resolved plan: scale, stages on the absolute timeline, journeys, objectives."""
    scenario = load_scenario(name)
    plan = plan_run(scenario, profile)
    scale = plan.scale
    console.print(
        f"[bold]{plan.scenario}[/bold] / profile [bold]{plan.profile}[/bold]: {plan.model} model, "
        f"{format_duration(plan.duration_s)}, warm-up {format_duration(plan.warmup_s)}; "
        f"scale users x{scale.users:.4g}, rate x{scale.rate:.4g}, time x{scale.time:.4g}"
        + (f"; catalog {plan.catalog_size:,} products" if plan.catalog_size else ""),
        soft_wrap=True,
    )
    stages = Table(title="Stages")
    for header in ("stage", "start", "end", "duration", _load_header(plan), "est. rps at end"):
        stages.add_column(header)
    for stage in plan.stages:
        stages.add_row(
            stage.name,
            format_duration(stage.start_s),
            format_duration(stage.end_s),
            format_duration(stage.duration_s),
            _stage_load(plan, stage.name),
            f"{estimated_rps(plan, stage):,.1f}",
        )
    console.print(stages)
    journeys = Table(title="Journeys")
    for header in ("journey", "kind", "weight", "think time", "operations"):
        journeys.add_column(header, overflow="fold")
    total = sum(journey.weight for journey in plan.journeys)
    for journey in plan.journeys:
        operations = journey.operations or ("(request names of the locustfile)",)
        journeys.add_row(
            journey.name,
            journey.kind if journey.kind != "builtin" else f"builtin {journey.builtin}",
            f"{journey.weight:g} ({journey.weight / total:.0%})",
            f"{journey.think_time_min_s:g}-{journey.think_time_max_s:g}s",
            ", ".join(operations),
        )
    console.print(journeys)
    _show_objectives(scenario, sla_path, plan, console)


def _load_header(plan: RunPlan) -> str:
    return "users" if plan.model == "closed" else "arrivals/s"


def _stage_load(plan: RunPlan, stage_name: str) -> str:
    stage = next(s for s in plan.stages if s.name == stage_name)
    if plan.model == "closed":
        return f"{stage.users_start or 0:,} -> {stage.users_end or 0:,}"
    return f"{stage.rate_start_per_s or 0.0:,.4g} -> {stage.rate_end_per_s or 0.0:,.4g}"


def _show_objectives(
    scenario: Scenario, sla_path: Path | None, plan: RunPlan, console: Console
) -> None:
    sla = load_sla(sla_path) if scenario.spec.sla else None
    objectives = effective_objectives(sla, scenario)
    load_scale = plan.scale.load(plan.model)
    rows = [o for o in objectives if o.scales_with_load and o.limit is not None]
    console.print(
        f"{len(objectives)} objectives apply"
        + (f" ({sla.source} and the scenario's own)" if sla else " (the scenario's own)")
    )
    if rows and load_scale != 1.0:
        table = Table(title=f"Throughput limits at load scale x{load_scale:.4g}")
        for header in ("objective", "seed limit", "scaled limit", "scope"):
            table.add_column(header)
        for objective in rows:
            assert objective.limit is not None
            scaled = objective.limit.scaled(load_scale)
            table.add_row(
                objective.id,
                objective.limit.text,
                f"{scaled.comparator} {scaled.value:,.6g} rps",
                objective.scope,
            )
        console.print(table)
