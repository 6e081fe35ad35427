"""Throughput objectives judged from a capacity search's knee: per instance at the scaling
row's target CPU, extrapolated by Amdahl's law to the row's max instances."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.rundir import CapacityKnee, CapacityRecord, CapacitySearch, CapacityStep, Scaling
from harness.spec import Sla, load_sla
from harness.verdict import capacity_checks
from harness.verdict._capacity_checks import Extrapolation

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def shipped() -> Sla:
    return load_sla(REPO / "sla.yaml")


def record(
    *,
    bound: str = "found",
    rps: float = 1000.0,
    by_operation: dict[str, float] | None = None,
    cpu: float | None = 0.7,
    held: float = 500.0,
    broke: float | None = 550.0,
    scaling: Scaling | None = None,
) -> CapacityRecord:
    knee = CapacityKnee(
        bound=bound,  # type: ignore[arg-type]
        summary=f"between {held:.0f}/s and {broke or 0:.0f}/s",
        held_rate_per_s=held,
        broke_rate_per_s=broke,
        achieved_rps=rps,
        achieved_rps_by_operation=by_operation
        if by_operation is not None
        else {"recommendations": 150.0},
        cpu_ratio=cpu,
    )
    step = CapacityStep(rate_per_s=held, held=True, achieved_rps=rps, run_id="1x-step-01")
    return CapacityRecord(
        schema=2,
        capacity_id="20261130T120000Z-capacity",
        created_at="2026-11-30T12:00:00Z",
        scenario="capacity",
        profile="ci",
        target="embedded",
        sla="sla.yaml",
        sla_sha256="0" * 64,
        machine_cores=2,
        settings={},
        searches=(CapacitySearch(instances=1, knee=knee, steps=(step,)),),
        scaling=scaling
        or Scaling(measured=False, instances=1, efficiency=1.0, law="amdahl", sigma=0.0),
    )


def by_id(sla: Sla, capacity: CapacityRecord) -> dict[str, object]:
    return {check.id: check for check in capacity_checks(sla, capacity, "cap")}


def test_every_throughput_objective_of_the_seed_is_judged_by_capacity(shipped: Sla) -> None:
    checks = capacity_checks(shipped, record(), "cap")
    throughput = [o.id for o in shipped.objectives if o.metric in ("throughput", "breaking_point")]
    assert [check.id for check in checks] == throughput
    assert len(throughput) == 26  # 18 component figures, 6 operations, the KPI; the knee
    assert all(check.judged_by == "capacity" for check in checks)
    assert all(check.basis and check.basis["capacity_run"] == "cap" for check in checks)


def test_the_gateway_is_the_knee_at_target_cpu_times_its_max_instances(shipped: Sla) -> None:
    # knee 1,000 rps at 70 % CPU, the gateway row's target: 1,000 per instance, × 50 instances
    checks = by_id(shipped, record(rps=1000.0, cpu=0.7))
    target = checks["api_gateway.throughput.target"]
    assert target.status == "pass"  # type: ignore[attr-defined]
    assert target.measured == pytest.approx(50_000)  # type: ignore[attr-defined]
    basis = target.basis  # type: ignore[attr-defined]
    assert basis["rps_per_instance"] == pytest.approx(1000)
    assert basis["instances_for"] == {"target": 10, "peak": 50, "burst": 100}
    assert basis["max_instances"] == 50
    assert basis["margin"] == pytest.approx(4.0)
    assert "linear scaling assumed" in target.message  # type: ignore[attr-defined]
    assert checks["api_gateway.throughput.peak"].status == "pass"  # type: ignore[attr-defined]
    burst = checks["api_gateway.throughput.burst"]
    # 50,000 at max, 100,000 needed; even the optimistic end (550/500) misses it
    assert burst.status == "fail"  # type: ignore[attr-defined]
    assert burst.basis["instances_needed"] == 100  # type: ignore[attr-defined]
    assert burst.actions  # type: ignore[attr-defined]


def test_a_knee_above_the_target_cpu_counts_only_up_to_it(shipped: Sla) -> None:
    check = by_id(shipped, record(rps=1400.0, cpu=0.98))["api_gateway.throughput.target"]
    assert check.basis["rps_per_instance"] == pytest.approx(1000.0)  # type: ignore[attr-defined]


def test_an_operation_uses_its_share_of_the_mix_and_its_components_row(shipped: Sla) -> None:
    checks = by_id(shipped, record(by_operation={"recommendations": 150.0}, cpu=0.5))
    # 150 rps at 50 % CPU, the ECS row (target 70 %, max 100): 150 per instance, 15,000 at max
    peak = checks["recommendation_agent.throughput.peak"]
    assert peak.basis["runs_on"] == "ECS Tasks"  # type: ignore[attr-defined]
    assert peak.measured == pytest.approx(15_000)  # type: ignore[attr-defined]
    assert peak.status == "fail"  # type: ignore[attr-defined]
    target = checks["recommendation_agent.throughput.target"]
    assert target.status == "pass"  # type: ignore[attr-defined]
    # an operation the mix never sent at the knee was not measured: never a pass
    search = checks["product_search.throughput"]
    assert search.status == "not_exercised"  # type: ignore[attr-defined]
    assert "never sent 'product_search'" in search.message  # type: ignore[attr-defined]


def test_a_knee_that_is_a_lower_bound_never_fails_a_figure(shipped: Sla) -> None:
    capacity = record(bound="generator", broke=None, rps=1000.0, cpu=0.7)
    checks = by_id(shipped, capacity)
    assert checks["api_gateway.throughput.target"].status == "pass"  # type: ignore[attr-defined]
    burst = checks["api_gateway.throughput.burst"]
    assert burst.status == "inconclusive"  # type: ignore[attr-defined]
    assert "lower bound" in burst.message  # type: ignore[attr-defined]


def test_a_figure_within_the_knees_uncertainty_is_inconclusive(shipped: Sla) -> None:
    # 980 rps per instance × 50 = 49,000 < 50,000 peak; the broken step (600 vs 500 held)
    # puts the optimistic end at 58,800: the figure lies inside the interval
    checks = by_id(shipped, record(rps=980.0, cpu=0.7, held=500.0, broke=600.0))
    assert checks["api_gateway.throughput.peak"].status == "inconclusive"  # type: ignore[attr-defined]


def test_the_knee_below_the_floor_fails_every_figure(shipped: Sla) -> None:
    capacity = record(bound="floor", rps=0.0, by_operation={}, held=20.0, broke=20.0)
    capacity = replace(
        capacity,
        searches=(
            replace(capacity.searches[0], knee=replace(capacity.single.knee, achieved_rps=None)),
        ),
    )
    checks = by_id(shipped, capacity)
    assert {check.status for check in checks.values()} == {"fail"}  # type: ignore[attr-defined]


def test_measured_scaling_efficiency_bends_the_extrapolation(shipped: Sla) -> None:
    # efficiency 80 % at 2 instances: sigma = 0.25, C(50) = 50 / 13.25 ≈ 3.77 instances' worth
    scaling = Scaling(
        measured=True, instances=2, efficiency=0.8, law="amdahl", sigma=0.25, raw_efficiency=0.7
    )
    check = by_id(shipped, record(rps=1000.0, cpu=0.7, scaling=scaling))[
        "api_gateway.throughput.target"
    ]
    assert check.measured == pytest.approx(1000 * 50 / 13.25)  # type: ignore[attr-defined]
    assert check.status == "fail"  # type: ignore[attr-defined]
    assert check.basis["instances_needed"] is None  # type: ignore[attr-defined]  # ceiling 4,000
    assert "scaling efficiency 80% measured at 2 instances" in check.message  # type: ignore[attr-defined]


def test_an_efficiency_the_machine_bounded_fails_only_what_linear_scaling_misses(
    shipped: Sla,
) -> None:
    # the scaled search was stopped by the machine: 80 % is at least the efficiency, so a
    # figure reachable with linear scaling (10,000 ≤ 50,000) is inconclusive, not failed
    scaling = Scaling(
        measured=True,
        instances=2,
        efficiency=0.8,
        law="amdahl",
        sigma=0.25,
        raw_efficiency=0.7,
        efficiency_is_lower_bound=True,
    )
    checks = by_id(shipped, record(rps=1000.0, cpu=0.7, scaling=scaling))
    target = checks["api_gateway.throughput.target"]
    assert target.status == "inconclusive"  # type: ignore[attr-defined]
    assert target.measured == pytest.approx(1000 * 50 / 13.25)  # type: ignore[attr-defined]
    assert "efficiency is a lower bound" in target.message  # type: ignore[attr-defined]
    assert "scaling efficiency at least 80%" in target.message  # type: ignore[attr-defined]
    # 100,000: not even 50 instances scaling linearly from the knee's upper end (55,000)
    assert checks["api_gateway.throughput.burst"].status == "fail"  # type: ignore[attr-defined]


def test_the_breaking_point_is_the_knee_of_one_instance(shipped: Sla) -> None:
    checks = by_id(shipped, record(rps=1317.0))
    knee = checks["capacity.breaking_point"]
    assert knee.measured == pytest.approx(1317.0)  # type: ignore[attr-defined]
    assert knee.status == "pass"  # type: ignore[attr-defined]
    assert (
        by_id(shipped, record(rps=400.0, broke=420.0))["capacity.breaking_point"].status == "fail"
    )  # type: ignore[attr-defined]


@given(
    per_instance=st.floats(1.0, 10_000.0),
    sigma=st.floats(0.0, 0.5),
    figure=st.floats(1.0, 1_000_000.0),
)
def test_instances_needed_is_the_fewest_that_reach_the_figure(
    per_instance: float, sigma: float, figure: float
) -> None:
    law = Extrapolation(per_instance, sigma)
    needed = law.instances_needed(figure)
    if needed is None:
        assert sigma > 0
        assert per_instance / sigma <= figure * (1 + 1e-9)
        return
    assert law.capacity_rps(needed) >= figure * (1 - 1e-9)
    if needed > 1:
        assert law.capacity_rps(needed - 1) < figure * (1 + 1e-9)
