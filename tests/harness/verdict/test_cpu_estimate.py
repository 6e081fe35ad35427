"""Capacity planning arithmetic: sustainable RPS per instance at the target CPU, instances
for target, peak and burst, and which components cannot meet burst within their max."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import harness.verdict
from harness.spec._sla import Component, load_sla
from harness.spec._sla_models import ScalingSpec
from harness.verdict._cpu_estimate import (
    instances_needed,
    plan_capacity,
    print_capacity,
    sustainable_rps,
)
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._model import Verdict
from tests.harness._synthetic_run import SyntheticRun, simple_plan, write_server_series


@pytest.mark.parametrize(
    ("measured_rps", "cpu_ratio", "target_cpu", "expected"),
    [
        (100.0, 0.50, 0.70, 140.0),  # half busy at 100 rps: 70 % CPU serves 140 rps
        (350.0, 0.35, 0.70, 700.0),
        (1000.0, 1.00, 0.60, 600.0),  # saturated: the target CPU is below what was measured
        (100.0, 0.005, 0.70, None),  # too little CPU to extrapolate from
        (0.0, 0.50, 0.70, None),  # nothing served
    ],
)
def test_sustainable_rps_scales_measured_rps_to_the_target_cpu(
    measured_rps: float, cpu_ratio: float, target_cpu: float, expected: float | None
) -> None:
    got = sustainable_rps(measured_rps, cpu_ratio, target_cpu)
    assert got == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("rps", "per_instance", "expected"),
    [
        (10_000.0, 140.0, 72),  # 71.43 rounds up
        (14_000.0, 140.0, 100),  # exact multiple: no extra instance
        (1.0, 140.0, 1),  # at least one
        (None, 140.0, None),  # no figure
        (100.0, None, None),  # no capacity known
    ],
)
def test_instances_needed_round_up(
    rps: float | None, per_instance: float | None, expected: int | None
) -> None:
    assert instances_needed(rps, per_instance) == expected


def _component(name: str, operation: str, burst: float, max_instances: int) -> Component:
    scaling = ScalingSpec(
        title="ECS Tasks",
        min_instances=3,
        max_instances=max_instances,
        target_cpu=0.7,
        target_memory=0.75,
        scale_out_cooldown=300,
    )
    return Component(name, name.title(), operation, burst / 10, burst / 2, burst, scaling)


def test_the_plan_names_the_components_that_cannot_meet_burst() -> None:
    components = [
        _component("search", "search", burst=10_000, max_instances=100),  # needs 72
        _component("support", "support", burst=10_000, max_instances=50),  # needs 72 > 50
    ]
    plan = plan_capacity(components, lambda op: 50.0, 0.25, {"rps": 100.0})
    assert plan is not None
    rows = {row["name"]: row for row in plan["components"]}
    assert rows["search"]["rps_per_instance"] == pytest.approx(140.0)
    assert rows["search"]["instances_target"] == 8  # 1,000 rps
    assert rows["search"]["instances_peak"] == 36  # 5,000 rps
    assert rows["search"]["instances_burst"] == 72
    assert rows["search"]["meets_burst"] is True
    assert rows["support"]["meets_burst"] is False
    assert plan["cannot_meet_burst"] == ["support"]


def test_without_server_cpu_the_plan_says_why() -> None:
    plan = plan_capacity([_component("a", "a", 1000, 10)], lambda op: 50.0, None, {})
    assert plan is not None
    row = plan["components"][0]
    assert row["instances_burst"] is None
    assert row["meets_burst"] is None
    assert row["note"] == "no server CPU was measured"


def test_no_components_no_plan() -> None:
    assert plan_capacity([], lambda op: 1.0, 0.5, {}) is None


SLA = """version: 1
name: capacity
scaling:
  ecs: {min_instances: 3, max_instances: 10, target_cpu: 70 %, target_memory: 75 %, scale_out_cooldown: 300s}
components:
  search_agent:
    operation: search
    runs_on: ecs
    throughput: {target: ">= 1000 rps", peak: ">= 2000 rps", burst: ">= 4000 rps"}
objectives:
  - {operation: search, metric: latency, statistic: p95, limit: "< 500 ms"}
"""


def test_the_verdict_carries_the_plan_and_validates_against_its_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 50, 20.0)
    write_server_series(run.run_dir, [(float(t), "cpu_ratio", 0.25) for t in range(120)])
    (tmp_path / "sla.yaml").write_text(SLA)
    verdict = evaluate(read_judged_run(run.finish()), load_sla(tmp_path / "sla.yaml"))
    assert verdict.capacity is not None
    row = verdict.capacity["components"][0]
    # 50 rps at 25 % CPU: 140 rps per instance at 70 %; burst 4,000 rps needs 29 > max 10
    assert row["rps_per_instance"] == pytest.approx(140.0)
    assert row["instances_burst"] == 29
    assert verdict.capacity["cannot_meet_burst"] == ["search_agent"]
    # informational: no check of its own
    assert {check.metric for check in verdict.checks} == {"latency", "throughput"}
    data = verdict.to_dict()
    schema_path = Path(harness.verdict.__file__).parent / "schemas" / "verdict.schema.json"
    jsonschema.validate(data, json.loads(schema_path.read_text()))
    assert Verdict.from_dict(data).capacity == verdict.capacity
    from rich.console import Console

    print_capacity(verdict.capacity, Console(width=140))
    printed = capsys.readouterr().out
    assert "cannot meet burst" in printed
    assert "8/15/29" in printed  # instances for 1,000, 2,000 and 4,000 rps at 140 rps each
