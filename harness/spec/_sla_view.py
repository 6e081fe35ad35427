"""What `perfctl sla lint|show|schema` do; the CLI only parses and calls."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from harness.errors import SpecError
from harness.spec._crosscheck import (
    check_against,
    project_stages,
    stage_names,
    unknown_scopes,
    unmatched_scopes,
)
from harness.spec._objective import OPERATION_ALL, Objective
from harness.spec._scenario import Scenario, list_scenario_names, load_scenario
from harness.spec._schema import sla_schema
from harness.spec._sla import Sla, load_sla
from harness.spec._units import Limit, format_duration


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
    # Stage scopes are checked against every scenario known: `peak` need not exist in `smoke`.
    judged = {scenario.name: stage_names(scenario) for scenario in checked if scenario.spec.sla}
    if judged:
        errors += unknown_scopes(sla.objectives, {**project_stages(), **judged})
    for scenario in checked:
        errors += unknown_scopes(scenario.objectives, {scenario.name: stage_names(scenario)})
    if errors:
        raise SpecError("\n".join(errors))
    warnings = unmatched_scopes(sla.objectives, checked) if checked and not scenario_names else []
    metrics = Counter(objective.metric for objective in sla.objectives)
    counts = ", ".join(f"{count} {metric}" for metric, count in sorted(metrics.items()))
    against = f"; operations produced by {', '.join(names)}" if checked else ""
    summary = f"{sla.source}: ok, {len(sla.objectives)} objectives ({counts}){against}"
    return "\n".join([*(f"warning: {line}" for line in warnings), summary])


def sla_schema_json() -> str:
    return json.dumps(sla_schema(), indent=2)


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
