"""Open-model arrivals dropped at the concurrency cap: whose failure each one is.

Pure functions (no locust import), used by the arrival driver at the moment of a drop.
"""

from __future__ import annotations

from typing import Literal

from harness.plan import JourneyPlan

SCHEDULER_ON_TIME_S = 0.1
"""An arrival handled later than this after its intended time finds the scheduler late."""

DropCause = Literal["target", "generator"]
"""Who made an arrival be dropped: the target (a failed request) or the generator (shortfall)."""


def drop_cause(busy_slots: int, awaiting_response: int, late_s: float) -> DropCause:
    """Who caused an arrival that is dropped because every journey slot is busy.

    The rule, applied at the moment of the drop: it is the **target's** when every busy slot
    is awaiting the response to a request it has sent (`awaiting_response >= busy_slots`)
    and the scheduler is on time (the arrival is handled less than `SCHEDULER_ON_TIME_S`
    after its intended time). The slots are then full only because the target has not
    answered: the arrival counts as a failed request, outcome `dropped`, of the first
    operation of its journey. Otherwise it is the **generator's** shortfall, not a request:
    some slot is in a step's think time (the cap is too small for the plan), or waiting for
    one of the plan's `connections`, or the scheduler itself is late (a CPU-starved process,
    where responses that have arrived are not read yet).
    """
    if busy_slots > 0 and awaiting_response >= busy_slots and late_s < SCHEDULER_ON_TIME_S:
        return "target"
    return "generator"


def first_operation(journey: JourneyPlan) -> str | None:
    """The operation of a journey's first request (what a dropped arrival counts against)."""
    if journey.steps:
        return journey.steps[0].operation
    return journey.operations[0] if journey.operations else None
