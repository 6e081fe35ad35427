"""The search for a target's knee: the highest sustained arrival rate at which every latency
and error objective still holds.

Each probe is one step of load at a fixed arrival rate, judged on its own (the caller runs
it: a run of the capacity scenario at that rate, abort on breach). The search climbs in
coarse steps, each `growth` times the last, until a step breaks; then it bisects between
the last rate that held and the first that broke (geometric midpoints: the interval is
relative) until the knee is known to `precision`, a half-width relative to the interval's
middle. Two things end a search without a knee, and the result says which:

- the generator cannot offer the next rate (its delivery fell short, not the target's): the
  knee is *at least* the highest rate that held, the generator's limit, never a made-up figure;
- the search's ceiling is reached and held: at least the ceiling.

A first step that already breaks makes the search step down instead, until a rate holds or
the floor is reached ("below the floor").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from harness.rundir import CapacityStep


class KneeBound(StrEnum):
    """What bounds the result from above."""

    FOUND = "found"
    """A rate held and a higher one broke: the knee lies between them."""
    GENERATOR = "generator"
    """The generator could not offer more: the knee is at least the highest rate that held."""
    CEILING = "ceiling"
    """The search's highest rate held: the knee is at least that."""
    FLOOR = "floor"
    """Even the lowest rate broke: the knee is below it."""
    STEPS = "steps"
    """The step budget ran out before the interval was narrow enough (still an interval)."""


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """How the search climbs and how finely it refines."""

    start_rate_per_s: float
    """The first step's rate."""
    ceiling_rate_per_s: float
    """The highest rate the search offers."""
    growth: float = 2.0
    """Each coarse step offers this many times the previous rate."""
    precision: float = 0.05
    """Refine until (broke - held) / (broke + held) is at most this (±5 %)."""
    floor_rate_per_s: float = 1.0
    """Stepping down below this stops the search."""
    max_steps: int = 20
    """No search runs more steps than this."""

    def __post_init__(self) -> None:
        if not 0 < self.floor_rate_per_s <= self.start_rate_per_s <= self.ceiling_rate_per_s:
            raise ValueError("expected 0 < floor <= start <= ceiling rates")
        if self.growth <= 1.0:
            raise ValueError("growth must be above 1")
        if not 0 < self.precision < 1:
            raise ValueError("precision must be a fraction between 0 and 1")
        if self.max_steps < 1:
            raise ValueError("max_steps must be at least 1")


@dataclass(frozen=True, slots=True)
class Knee:
    """Where the objectives stopped holding, with what bounds the answer."""

    bound: KneeBound
    """What ended the search."""
    held_rate_per_s: float | None
    """The highest rate that held (the knee is at least this); None when none held."""
    broke_rate_per_s: float | None
    """The lowest rate that broke (the knee is below this); None when none broke."""
    limiting_objective: str
    """The objective that broke at `broke_rate_per_s` ("" when none broke)."""
    steps: tuple[CapacityStep, ...]
    """Every step, in the order it ran."""

    @property
    def relative_half_width(self) -> float | None:
        """(broke - held) / (broke + held): the knee's uncertainty; None without both ends."""
        if self.held_rate_per_s is None or self.broke_rate_per_s is None:
            return None
        total = self.broke_rate_per_s + self.held_rate_per_s
        return (self.broke_rate_per_s - self.held_rate_per_s) / total

    @property
    def knee_step(self) -> CapacityStep | None:
        """The step at the highest rate that held (its server CPU and memory are the knee's)."""
        held = [step for step in self.steps if step.held and step.delivered]
        return max(held, key=lambda step: step.rate_per_s) if held else None

    def describe(self) -> str:
        """One line: the knee and what bounds it."""
        held, broke = self.held_rate_per_s, self.broke_rate_per_s
        if self.bound is KneeBound.FLOOR:
            return f"below {_rate(broke)}: even the lowest rate broke {self.limiting_objective}"
        if self.bound is KneeBound.GENERATOR:
            return f"at least {_rate(held)}, the generator's limit (no objective broke)"
        if self.bound is KneeBound.CEILING:
            return f"at least {_rate(held)}, the search's ceiling (no objective broke)"
        if self.bound is KneeBound.STEPS and broke is None:
            return f"at least {_rate(held)}: the step budget ran out before a step broke"
        if self.bound is KneeBound.STEPS:
            return (
                f"between {_rate(held)} and {_rate(broke)} ({self.limiting_objective} broke): "
                "the step budget ran out before the profile's precision"
            )
        return f"between {_rate(held)} and {_rate(broke)}: {self.limiting_objective} broke first"


def _rate(rate_per_s: float | None) -> str:
    return "no rate" if rate_per_s is None else f"{rate_per_s:,.0f}/s"


def find_knee(plan: SearchPlan, probe: Callable[[float], CapacityStep]) -> Knee:
    """Run steps through `probe` (rate → its judged step) until the knee is bounded."""
    steps: list[CapacityStep] = []
    held: CapacityStep | None = None
    broke: CapacityStep | None = None

    def run(rate_per_s: float) -> CapacityStep:
        step = probe(rate_per_s)
        steps.append(step)
        return step

    def knee(bound: KneeBound) -> Knee:
        return Knee(
            bound=bound,
            held_rate_per_s=held.rate_per_s if held else None,
            broke_rate_per_s=broke.rate_per_s if broke else None,
            limiting_objective=broke.limiting_objective if broke else "",
            steps=tuple(steps),
        )

    rate = plan.start_rate_per_s
    while True:  # coarse: climb until a step breaks
        step = run(rate)
        if not step.delivered:
            return knee(KneeBound.GENERATOR)
        if not step.held:
            broke = step
            break
        held = step
        if rate >= plan.ceiling_rate_per_s:
            return knee(KneeBound.CEILING)
        if len(steps) >= plan.max_steps:
            return knee(KneeBound.STEPS)
        rate = min(rate * plan.growth, plan.ceiling_rate_per_s)

    while held is None:  # the first step broke: step down until one holds
        rate /= plan.growth
        if rate < plan.floor_rate_per_s:
            return knee(KneeBound.FLOOR)
        if len(steps) >= plan.max_steps:
            return knee(KneeBound.STEPS)
        step = run(rate)
        if not step.delivered:
            return knee(KneeBound.GENERATOR)
        if step.held:
            held = step
        else:
            broke = step

    assert broke is not None  # the climb ends at a broken step or returns
    while _too_wide(held.rate_per_s, broke.rate_per_s, plan.precision):  # refine
        if len(steps) >= plan.max_steps:
            return knee(KneeBound.STEPS)
        step = run(math.sqrt(held.rate_per_s * broke.rate_per_s))
        if not step.delivered:
            return knee(KneeBound.GENERATOR)
        if step.held:
            held = step
        else:
            broke = step
    return knee(KneeBound.FOUND)


def _too_wide(held_rate_per_s: float, broke_rate_per_s: float, precision: float) -> bool:
    return (broke_rate_per_s - held_rate_per_s) / (broke_rate_per_s + held_rate_per_s) > precision
