"""The engine against the real reference backend: built-in journeys, and accuracy under the
backend's own fault injection."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.plan import BUILTIN_JOURNEYS, JourneyPlan, RunPlan, Scale, StagePlan
from tests.e2e.conftest import EngineRun, set_faults

pytestmark = pytest.mark.slow


def test_every_builtin_journey_runs_clean_against_the_backend(
    start_engine: Callable[..., EngineRun], backend_url: str
) -> None:
    set_faults(backend_url, [])
    plan = RunPlan(
        scenario="builtin",
        profile="test",
        scale=Scale(),
        model="closed",
        stages=(StagePlan("hold", 0.0, 5.0, users_start=9, users_end=9),),
        journeys=tuple(
            JourneyPlan(name, 1.0, "builtin", think_time_min_s=0.1, think_time_max_s=0.2)
            for name in BUILTIN_JOURNEYS
        ),
    )
    timeline = start_engine(plan, backend_url).wait(timeout_s=40)
    expected = {op for journey in BUILTIN_JOURNEYS.values() for op in journey.operations}
    assert set(timeline.operations()) == expected
    for op in expected:
        counts = timeline.counts(op)
        assert counts.total > 0, op
        assert counts.failed == 0, (op, timeline.errors(op))


def _open_plan(*journeys: JourneyPlan) -> RunPlan:
    return RunPlan(
        scenario="faults",
        profile="test",
        scale=Scale(),
        model="open",
        stages=(StagePlan("hold", 0.0, 5.0, rate_start_per_s=15.0, rate_end_per_s=15.0),),
        journeys=journeys,
        arrivals="uniform",
    )


def test_injected_latency_is_measured_within_one_percent(
    start_engine: Callable[..., EngineRun], backend_url: str
) -> None:
    # the truth is the injected latency plus the backend's own work for that operation,
    # measured at the same rate just before
    set_faults(backend_url, [])
    base = start_engine(
        _open_plan(JourneyPlan("inventory", 1.0, "builtin")), backend_url, name="base"
    ).wait(timeout_s=30)
    set_faults(
        backend_url,
        [
            {"route": "inventory_check", "latency": {"kind": "fixed", "ms": 3000}},
            {"route": "price_lookup", "latency": {"kind": "fixed", "ms": 1485}},
            {"route": "recommendations", "latency": {"kind": "fixed", "ms": 1515}},
        ],
    )
    try:
        plan = _open_plan(
            JourneyPlan("inventory", 2.0, "builtin"),
            JourneyPlan("pricing", 1.0, "builtin"),
            JourneyPlan("recommendations", 1.0, "builtin"),
        )
        timeline = start_engine(plan, backend_url, name="faulted").wait(timeout_s=40)
    finally:
        set_faults(backend_url, [])
    assert timeline.counts("inventory_check").ok > 25
    for percentile in (50.0, 95.0):
        own_work = base.percentile_ms("inventory_check", percentile)
        measured = timeline.percentile_ms("inventory_check", percentile)
        assert own_work is not None
        assert measured is not None
        truth = 3000.0 + own_work
        assert abs(measured - truth) <= 0.01 * truth, (percentile, measured, truth)
    # 1485 ms and 1515 ms, 1 % either side of a 1500 ms limit, stay on their own sides
    below = timeline.percentile_ms("price_lookup", 50.0)
    above = timeline.percentile_ms("recommendations", 50.0)
    assert below is not None
    assert above is not None
    assert below < 1500.0 < above
