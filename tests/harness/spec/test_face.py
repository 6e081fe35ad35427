"""The public names of harness.spec, which the runner and the verdict build on."""

from __future__ import annotations

import dataclasses

import harness.spec
from harness.spec import Objective


def test_public_names_are_pinned() -> None:
    assert sorted(harness.spec.__all__) == sorted(
        [
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
    )
    for name in harness.spec.__all__:
        assert getattr(harness.spec, name) is not None


def test_objective_fields_are_the_verdicts_contract() -> None:
    assert [field.name for field in dataclasses.fields(Objective)] == [
        "id",
        "operation",
        "metric",
        "statistic",
        "limit",
        "warn",
        "window_s",
        "windows_required",
        "scope",
        "severity",
        "optional",
        "min_samples",
        "abort_after_s",
        "baseline",
        "baseline_warn",
        "query",
        "scenarios",
        "title",
        "description",
        "source",
        "scope_written",
    ]
