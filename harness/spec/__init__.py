"""The SLA and scenario files: models, loaders, cross-checks, planning and JSON Schema.

Public names (pinned by tests/harness/spec/test_face.py):

Planning (the one way to turn what a run names into the `harness.plan.RunPlan` it executes):

    plan_run(source, profile=None, target="", tags=None, locust=None) -> RunPlan
                                  a Scenario, scenario name or file under a profile; a
                                  locustfile (*.py) with -u/-r/-t; or a saved plan.json
    LocustOptions                 -u/-r/-t of a plain locustfile run (None: not given)
    parse_duration_s(value, locust=False) -> float
    parse_rate_per_s(value) -> float   arrivals per second from `100/s`, `6000/min`, `50 rps`
                                  seconds from `30s`, `5m`, `1h30m`, `250ms` (or Locust's -t)

Scenarios:

    Scenario                      a loaded scenario file: its spec, profiles and objectives
    FULL_PROFILE                  "full": the seed's numbers unchanged
    load_scenario(name_or_path) -> Scenario       scenarios/NAME.yaml or a path, profiles merged
    resolve_scenario_path(name) -> Path           where a scenario name lives
    list_scenario_names() -> tuple[str, ...]      the scenarios in scenarios/
    scenario_operations(scenario)                 operations its journeys report (None: unknowable)
    estimated_rps(plan, stage, operation="*")     the request rate a plan offers at a stage's end

SLA and objectives:

    Sla                           a loaded SLA file: its objectives and components
    Component                     a component's throughput figures and its scaling row (capacity)
    Objective                     one resolved objective: operation, metric, limit, scope
    OPERATION_ALL                 the operation name of objectives over every request
    CONFIDENCE                    the confidence (0.95) of the verdict's intervals
    percentile_sample_minimum(percentile) -> int  the fewest samples whose interval for the
                                                  percentile has both ends inside the sample
    Limit, RelativeLimit          a limit (`< 500 ms`) and a change against a baseline (`+10 %`)
    load_sla(path=None) -> Sla                    sla.yaml validated, tables expanded into objectives
    default_sla_path() -> Path                    the sla.yaml a run uses when none is given
    check_against(sla, scenario) -> objectives    SpecError if an objective's operation is not produced
    check_plan(sla, plan) -> objectives           the same for a plan, before any load is sent
    effective_objectives(sla, scenario)           the objectives a run of the scenario is judged on
    objectives_for_plan(sla, plan)                the same from a RunPlan (its scenario's own
                                                  objectives travel in it)

The `perfctl sla|scenarios` commands (the CLI only parses and calls):

    lint_sla, show_sla, sla_schema_json           `perfctl sla lint|show|schema`
    lint_scenarios, list_scenarios, show_scenario, scenario_schema_json
                                                  `perfctl scenarios lint|list|show|schema`
    sla_schema() / scenario_schema() -> dict      JSON Schema of both formats

A team's starter files (`perfctl init`):

    init_project(directory, force=False, action=None) -> paths written
                                  sla.yaml, scenarios/ and .github/workflows/perf.yml from
                                  the examples perfctl ships (checkout, else the wheel's copy)
    DEFAULT_ACTION                the action the example workflow uses (--action replaces it)
"""

from harness.spec._crosscheck import (
    check_against,
    check_plan,
    effective_objectives,
    objectives_for_plan,
    scenario_operations,
)
from harness.spec._estimate import estimated_rps
from harness.spec._objective import (
    CONFIDENCE,
    OPERATION_ALL,
    Objective,
    percentile_sample_minimum,
)
from harness.spec._planning import (
    LocustOptions,
    plan_run,
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
from harness.spec._starter import (
    DEFAULT_ACTION,
    init_project,
)
from harness.spec._units import (
    Limit,
    RelativeLimit,
    parse_duration_s,
    parse_rate_per_s,
)

__all__ = [
    "CONFIDENCE",
    "DEFAULT_ACTION",
    "FULL_PROFILE",
    "OPERATION_ALL",
    "Component",
    "Limit",
    "LocustOptions",
    "Objective",
    "RelativeLimit",
    "Scenario",
    "Sla",
    "check_against",
    "check_plan",
    "default_sla_path",
    "effective_objectives",
    "estimated_rps",
    "init_project",
    "lint_scenarios",
    "lint_sla",
    "list_scenario_names",
    "list_scenarios",
    "load_scenario",
    "load_sla",
    "objectives_for_plan",
    "parse_duration_s",
    "parse_rate_per_s",
    "percentile_sample_minimum",
    "plan_run",
    "resolve_scenario_path",
    "scenario_operations",
    "scenario_schema",
    "scenario_schema_json",
    "show_scenario",
    "show_sla",
    "sla_schema",
    "sla_schema_json",
]
