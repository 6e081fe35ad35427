"""Cross-checks of an SLA against a scenario, made before any load is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.errors import SpecError
from harness.plan import RunPlan
from harness.spec import (
    check_against,
    effective_objectives,
    list_scenario_names,
    load_scenario,
    load_sla,
    objectives_for_plan,
    plan_run,
    scenario_operations,
)
from harness.spec._crosscheck import check_plan, stage_names, unknown_scopes, unmatched_scopes
from tests.harness.spec._support import REPO, run_main, valid_scenario, valid_sla


def _files(tmp_path: Path, sla: object, scenario: object) -> tuple[Path, Path]:
    sla_path, scenario_path = tmp_path / "sla.yaml", tmp_path / "shop.yaml"
    sla_path.write_text(yaml.safe_dump(sla, sort_keys=False))
    scenario_path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return sla_path, scenario_path


@pytest.mark.parametrize("name", list_scenario_names())
def test_the_shipped_sla_fits_every_shipped_scenario(name: str) -> None:
    sla = load_sla(REPO / "sla.yaml")
    scenario = load_scenario(name)
    objectives = check_against(sla, scenario)
    assert objectives
    assert all(objective.applies_to(scenario.name) for objective in objectives)


def test_an_operation_the_scenario_never_produces_is_a_spec_error(tmp_path: Path) -> None:
    sla = valid_sla()
    sla["services"]["order_processing"] = {"latency": {"p95": "< 1000 ms"}}
    sla_path, scenario_path = _files(tmp_path, sla, valid_scenario())
    with pytest.raises(SpecError) as caught:
        check_against(load_sla(sla_path), load_scenario(scenario_path))
    assert caught.value.message == (
        f"{sla_path}:24: order_processing.latency.p95: operation 'order_processing' is not "
        "produced by scenario 'shop' (mark the objective `optional: true` or add a journey that "
        "reports it); known operations: product_search, product_detail, journey.search, "
        "cart_view, journey.flow"
    )
    assert caught.value.exit_code == 2


def test_optional_and_server_side_objectives_pass_the_cross_check(tmp_path: Path) -> None:
    sla = valid_sla()
    sla["services"]["order_processing"] = {
        "latency": {"p95": {"limit": "< 1000 ms", "optional": True}}
    }
    sla_path, scenario_path = _files(tmp_path, sla, valid_scenario())
    ids = {o.id for o in check_against(load_sla(sla_path), load_scenario(scenario_path))}
    assert {"order_processing.latency.p95", "kpi.cpu", "api_gateway.throughput.target"} <= ids


def test_a_scenario_without_the_sla_is_judged_by_its_own_thresholds(tmp_path: Path) -> None:
    scenario = valid_scenario()
    scenario["sla"] = False
    scenario["objectives"] = [
        {"id": "p95", "operation": "*", "metric": "latency", "statistic": "p95", "limit": "< 1 s"}
    ]
    sla_path, scenario_path = _files(tmp_path, valid_sla(), scenario)
    objectives = check_against(load_sla(sla_path), load_scenario(scenario_path))
    assert [o.id for o in objectives] == ["p95"]


def test_objectives_for_other_scenarios_are_left_out(tmp_path: Path) -> None:
    sla = valid_sla()
    sla["objectives"][0]["scenarios"] = ["endurance"]
    sla_path, scenario_path = _files(tmp_path, sla, valid_scenario())
    ids = {o.id for o in effective_objectives(load_sla(sla_path), load_scenario(scenario_path))}
    assert "product_search.latency.p99" not in ids


def test_a_locustfile_without_declared_operations_cannot_be_cross_checked(tmp_path: Path) -> None:
    (tmp_path / "team.py").write_text("# a team's locustfile\n")
    scenario = valid_scenario()
    scenario["journeys"] = {"team": {"locustfile": "team.py"}}
    sla = valid_sla()
    sla["services"]["anything"] = {"error_rate": "< 1 %"}
    sla_path, scenario_path = _files(tmp_path, sla, scenario)
    loaded = load_scenario(scenario_path)
    assert scenario_operations(loaded) is None
    assert check_against(load_sla(sla_path), loaded)
    scenario["journeys"]["team"]["operations"] = ["home"]
    scenario_path.write_text(yaml.safe_dump(scenario))
    with pytest.raises(SpecError, match="operation 'product_search' is not produced"):
        check_against(load_sla(sla_path), load_scenario(scenario_path))


def test_a_scope_a_table_implies_is_only_a_warning(tmp_path: Path) -> None:
    """A component's peak figure in a project without a `peak` stage is out of scope by
    design (the seed's table), not a typo: a warning."""
    sla_path, scenario_path = _files(tmp_path, valid_sla(), valid_scenario())
    loaded = load_sla(sla_path)
    warnings = unmatched_scopes(loaded.objectives, [load_scenario(scenario_path)])
    assert warnings == [
        f"{sla_path}:28: api_gateway.throughput.peak: scope 'peak' is no stage of shop; it will "
        "be not_exercised (stages: ramp-up, steady)"
    ]
    assert (
        unknown_scopes(loaded.objectives, {"shop": stage_names(load_scenario(scenario_path))}) == []
    )


def test_a_written_scope_no_scenario_has_fails_lint_with_exit_2(tmp_path: Path) -> None:
    """Issue 10: `scope: paek` was a warning, and the objective silently not_exercised."""
    sla = valid_sla()
    sla["objectives"][0]["scope"] = "stedy"
    sla_path, scenario_path = _files(tmp_path, sla, valid_scenario())
    outcome = run_main("sla", "lint", str(sla_path), "--scenario", str(scenario_path))
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr.startswith(f"error: {sla_path}:42: product_search.latency.p99@stedy: ")
    assert "scope 'stedy' is no stage of any scenario" in outcome.stderr
    assert "closest: 'steady'" in outcome.stderr
    assert "Traceback" not in outcome.stderr


def test_a_stage_only_some_scenarios_have_is_no_error(tmp_path: Path) -> None:
    """`scope: spike` applies to every scenario, and only `spike` has the stage: fine for
    lint and for a run of `smoke` (where it is simply not judged)."""
    sla = valid_sla()
    sla["services"]["product_search"]["latency"]["p95"] = {"limit": "< 500 ms", "scope": "spike"}
    sla_path, _ = _files(tmp_path, sla, valid_scenario())
    assert run_main("sla", "lint", str(sla_path), "--scenario", "smoke").code == 0
    ids = {o.id for o in check_plan(load_sla(sla_path), plan_run("smoke", "smoke"))}
    assert "product_search.latency.p95" in ids


def test_a_scope_outside_the_scenarios_the_objective_applies_to_is_an_error(
    tmp_path: Path,
) -> None:
    """`scenarios: [peak]` with `scope: spike`: the one scenario it applies to has no spike."""
    sla = valid_sla()
    sla["objectives"][0] |= {"scope": "spike", "scenarios": ["peak"]}
    sla_path, _ = _files(tmp_path, sla, valid_scenario())
    outcome = run_main("sla", "lint", str(sla_path))
    assert outcome.code == 2
    assert "scope 'spike' is no stage of any scenario the objective applies to (peak)" in (
        outcome.stderr
    )
    with pytest.raises(SpecError, match="scope 'spike' is no stage"):
        check_plan(load_sla(sla_path), plan_run("peak", "smoke"))


def test_a_run_refuses_a_scope_no_scenario_has_before_any_load(tmp_path: Path) -> None:
    sla = valid_sla()
    sla["objectives"][0]["scope"] = "paek"
    sla_path, _ = _files(tmp_path, sla, valid_scenario())
    with pytest.raises(SpecError) as caught:
        check_plan(load_sla(sla_path), plan_run("smoke", "smoke"))
    assert caught.value.exit_code == 2
    assert "product_search.latency.p99@paek: scope 'paek'" in caught.value.message
    assert "closest: 'peak'" in caught.value.message


def test_a_scenarios_own_threshold_is_scoped_on_its_own_stages(tmp_path: Path) -> None:
    scenario = valid_scenario()
    scenario["sla"] = False
    scenario["objectives"] = [
        {
            "id": "p95",
            "operation": "*",
            "metric": "latency",
            "statistic": "p95",
            "limit": "< 1 s",
            "scope": "peak",
        }
    ]
    sla_path, scenario_path = _files(tmp_path, valid_sla(), scenario)
    # `peak` is a stage of scenarios/peak.yaml, but not of this scenario, the only one judged by it
    outcome = run_main("sla", "lint", str(sla_path), "--scenario", str(scenario_path))
    assert outcome.code == 2
    assert "p95: scope 'peak' is no stage of any scenario the objective applies to (shop)" in (
        outcome.stderr
    )


def test_a_misspelt_operation_names_the_closest_one(tmp_path: Path) -> None:
    sla = valid_sla()
    sla["services"]["prodcut_search"] = {"latency": {"p95": "< 1000 ms"}}
    sla_path, scenario_path = _files(tmp_path, sla, valid_scenario())
    with pytest.raises(
        SpecError, match=r"operation 'prodcut_search' is not produced .*closest: 'product_search'"
    ):
        check_against(load_sla(sla_path), load_scenario(scenario_path))


def test_a_plan_carries_the_scenarios_own_thresholds_through_json() -> None:
    sla = load_sla(REPO / "sla.yaml")
    k6 = plan_run("k6-seed", "ci")
    again = RunPlan.from_dict(json.loads(json.dumps(k6.to_dict())))
    objectives = objectives_for_plan(sla, again)
    assert [o.id for o in objectives] == ["http_req_duration", "http_req_failed", "checks"]
    assert objectives == load_scenario("k6-seed").objectives
    normal = objectives_for_plan(sla, plan_run("normal"))
    assert {o.id for o in normal} == {o.id for o in sla.objectives if o.applies_to("normal")}
