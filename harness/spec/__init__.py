"""The SLA and scenario files: models, loaders, cross-checks and JSON Schema.

Public names (pinned by tests/harness/test_spec_api.py):

    load_sla(path=None) -> Sla                    sla.yaml validated, tables expanded into objectives
    load_scenario(name_or_path) -> Scenario       scenarios/NAME.yaml or a path, profiles merged
    plan_scenario(name_or_path, profile=None, target="", tags=None) -> RunPlan
    resolve_scenario_path(name) -> Path           where a scenario name lives
    list_scenario_names() -> tuple[str, ...]      the scenarios in scenarios/
    check_against(sla, scenario) -> objectives    SpecError if an objective's operation is not produced
    effective_objectives(sla, scenario)           the objectives a run of the scenario is judged on
    objectives_for_plan(sla, plan)                the same from a RunPlan (its scenario's own objectives travel in it)
    scenario_operations(scenario)                 operations its journeys report (None: unknowable)
    sla_schema() / scenario_schema() -> dict      JSON Schema of both formats
"""

from harness.spec.check import (
    check_against,
    effective_objectives,
    objectives_for_plan,
    scenario_operations,
)
from harness.spec.journeys import BUILTIN_JOURNEYS, BuiltinJourney
from harness.spec.objective import OPERATION_ALL, Objective
from harness.spec.planning import plan_scenario
from harness.spec.scenario import (
    FULL_PROFILE,
    Scenario,
    list_scenario_names,
    load_scenario,
    resolve_scenario_path,
)
from harness.spec.schema import scenario_schema, sla_schema
from harness.spec.sla import Component, Sla, default_sla_path, load_sla
from harness.spec.units import Limit, RelativeLimit

__all__ = [
    "BUILTIN_JOURNEYS",
    "FULL_PROFILE",
    "OPERATION_ALL",
    "BuiltinJourney",
    "Component",
    "Limit",
    "Objective",
    "RelativeLimit",
    "Scenario",
    "Sla",
    "check_against",
    "default_sla_path",
    "effective_objectives",
    "list_scenario_names",
    "load_scenario",
    "load_sla",
    "objectives_for_plan",
    "plan_scenario",
    "resolve_scenario_path",
    "scenario_operations",
    "scenario_schema",
    "sla_schema",
]
