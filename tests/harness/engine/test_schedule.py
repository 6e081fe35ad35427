"""Stage and arrival math: users per tick, arrival counts and spacing, splitting across drivers."""

from __future__ import annotations

import itertools
import random

import pytest

from harness.engine._schedule import arrival_offsets, expected_arrivals, rate_at, users_at
from harness.plan import RunPlan, Scale, StagePlan


def _plan(*stages: StagePlan, model: str = "closed") -> RunPlan:
    return RunPlan(
        scenario="s",
        profile="p",
        scale=Scale(),
        model=model,  # type: ignore[arg-type]
        stages=stages,
        journeys=(),
    )


CLOSED = _plan(
    StagePlan("ramp", 0.0, 10.0, users_start=0, users_end=100),
    StagePlan("hold", 10.0, 20.0, users_start=100, users_end=100),
    StagePlan("spike", 30.0, 5.0, users_start=300, users_end=300, spawn_rate_per_s=50.0),
)
OPEN = _plan(
    StagePlan("steady", 0.0, 10.0, rate_start_per_s=20.0, rate_end_per_s=20.0),
    StagePlan("ramp", 10.0, 10.0, rate_start_per_s=20.0, rate_end_per_s=60.0),
    model="open",
)


@pytest.mark.parametrize(
    ("offset_s", "users", "stage"),
    [
        (0.0, 0, "ramp"),
        (5.0, 50, "ramp"),
        (9.9, 99, "ramp"),
        (10.0, 100, "hold"),
        (31.0, 300, "spike"),
    ],
)
def test_users_ramp_linearly_within_a_stage(offset_s: float, users: int, stage: str) -> None:
    target = users_at(CLOSED, offset_s)
    assert target is not None
    assert (target.users, target.stage) == (users, stage)


def test_spawn_rates_follow_the_ramp_and_the_declared_rate() -> None:
    ramp = users_at(CLOSED, 1.0)
    hold = users_at(CLOSED, 15.0)
    spike = users_at(CLOSED, 31.0)
    assert ramp is not None
    assert hold is not None
    assert spike is not None
    assert ramp.spawn_rate_per_s == 20.0  # twice the slope of 10 users/s
    # whatever the ramp had not started yet joins at once (not one user a second)
    assert hold.spawn_rate_per_s == 100.0
    assert spike.spawn_rate_per_s == 50.0  # declared


def test_the_plan_ends_after_its_last_stage() -> None:
    assert users_at(CLOSED, 35.0) is None
    assert rate_at(OPEN, 20.0) == 0.0


def test_rates_and_expected_arrivals_integrate_the_ramp() -> None:
    assert rate_at(OPEN, 5.0) == 20.0
    assert rate_at(OPEN, 15.0) == 40.0
    assert expected_arrivals(OPEN, 0.0, 10.0) == pytest.approx(200.0)
    assert expected_arrivals(OPEN, 10.0, 20.0) == pytest.approx(400.0)


def test_uniform_arrivals_match_the_plan_second_by_second() -> None:
    offsets = list(arrival_offsets(OPEN, "uniform"))
    assert len(offsets) == 600
    assert offsets == sorted(offsets)
    per_second = [sum(1 for o in offsets if s <= o < s + 1) for s in range(20)]
    assert per_second[:10] == [20] * 10
    for second in range(10, 20):
        expected = expected_arrivals(OPEN, second, second + 1)
        assert abs(per_second[second] - expected) <= 1
    gaps = [b - a for a, b in itertools.pairwise(offsets[:200])]
    assert min(gaps) == pytest.approx(0.05)
    assert max(gaps) == pytest.approx(0.05)


def test_drivers_splitting_a_uniform_rate_interleave_into_the_full_schedule() -> None:
    full = list(arrival_offsets(OPEN, "uniform"))
    split = sorted(
        [
            *arrival_offsets(OPEN, "uniform", share=1 / 3, phase=0 / 3),
            *arrival_offsets(OPEN, "uniform", share=1 / 3, phase=1 / 3),
            *arrival_offsets(OPEN, "uniform", share=1 / 3, phase=2 / 3),
        ]
    )
    assert split == pytest.approx(full)


def test_poisson_arrivals_have_the_planned_mean_and_exponential_gaps() -> None:
    counts = [
        len(list(arrival_offsets(OPEN, "poisson", rng=random.Random(seed)))) for seed in range(40)
    ]
    mean = sum(counts) / len(counts)
    assert 600 * 0.97 <= mean <= 600 * 1.03
    steady = [o for o in arrival_offsets(OPEN, "poisson", rng=random.Random(1)) if o < 10.0]
    gaps = [b - a for a, b in itertools.pairwise(steady)]
    # exponential gaps: the standard deviation equals the mean (1/20 s)
    average = sum(gaps) / len(gaps)
    spread = (sum((g - average) ** 2 for g in gaps) / len(gaps)) ** 0.5
    assert 0.035 <= average <= 0.065
    assert 0.7 <= spread / average <= 1.3


def test_half_shares_of_poisson_add_up_to_the_full_rate() -> None:
    totals = [
        len(list(arrival_offsets(OPEN, "poisson", share=0.5, rng=random.Random(seed))))
        + len(list(arrival_offsets(OPEN, "poisson", share=0.5, rng=random.Random(seed + 1000))))
        for seed in range(30)
    ]
    assert 600 * 0.96 <= sum(totals) / len(totals) <= 600 * 1.04
