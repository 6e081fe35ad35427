"""The public names of harness.spec, which the runner and the verdict build on."""

from __future__ import annotations

import dataclasses

import harness.spec
from harness.spec import Objective


def test_public_names_are_pinned() -> None:
    assert sorted(harness.spec.__all__) == sorted(
        [
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


def test_builtin_journeys_report_the_operations_of_the_contract() -> None:
    operations = {name: j.operations for name, j in harness.spec.BUILTIN_JOURNEYS.items()}
    assert operations == {
        "browse": ("category_list", "product_detail", "journey.browse"),
        "search": ("product_search", "product_detail", "journey.search"),
        "add_to_cart": ("product_search", "cart_add", "journey.add_to_cart"),
        "checkout": ("product_search", "cart_add", "order_processing", "journey.checkout"),
        "recommendations": ("recommendations",),
        "support": ("customer_support",),
        "inventory": ("inventory_check",),
        "pricing": ("price_lookup",),
        "payment": ("payment_processing",),
    }
