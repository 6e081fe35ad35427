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


def test_n_instances_delivering_less_than_one_are_judged_as_no_gain() -> None:
    # the 2-instance knee below the single one: sigma would exceed 1 (capacity falling with
    # every instance), which one point cannot support; it stops at 1, flat, and says so
    scaling = measure_scaling([search(1, 900.0, None), search(2, 600.0, None)], shared_cores=None)
    assert scaling.efficiency == pytest.approx(600 / 1800)
    assert scaling.sigma == 1.0
    assert "no more than one" in scaling.note


def step(rate: float, rps: float, server_cores: float, held: bool = True) -> CapacityStep:
    return CapacityStep(
        rate_per_s=rate,
        held=held,
        achieved_rps=rps,
        server_cpu_cores=server_cores,
        generator_cpu_cores=0.1,
        run_id="step",
    )


def test_the_targets_cpu_per_request_is_compared_at_the_highest_rate_both_held() -> None:
    knee = CapacityKnee(bound="found", summary="…", held_rate_per_s=200.0, achieved_rps=400.0)  # type: ignore[arg-type]
    one = CapacitySearch(
        instances=1,
        knee=knee,
        steps=(step(100, 200, 0.2), step(200, 400, 0.4), step(400, 700, 0.9, held=False)),
    )
    many = CapacitySearch(
        instances=2,
        knee=knee,
        steps=(step(100, 200, 0.25), step(200, 400, 0.6), step(400, 800, 1.2)),
    )
    scaling = measure_scaling([one, many], shared_cores=None)
    # 400/s held only by the 2-instance search: 200/s is the rate both held
    assert scaling.matched_rate_per_s == 200
    assert scaling.server_cpu_ms_per_request == {
        "1": pytest.approx(1.0),
        "2": pytest.approx(1.5),
    }
    assert "1.00 ms of CPU per request on 1 instance and 1.50 ms on 2 (+50%)" in scaling.note


def knee_search(instances: int, steps: tuple[CapacityStep, ...]) -> CapacitySearch:
    held = [s for s in steps if s.held]
    broke = [s for s in steps if not s.held]
    knee = CapacityKnee(
        bound="found",
        summary="…",
        held_rate_per_s=held[-1].rate_per_s,
        broke_rate_per_s=broke[-1].rate_per_s if broke else None,
        achieved_rps=held[-1].achieved_rps,
    )
    return CapacitySearch(instances=instances, knee=knee, steps=steps)


def machine_step(
    rate: float, rps: float, server: float, generator: float, machine: float, held: bool
) -> CapacityStep:
    return CapacityStep(
        rate_per_s=rate,
        held=held,
        achieved_rps=rps,
        server_cpu_cores=server,
        generator_cpu_cores=generator,
        machine_cpu_cores=machine,
        run_id=f"step-at-{rate:g}",
    )


def test_other_processes_cores_are_taken_out_like_the_generators() -> None:
    # a database beside them took 0.3 cores at the 2-instance knee: 2 - 0.5 - 0.3 = 1.2 left
    one = knee_search(
        1,
        (
            machine_step(400, 800, 0.8, 0.3, 1.2, True),
            machine_step(800, 900, 1.0, 0.4, 1.5, False),
        ),
    )
    many = knee_search(
        2,
        (
            machine_step(600, 1200, 1.1, 0.5, 1.9, True),
            machine_step(800, 1300, 1.8, 0.55, 1.95, False),
        ),
    )
    scaling = measure_scaling([one, many], shared_cores=2)
    assert scaling.other_cpu_cores == {"1": pytest.approx(0.1), "2": pytest.approx(0.3)}
    assert scaling.target_cores == {"1": pytest.approx(1.0), "2": pytest.approx(1.2)}
    assert scaling.efficiency == pytest.approx((1200 / 1.2) / 800)
    assert "0.30 went to other processes" in scaling.note
    # the 2 instances used 1.8 of their 2 cores when they broke: their own limit
    assert not scaling.efficiency_is_lower_bound


def test_a_scaled_search_the_machine_stopped_gives_a_lower_bound() -> None:
    one = knee_search(
        1,
        (
            machine_step(400, 800, 0.8, 0.3, 1.2, True),
            machine_step(800, 900, 1.0, 0.4, 1.5, False),
        ),
    )
    # at 700/s every core was busy (1.95 of 2) but the instances used 1.2 of their 2
    many = knee_search(
        2,
        (
            machine_step(600, 1200, 1.0, 0.5, 1.7, True),
            machine_step(700, 1250, 1.2, 0.55, 1.95, False),
        ),
    )
    scaling = measure_scaling([one, many], shared_cores=2)
    assert scaling.efficiency_is_lower_bound
    assert "at least: when step-at-700 broke, the machine's cores were all busy" in scaling.note
