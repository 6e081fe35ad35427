"""The SLA and scenario files: models, loaders, cross-checks and JSON Schema.

Public names (pinned by tests/harness/spec/test_face.py):

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

from harness.spec._crosscheck import (
    check_against,
    check_plan,
    effective_objectives,
    objectives_for_plan,
    scenario_operations,
)
from harness.spec._estimate import estimated_rps
from harness.spec._journeys import (
    BUILTIN_JOURNEYS,
    BuiltinJourney,
)
from harness.spec._limits import (
    MAX_DURATION_S,
    MAX_SPAWN_RATE_PER_S,
    MAX_USERS,
    plan_limit_problems,
)
from harness.spec._objective import (
    OPERATION_ALL,
    Objective,
)
from harness.spec._planning import (
    build_plan,
    plan_scenario,
)
from harness.spec._scenario import (
    FULL_PROFILE,
    Scenario,
    list_scenario_names,
    load_scenario,
    resolve_scenario_path,
)
from harness.spec._scenario_view import (
    lint_scenarios,
    list_scenarios,
    scenario_schema_json,
    show_scenario,
)
from harness.spec._schema import (
    scenario_schema,
    sla_schema,
)
from harness.spec._sla import (
    Component,
    Sla,
    default_sla_path,
    load_sla,
)
from harness.spec._sla_view import (
    lint_sla,
    show_sla,
    sla_schema_json,
)
from harness.spec._units import (
    Limit,
    RelativeLimit,
    parse_duration_s,
)

__all__ = [
    "BUILTIN_JOURNEYS",
    "FULL_PROFILE",
    "MAX_DURATION_S",
    "MAX_SPAWN_RATE_PER_S",
    "MAX_USERS",
    "OPERATION_ALL",
    "BuiltinJourney",
    "Component",
    "Limit",
    "Objective",
    "RelativeLimit",
    "Scenario",
    "Sla",
    "build_plan",
    "check_against",
    "check_plan",
    "default_sla_path",
    "effective_objectives",
    "estimated_rps",
    "lint_scenarios",
    "lint_sla",
    "list_scenario_names",
    "list_scenarios",
    "load_scenario",
    "load_sla",
    "objectives_for_plan",
    "parse_duration_s",
    "plan_limit_problems",
    "plan_scenario",
    "resolve_scenario_path",
    "scenario_operations",
    "scenario_schema",
    "scenario_schema_json",
    "show_scenario",
    "show_sla",
    "sla_schema",
    "sla_schema_json",
]
