from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.capacity import Knee, KneeBound, SearchPlan, find_knee
from harness.rundir import CapacityStep


class Target:
    """A fake target whose objectives hold below `knee_rps` and whose generator tops out at
    `generator_rps`; it records every rate it was offered."""

    def __init__(self, knee_rps: float, generator_rps: float = float("inf")) -> None:
        self.knee_rps = knee_rps
        self.generator_rps = generator_rps
        self.offered: list[float] = []

    def __call__(self, rate_per_s: float) -> CapacityStep:
        self.offered.append(rate_per_s)
        delivered = rate_per_s <= self.generator_rps
        held = rate_per_s < self.knee_rps
        return CapacityStep(
            rate_per_s=rate_per_s,
            held=held,
            delivered=delivered,
            limiting_objective="" if held else "search.p95",
            cpu_ratio=min(1.0, rate_per_s / max(self.knee_rps, 1.0)),
        )


def test_a_knee_is_found_to_the_plans_precision_between_a_held_and_a_broken_rate() -> None:
    target = Target(knee_rps=437.0)
    knee = find_knee(SearchPlan(start_rate_per_s=50, ceiling_rate_per_s=10_000), target)
    assert knee.bound is KneeBound.FOUND
    assert knee.held_rate_per_s is not None
    assert knee.broke_rate_per_s is not None
    assert knee.held_rate_per_s < 437.0 <= knee.broke_rate_per_s
    assert knee.relative_half_width is not None
    assert knee.relative_half_width <= 0.05
    assert knee.limiting_objective == "search.p95"
    assert target.offered[:4] == [50, 100, 200, 400]  # coarse: doubling until 800 broke
    assert target.offered[4] == 800
    assert knee.steps == tuple(knee.steps)  # every step kept, in order
    assert [step.rate_per_s for step in knee.steps] == target.offered
    knee_step = knee.knee_step
    assert knee_step is not None
    assert knee_step.rate_per_s == knee.held_rate_per_s
    assert "search.p95 broke first" in knee.describe()


def test_a_coarser_precision_takes_fewer_steps() -> None:
    fine, coarse = Target(knee_rps=437.0), Target(knee_rps=437.0)
    find_knee(SearchPlan(start_rate_per_s=50, ceiling_rate_per_s=10_000, precision=0.05), fine)
    find_knee(SearchPlan(start_rate_per_s=50, ceiling_rate_per_s=10_000, precision=0.2), coarse)
    assert len(coarse.offered) < len(fine.offered)


def test_a_target_the_generator_cannot_break_gives_at_least_the_generators_limit() -> None:
    target = Target(knee_rps=1e9, generator_rps=900.0)
    knee = find_knee(SearchPlan(start_rate_per_s=100, ceiling_rate_per_s=100_000), target)
    assert knee.bound is KneeBound.GENERATOR
    assert knee.held_rate_per_s == 800  # 100, 200, 400, 800 held; 1,600 was not delivered
    assert knee.broke_rate_per_s is None
    assert knee.relative_half_width is None
    assert knee.describe() == "at least 800/s, the generator's limit (no objective broke)"


def test_the_generator_falling_short_while_refining_stops_with_at_least_the_held_rate() -> None:
    target = Target(knee_rps=1000.0, generator_rps=700.0)
    plan = SearchPlan(start_rate_per_s=300, ceiling_rate_per_s=10_000, growth=4.0)
    knee = find_knee(plan, target)
    # 300 held; 1,200 was not delivered (the generator's limit comes first)
    assert knee.bound is KneeBound.GENERATOR
    assert knee.held_rate_per_s == 300


def test_a_ceiling_that_holds_is_at_least_the_ceiling() -> None:
    knee = find_knee(SearchPlan(start_rate_per_s=10, ceiling_rate_per_s=100), Target(1e9))
    assert knee.bound is KneeBound.CEILING
    assert knee.held_rate_per_s == 100  # the last coarse step is capped at the ceiling
    assert "the search's ceiling" in knee.describe()


def test_a_first_step_that_breaks_steps_down_until_one_holds() -> None:
    target = Target(knee_rps=30.0)
    knee = find_knee(SearchPlan(start_rate_per_s=200, ceiling_rate_per_s=1_000), target)
    assert knee.bound is KneeBound.FOUND
    assert target.offered[:4] == [200, 100, 50, 25]
    assert knee.held_rate_per_s is not None
    assert knee.broke_rate_per_s is not None
    assert knee.held_rate_per_s < 30.0 <= knee.broke_rate_per_s


def test_a_target_that_breaks_at_every_rate_is_below_the_floor() -> None:
    plan = SearchPlan(start_rate_per_s=8, ceiling_rate_per_s=100, floor_rate_per_s=1)
    knee = find_knee(plan, Target(knee_rps=0.0))
    assert knee.bound is KneeBound.FLOOR
    assert knee.held_rate_per_s is None
    assert knee.broke_rate_per_s == 1
    assert knee.describe().startswith("below 1/s")


def test_the_step_budget_bounds_the_search_and_keeps_the_interval() -> None:
    target = Target(knee_rps=437.0)
    plan = SearchPlan(start_rate_per_s=50, ceiling_rate_per_s=10_000, max_steps=6)
    knee = find_knee(plan, target)
    assert knee.bound is KneeBound.STEPS
    assert len(target.offered) == 6
    assert knee.held_rate_per_s is not None
    assert knee.broke_rate_per_s is not None
    assert knee.held_rate_per_s < 437.0 <= knee.broke_rate_per_s
    assert "the step budget ran out before the profile's precision" in knee.describe()


@pytest.mark.parametrize(
    ("start", "ceiling", "growth", "precision", "floor", "steps"),
    [
        (0, 10, 2, 0.05, 1, 5),
        (20, 10, 2, 0.05, 1, 5),
        (5, 10, 1, 0.05, 1, 5),
        (5, 10, 2, 0, 1, 5),
        (5, 10, 2, 1, 1, 5),
        (5, 10, 2, 0.05, 6, 5),
        (5, 10, 2, 0.05, 1, 0),
    ],
)
def test_a_plan_that_cannot_search_is_refused(
    start: float, ceiling: float, growth: float, precision: float, floor: float, steps: int
) -> None:
    with pytest.raises(ValueError, match=r"expected|must be"):
        SearchPlan(start, ceiling, growth, precision, floor, steps)


@given(
    knee_rps=st.floats(min_value=2.0, max_value=50_000.0),
    start=st.floats(min_value=1.0, max_value=5_000.0),
    precision=st.sampled_from([0.02, 0.05, 0.1, 0.2]),
)
def test_any_found_knee_brackets_the_true_one_within_the_precision(
    knee_rps: float, start: float, precision: float
) -> None:
    plan = SearchPlan(start, 100_000.0, precision=precision, max_steps=60)
    knee: Knee = find_knee(plan, Target(knee_rps))
    assert knee.bound is KneeBound.FOUND
    assert knee.held_rate_per_s is not None
    assert knee.broke_rate_per_s is not None
    assert knee.held_rate_per_s < knee_rps <= knee.broke_rate_per_s
    assert knee.relative_half_width is not None
    assert knee.relative_half_width <= precision


def test_a_step_budget_spent_before_anything_broke_is_only_a_lower_bound() -> None:
    target = Target(knee_rps=10_000.0)
    plan = SearchPlan(start_rate_per_s=50, ceiling_rate_per_s=100_000, max_steps=3)
    knee = find_knee(plan, target)
    assert knee.bound is KneeBound.STEPS
    assert knee.broke_rate_per_s is None
    assert knee.describe() == "at least 200/s: the step budget ran out before a step broke"
