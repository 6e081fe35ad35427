"""Stage and arrival math of a run plan: users at an offset, arrival times of the open model.

Plain Python (no gevent), so the timing rules are unit-tested without starting Locust.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from harness.plan import ArrivalProcess, RunPlan, StagePlan


@dataclass(frozen=True, slots=True)
class UserTarget:
    """What the closed-model shape asks Locust for at one tick."""

    users: int
    """Users that should be running."""
    spawn_rate_per_s: float
    """Users started or stopped per second to get there."""
    stage: str
    """Stage running at that offset."""


def _interpolate(start: float, end: float, stage: StagePlan, offset_s: float) -> float:
    if stage.duration_s <= 0:
        return end
    fraction = min(max((offset_s - stage.start_s) / stage.duration_s, 0.0), 1.0)
    return start + (end - start) * fraction


def users_at(plan: RunPlan, offset_s: float) -> UserTarget | None:
    """The closed-model target `offset_s` seconds into the run; None once the plan has ended.

    Users ramp linearly from `users_start` to `users_end` over a stage. A flat stage uses its
    declared spawn rate, else it reaches its target at once: its jump from the stage before,
    and any user a short ramp before it had not asked for yet (a ramp moves in one-second
    steps, so a 2 s ramp to 40 users ends with 20 of them still to start). A ramp spawns at
    least as fast as its slope (twice the slope, so each one-second step completes before
    the next tick).
    """
    stage = plan.stage_at(offset_s)
    if stage is None:
        return None
    start = stage.users_start if stage.users_start is not None else stage.users_end or 0
    end = stage.users_end if stage.users_end is not None else start
    users = round(_interpolate(float(start), float(end), stage, offset_s))
    if start == end:
        previous = _previous_users(plan, stage)
        jump = abs(end - previous) if previous is not None else end
        rate = stage.spawn_rate_per_s or float(max(jump, end, 1))
    else:
        slope = abs(end - start) / max(stage.duration_s, 1e-9)
        rate = max(stage.spawn_rate_per_s or 0.0, 2.0 * slope, 1.0)
    return UserTarget(users=users, spawn_rate_per_s=rate, stage=stage.name)


def _previous_users(plan: RunPlan, stage: StagePlan) -> int | None:
    index = plan.stages.index(stage)
    if index == 0:
        return None
    before = plan.stages[index - 1]
    return before.users_end if before.users_end is not None else before.users_start


def rate_at(plan: RunPlan, offset_s: float) -> float:
    """Open-model arrivals per second planned at `offset_s` (0 outside the stages)."""
    stage = plan.stage_at(offset_s)
    if stage is None:
        return 0.0
    start, end = _stage_rates(stage)
    return _interpolate(start, end, stage, offset_s)


def _stage_rates(stage: StagePlan) -> tuple[float, float]:
    start = stage.rate_start_per_s if stage.rate_start_per_s is not None else stage.rate_end_per_s
    end = stage.rate_end_per_s if stage.rate_end_per_s is not None else start
    return float(start or 0.0), float(end or 0.0)


def expected_arrivals(plan: RunPlan, from_s: float, to_s: float) -> float:
    """Arrivals the plan asks for between two offsets (the integral of the rate)."""
    return _cumulative(plan, to_s) - _cumulative(plan, from_s)


def _cumulative(plan: RunPlan, offset_s: float) -> float:
    total = 0.0
    for stage in plan.stages:
        if offset_s <= stage.start_s:
            break
        start, end = _stage_rates(stage)
        span = min(offset_s, stage.end_s) - stage.start_s
        slope = (end - start) / stage.duration_s if stage.duration_s > 0 else 0.0
        total += start * span + slope * span * span / 2.0
    return total


def _offset_of(plan: RunPlan, amount: float) -> float | None:
    """The offset at which the cumulative arrivals reach `amount`; None past the plan."""
    total = 0.0
    for stage in plan.stages:
        start, end = _stage_rates(stage)
        slope = (end - start) / stage.duration_s if stage.duration_s > 0 else 0.0
        stage_total = start * stage.duration_s + slope * stage.duration_s**2 / 2.0
        if total + stage_total >= amount and stage_total > 0:
            need = amount - total
            if abs(slope) < 1e-12:
                return stage.start_s + need / start
            # solve slope/2 * x^2 + start * x - need = 0 for the root inside the stage
            root = (-start + math.sqrt(max(start * start + 2.0 * slope * need, 0.0))) / slope
            return stage.start_s + min(max(root, 0.0), stage.duration_s)
        total += stage_total
    return None


def arrival_offsets(
    plan: RunPlan,
    process: ArrivalProcess,
    share: float = 1.0,
    phase: float = 0.0,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Intended arrival offsets (seconds from the run start) for a `share` of the plan's rate.

    uniform: evenly spaced, at the points where the integrated full rate reaches m + 0.5;
    a driver with `share` 1/N and `phase` i/N takes every N-th of them (m = kN + i), so N
    drivers interleave into the full uniform schedule. poisson: gaps of Exp(1)/share in
    integrated-rate units (a non-homogeneous Poisson process); N drivers at rate/N add up
    to a Poisson process at the full rate.
    """
    if share <= 0:
        return
    generator = rng or random.Random()
    amount = 0.0
    index = 0
    while True:
        if process == "uniform":
            amount = (index + phase) / share + 0.5
            index += 1
        else:
            amount += generator.expovariate(1.0) / share
        offset = _offset_of(plan, amount)
        if offset is None:
            return
        yield offset
