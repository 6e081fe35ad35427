"""Scaling efficiency between the one-instance and the N-instance search, with the
generator's share of a shared machine accounted for."""

from __future__ import annotations

import pytest

from harness.capacity import measure_scaling
from harness.rundir import CapacityKnee, CapacitySearch, CapacityStep


def search(
    instances: int, rps: float, generator_cores: float | None, bound: str = "found"
) -> CapacitySearch:
    step = CapacityStep(
        rate_per_s=rps / 2,
        held=True,
        achieved_rps=rps,
        generator_cpu_cores=generator_cores,
        run_id=f"{instances}x-step-01",
    )
    knee = CapacityKnee(bound=bound, summary="…", held_rate_per_s=rps / 2, achieved_rps=rps)  # type: ignore[arg-type]
    return CapacitySearch(instances=instances, knee=knee, steps=(step,))


def test_without_a_second_search_linear_scaling_is_assumed_and_said() -> None:
    scaling = measure_scaling([search(1, 450.0, 0.3)], shared_cores=2)
    assert not scaling.measured
    assert scaling.efficiency == 1.0
    assert scaling.sigma == 0.0
    assert "assumed" in scaling.note


def test_a_remote_target_scales_by_the_raw_ratio() -> None:
    scaling = measure_scaling([search(1, 450.0, 0.3), search(2, 720.0, 0.5)], shared_cores=None)
    assert scaling.measured
    assert scaling.efficiency == pytest.approx(720 / 900)
    assert scaling.raw_efficiency == pytest.approx(0.8)
    assert scaling.sigma == pytest.approx(1 / 0.8 - 1)


def test_on_a_shared_machine_the_generators_cores_are_taken_out() -> None:
    # 2 cores: the generator used 0.3 at the single knee (1 core left: all one instance can
    # use) and 0.6 at the 2-instance knee (1.4 left for 2 instances)
    scaling = measure_scaling([search(1, 450.0, 0.3), search(2, 630.0, 0.6)], shared_cores=2)
    assert scaling.raw_efficiency == pytest.approx(630 / 900)
    assert scaling.target_cores == {"1": pytest.approx(1.0), "2": pytest.approx(1.4)}
    assert scaling.efficiency == pytest.approx((630 / 1.4) / 450)  # 100 % per available core
    assert scaling.sigma == pytest.approx(0.0)
    assert "0.60 of them" in scaling.note
    assert "1.40 to the target" in scaling.note


def test_a_lower_bound_single_knee_measures_no_efficiency() -> None:
    scaling = measure_scaling(
        [search(1, 1300.0, 1.0, bound="generator"), search(2, 1300.0, 1.0, bound="generator")],
        shared_cores=2,
    )
    assert not scaling.measured
    assert "lower bound" in scaling.note
