"""What `perfctl scenarios list|show|lint|schema` do; the CLI only parses and calls."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.errors import PerfctlError, SpecError
from harness.plan import RunPlan
from harness.spec._crosscheck import effective_objectives
from harness.spec._estimate import estimated_rps
from harness.spec._planning import plan_run
from harness.spec._scenario import Scenario, list_scenario_names, load_scenario
from harness.spec._schema import scenario_schema
from harness.spec._sla import load_sla
from harness.spec._units import format_duration


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


def scenario_schema_json() -> str:
    return json.dumps(scenario_schema(), indent=2)


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
    _show_steps(plan, console)
    _show_objectives(scenario, sla_path, plan, console)


def _show_steps(plan: RunPlan, console: Console) -> None:
    flows = [journey for journey in plan.journeys if journey.steps]
    if not flows:
        return
    steps = Table(title="Flow steps")
    for header in ("journey", "operation", "request", "check", "then pause"):
        steps.add_column(header, overflow="fold")
    for journey in flows:
        for step in journey.steps:
            query = "&".join(f"{key}={value}" for key, value in step.query.items())
            check = "status " + "/".join(str(code) for code in step.check.status)
            if step.check.max_latency_ms is not None:
                check += f", < {step.check.max_latency_ms:g} ms"
            if step.check.body_contains is not None:
                check += f", body has {step.check.body_contains!r}"
            if step.check.json_path is not None:
                check += f", json {step.check.json_path}"
            if step.check.json_schema is not None:
                check += ", JSON Schema"
            if step.extract:
                check += ", extracts " + ", ".join(plan.variable for plan in step.extract)
            if step.check.assertions:
                check += ", " + ", ".join(repr(plan.name) for plan in step.check.assertions)
            pause = f"{step.think_time_min_s:g}-{step.think_time_max_s:g}s"
            if step.think_time_min_s == step.think_time_max_s:
                pause = f"{step.think_time_min_s:g}s"
            steps.add_row(
                journey.name,
                step.operation,
                f"{step.method} {step.path}" + (f"?{query}" if query else ""),
                check,
                pause,
            )
    console.print(steps)


def _load_header(plan: RunPlan) -> str:
    return "users" if plan.model == "closed" else "arrivals/s"


def _stage_load(plan: RunPlan, stage_name: str) -> str:
    stage = next(s for s in plan.stages if s.name == stage_name)
    if plan.locustfile_shape:
        return f"LoadTestShape of {Path(plan.locustfile or '').name}"
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
