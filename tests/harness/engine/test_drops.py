"""Whose failure an arrival dropped at the concurrency cap is: the target's or the generator's."""

from __future__ import annotations

import pytest

from harness.engine._drops import SCHEDULER_ON_TIME_S, drop_cause, first_operation
from harness.plan import JourneyPlan, StepPlan


@pytest.mark.parametrize(
    ("busy", "awaiting", "late_s", "cause"),
    [
        # every busy slot waits on the target's answer, the scheduler is on time
        (10, 10, 0.0, "target"),
        (10, 10, SCHEDULER_ON_TIME_S / 2, "target"),
        # one slot is in a step's think time (or waiting for a connection): the cap is the
        # generator's problem, not the target's
        (10, 9, 0.0, "generator"),
        (10, 0, 0.0, "generator"),
        # the scheduler itself is late: responses may be there, unread
        (10, 10, SCHEDULER_ON_TIME_S, "generator"),
        (10, 10, 2.0, "generator"),
        (0, 0, 0.0, "generator"),
    ],
)
def test_drop_cause(busy: int, awaiting: int, late_s: float, cause: str) -> None:
    assert drop_cause(busy, awaiting, late_s) == cause


def test_a_drop_counts_against_the_first_request_of_its_journey() -> None:
    flow = JourneyPlan(
        "buy",
        1.0,
        "flow",
        steps=(StepPlan("find", "GET", "/find"), StepPlan("pay", "POST", "/pay")),
    )
    builtin = JourneyPlan(
        "checkout", 1.0, "builtin", operations=("product_search", "cart_add", "journey.checkout")
    )
    assert first_operation(flow) == "find"
    assert first_operation(builtin) == "product_search"
    assert first_operation(JourneyPlan("team", 1.0, "locustfile")) is None
