"""The engine measures the truth: real Locust processes against a target of known latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from harness.plan import JourneyPlan, ResponseCheckPlan, RunPlan, Scale, StagePlan, StepPlan
from harness.timeline import read_engine_summary, read_events, read_load
from tests.e2e.conftest import EngineRun, fetch_json

pytestmark = pytest.mark.slow


def _flow(name: str, path: str, weight: float = 1.0, **check: object) -> JourneyPlan:
    return JourneyPlan(
        name=name,
        weight=weight,
        kind="flow",
        think_time_min_s=0.0,
        think_time_max_s=0.0,
        steps=(
            StepPlan(operation=name, method="GET", path=path, check=ResponseCheckPlan(**check)),
        ),  # type: ignore[arg-type]
    )


def _open_plan(
    journeys: tuple[JourneyPlan, ...],
    rate_per_s: float,
    duration_s: float,
    *,
    connections: int | None = None,
) -> RunPlan:
    return RunPlan(
        scenario="engine-test",
        profile="test",
        scale=Scale(),
        model="open",
        stages=(
            StagePlan(
                "steady", 0.0, duration_s, rate_start_per_s=rate_per_s, rate_end_per_s=rate_per_s
            ),
        ),
        journeys=journeys,
        arrivals="uniform",
        connections=connections,
        request_timeout_s=10.0,
    )


def _exact_percentile(values: list[float], percentile: float) -> float:
    # HDR's rank rule: the value at rank round(p/100 x n), at least the first
    ordered = sorted(values)
    rank = max(int(percentile / 100.0 * len(ordered) + 0.5), 1)
    return ordered[rank - 1]


def test_percentiles_within_one_percent_and_limits_told_apart(
    start_engine: Callable[..., EngineRun], target_url: str
) -> None:
    fetch_json(f"{target_url}/truth")  # forget earlier delays
    plan = _open_plan(
        (
            _flow("lognormal", "/lognormal/2000/5000", weight=4.0),
            _flow("below", "/fixed/1485"),
            _flow("above", "/fixed/1515"),
        ),
        # a gentle rate: the target's own queueing on a busy machine is not the engine's error
        rate_per_s=15.0,
        duration_s=8.0,
    )
    timeline = start_engine(plan, target_url).wait(timeout_s=40)
    truth = fetch_json(f"{target_url}/truth")
    assert isinstance(truth, dict)
    applied: list[float] = truth["applied_ms"]
    # the same requests on both sides: the engine's percentiles against the delays applied
    assert timeline.counts("lognormal").ok == len(applied) > 50
    for percentile in (50.0, 95.0, 99.0):
        measured = timeline.percentile_ms("lognormal", percentile)
        expected = _exact_percentile(applied, percentile)
        assert measured is not None
        assert abs(measured - expected) <= 0.01 * expected, (percentile, measured, expected)
    # 1485 ms and 1515 ms, 1 % either side of a 1500 ms limit, fall on their own sides
    below = timeline.percentile_ms("below", 50.0)
    above = timeline.percentile_ms("above", 50.0)
    assert below is not None
    assert above is not None
    assert below < 1500.0 < above


def test_coordinated_omission_is_corrected_in_the_open_model(
    start_engine: Callable[..., EngineRun],
    target_url: str,
) -> None:
    # the target holds every request arriving in the first second of each 4 s; with two
    # connections the arrivals during a stall wait unsent: the corrected latency shows the
    # stall, the service time (from the actual send) does not
    plan = _open_plan(
        (_flow("stalled", "/stall/1000/4"),), rate_per_s=100.0, duration_s=8.0, connections=2
    )
    run = start_engine(plan, target_url)
    timeline = run.wait(timeout_s=40)
    counts = timeline.counts("stalled")
    assert counts.ok == 800
    corrected_p99 = timeline.percentile_ms("stalled", 99)
    service_p99 = timeline.percentile_ms("stalled", 99, service=True)
    assert corrected_p99 is not None
    assert service_p99 is not None
    assert 800.0 <= corrected_p99 <= 1400.0
    assert service_p99 < 100.0
    summary = read_engine_summary(run.run_dir)
    assert summary is not None
    assert summary.status == "completed"
    assert summary.planned_arrivals == summary.started_arrivals == 800
    assert summary.dropped_arrivals == 0


def test_one_and_two_workers_measure_the_same_load(
    start_engine: Callable[..., EngineRun],
    target_url: str,
) -> None:
    plan = _open_plan((_flow("fixed", "/fixed/100"),), rate_per_s=60.0, duration_s=5.0)
    one = start_engine(plan, target_url, workers=1, name="one").wait(timeout_s=40)
    two_run = start_engine(plan, target_url, workers=2, name="two")
    two = two_run.wait(timeout_s=40)
    assert one.counts("fixed").ok == two.counts("fixed").ok == 300
    p_one = one.percentile_ms("fixed", 50.0)
    p_two = two.percentile_ms("fixed", 50.0)
    assert p_one is not None
    assert p_two is not None
    assert 100.0 <= p_one <= 115.0
    assert 100.0 <= p_two <= 115.0
    samples = read_load(two_run.run_dir)
    assert max(sample.workers for sample in samples) == 2
    assert sum(sample.started_arrivals or 0 for sample in samples) == 300
    assert set(samples[1].cpu_percent) == {"master", "worker-1", "worker-2"}


def test_a_lost_worker_is_recorded_and_the_rate_kept(
    start_engine: Callable[..., EngineRun],
    target_url: str,
) -> None:
    plan = _open_plan((_flow("fixed", "/fixed/10"),), rate_per_s=40.0, duration_s=16.0)
    run = start_engine(plan, target_url, workers=2, name="lost")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(read_load(run.run_dir)) < 3:
        time.sleep(0.2)
    run.processes[2].kill()  # worker-2 dies without a word
    timeline = run.wait(timeout_s=45)
    events = [event.kind for event in read_events(run.run_dir)]
    assert "worker_lost" in events
    assert "behind_plan" in events  # the seconds at half rate before the driver moved
    summary = read_engine_summary(run.run_dir)
    assert summary is not None
    assert summary.workers_lost == 1
    assert summary.status == "completed"
    # Locust hands the lost worker's arrival driver to the survivor: the last seconds run
    # at the full rate again
    per_second = timeline.requests_per_second("fixed")
    last_seconds = [per_second.get(int(summary.started_at) + s, 0) for s in range(12, 15)]
    assert all(count >= 36 for count in last_seconds), last_seconds


def test_arrivals_beyond_the_concurrency_cap_are_dropped_and_counted(
    start_engine: Callable[..., EngineRun],
    target_url: str,
) -> None:
    plan = replace(
        _open_plan((_flow("slow", "/fixed/500"),), rate_per_s=20.0, duration_s=6.0),
        max_concurrency=2,
    )
    run = start_engine(plan, target_url)
    timeline = run.wait(timeout_s=30)
    summary = read_engine_summary(run.run_dir)
    assert summary is not None
    assert summary.planned_arrivals == 120
    counts = timeline.counts("slow")
    assert summary.started_arrivals == counts.total - counts.dropped
    assert summary.dropped_arrivals == 120 - (summary.started_arrivals or 0)
    # both slots wait on the target's answers: the target's drops are failed requests
    assert counts.dropped == summary.dropped_by_target > 0
    # two slots of 0.5 s journeys start about 4 a second: most arrivals are dropped, visibly
    assert 15 <= (summary.started_arrivals or 0) <= 30
    assert sum(sample.dropped_arrivals for sample in read_load(run.run_dir)) == (
        summary.dropped_arrivals
    )
    assert summary.behind_plan
    assert "behind_plan" in [event.kind for event in read_events(run.run_dir)]
