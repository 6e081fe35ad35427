"""Capacity directories for report tests: capacity.json written from the rundir dataclasses
(so it stays in sync with what `read_capacity_record` accepts), step directories optional."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from harness.rundir import (
    CAPACITY_FILE,
    CAPACITY_SCHEMA,
    CapacityKnee,
    CapacityRecord,
    CapacitySearch,
    CapacityStep,
    Scaling,
)
from harness.verdict import Check
from tests.harness.report._support import EVIL

CAPACITY_ID = "2027-01-20T080000Z-capacity"
KNEE_SUMMARY = "one instance holds 113 arrivals/s (412 req/s) and breaks by 134.5 arrivals/s"


def _step(
    n: int,
    rate: float,
    *,
    held: bool = True,
    delivered: bool = True,
    limiting: str = "",
    prefix: str = "1x",
) -> CapacityStep:
    return CapacityStep(
        rate_per_s=rate,
        held=held,
        delivered=delivered,
        run_id=f"{prefix}-step-{n:02d}",
        limiting_objective=limiting,
        achieved_rps=rate * 3.65 if delivered else rate * 2.0,
        latency_p95_ms=8.0 + rate / 10 if held else 180.0 + rate,
        latency_p99_ms=15.0 + rate / 5 if held else 400.0 + rate,
        cpu_ratio=min(rate / 150, 1.0),
        memory_ratio=0.3,
        server_cpu_cores=min(rate / 150, 1.0),
        generator_cpu_cores=0.2 + rate / 400,
    )


SINGLE_STEPS = (
    _step(1, 20.0),
    _step(2, 40.0),
    _step(3, 80.0),
    _step(4, 160.0, held=False, limiting="product_search.latency.p95"),
    _step(5, 113.1),
    _step(6, 134.5, held=False, limiting=EVIL),
)
"""A coarse climb that breaks at 160, then bisection: the knee lies between 113.1 and 134.5."""

SINGLE = CapacitySearch(
    instances=1,
    knee=CapacityKnee(
        bound="found",
        summary=KNEE_SUMMARY,
        held_rate_per_s=113.1,
        broke_rate_per_s=134.5,
        relative_half_width=0.086,
        limiting_objective="product_search.latency.p95",
        achieved_rps=412.8,
        achieved_rps_by_operation={"product_search": 150.0},
        cpu_ratio=0.754,
        memory_ratio=0.31,
    ),
    steps=SINGLE_STEPS,
)

DOUBLE = CapacitySearch(
    instances=2,
    knee=CapacityKnee(
        bound="generator",
        summary="two instances hold at least 160 arrivals/s: the generator fell short at 320",
        held_rate_per_s=160.0,
        limiting_objective="",
        achieved_rps=584.0,
    ),
    steps=(
        _step(1, 160.0, prefix="2x"),
        _step(2, 320.0, delivered=False, prefix="2x"),
    ),
)

SCALING = Scaling(
    measured=True,
    instances=2,
    efficiency=0.82,
    law="amdahl",
    sigma=0.22,
    raw_efficiency=0.71,
    target_cores={"1": 1.4, "N": 2.6},
    matched_rate_per_s=160.0,
    server_cpu_ms_per_request={"1": 0.44, "N": 0.55},
    note="the generator took 0.6 of the 4 cores at the 2-instance knee",
)


def capacity_check(
    objective: str,
    limit_rps: float,
    status: str,
    *,
    needed: int | None,
    max_instances: int,
    capacity_rps: float,
    message: str = "",
    judged_by: str = "capacity",
) -> dict[str, Any]:
    """A throughput check judged from the knee, as the verdict writes it."""
    check = Check(
        id=objective,
        operation=objective.split(".")[0],
        metric="throughput",
        statistic="rate",
        comparator=">=",
        limit=limit_rps,
        unit="rps",
        status=status,  # type: ignore[arg-type]
        severity="high",
        measured=capacity_rps,
        message=message,
        judged_by=judged_by,  # type: ignore[arg-type]
        basis={
            "capacity_run": CAPACITY_ID,
            "knee_bound": "found",
            "knee_rps": 412.8,
            "cpu_at_knee": 0.754,
            "rps_per_instance": 383.2,
            "efficiency": 0.82,
            "law": "amdahl: C(n) = n / (1 + 0.22 (n - 1))",
            "target_cpu": 0.7,
            "instances_needed": needed,
            "max_instances": max_instances,
            "capacity_at_max_rps": capacity_rps,
            "margin": capacity_rps / limit_rps - 1,
        },
    )
    return check.to_dict()


CHECKS = (
    capacity_check(
        "api_gateway.throughput.target",
        2000.0,
        "pass",
        needed=6,
        max_instances=50,
        capacity_rps=1687.0 * 4,
        message="2,000 rps needs 6 of at most 50 instances",
    ),
    capacity_check(
        "orders.throughput.peak",
        100_000.0,
        "fail",
        needed=None,
        max_instances=5,
        capacity_rps=1235.0,
        message=f"no count of instances reaches 100,000 rps {EVIL}",
    ),
    capacity_check(
        "catalog.throughput.burst",
        900.0,
        "pass",
        needed=3,
        max_instances=20,
        capacity_rps=5000.0,
        judged_by="run",
    ),
)
"""Two checks judged from the knee (one reachable, one not) and one the run judged itself."""


def capacity_record(
    *,
    searches: tuple[CapacitySearch, ...] = (SINGLE, DOUBLE),
    checks: tuple[dict[str, Any], ...] = CHECKS,
    target: str = "embedded",
    capacity_id: str = CAPACITY_ID,
) -> CapacityRecord:
    return CapacityRecord(
        schema=CAPACITY_SCHEMA,
        capacity_id=capacity_id,
        created_at="2027-01-20T08:14:00.000Z",
        scenario="capacity",
        profile="ci",
        target=target,
        sla="sla.yaml",
        sla_sha256="ab" * 32,
        machine_cores=4,
        settings={"start_rate_per_s": 20.0, "growth": 2.0, "precision": 0.15, "max_steps": 9},
        searches=searches,
        scaling=SCALING,
        checks=checks,
    )


def with_knee(record: CapacityRecord, **knee: Any) -> CapacityRecord:
    """`record` with the one-instance knee's fields replaced."""
    single = record.searches[0]
    changed = replace(single, knee=replace(single.knee, **knee))
    return replace(record, searches=(changed, *record.searches[1:]))


def write_capacity_dir(parent: Path, record: CapacityRecord | None = None) -> Path:
    """`parent/<capacity_id>/capacity.json` (and steps/), no step run directory."""
    record = record or capacity_record()
    capacity_dir = parent / record.capacity_id
    (capacity_dir / "steps").mkdir(parents=True)
    (capacity_dir / CAPACITY_FILE).write_text(json.dumps(asdict(record), indent=2))
    for search in record.searches:
        for step in search.steps:
            (capacity_dir / "steps" / f"{step.run_id}.plan.json").write_text("{}")
    return capacity_dir
