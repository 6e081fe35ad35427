"""The engine's closed model, flow journeys and checks, and a clean stop on SIGTERM."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.plan import (
    ExtractPlan,
    JourneyPlan,
    ResponseCheckPlan,
    RunPlan,
    Scale,
    StagePlan,
    StepPlan,
)
from harness.spec import LocustOptions, plan_run
from harness.timeline import read_engine_summary, read_events, read_load
from tests.e2e.conftest import EngineRun

pytestmark = pytest.mark.slow


def _closed_plan(journeys: tuple[JourneyPlan, ...], users: int, duration_s: float) -> RunPlan:
    return RunPlan(
        scenario="engine-test",
        profile="test",
        scale=Scale(),
        model="closed",
        stages=(StagePlan("hold", 0.0, duration_s, users_start=users, users_end=users),),
        journeys=journeys,
        request_timeout_s=5.0,
    )


FLOWS = (
    JourneyPlan(
        name="lookup",
        weight=2.0,
        kind="flow",
        think_time_min_s=0.05,
        think_time_max_s=0.1,
        steps=(
            StepPlan(
                operation="item_list",
                method="GET",
                path="/items",
                extract=(ExtractPlan("item", "json", "items.0.id"),),
                check=ResponseCheckPlan(json_path="items.0.id"),
            ),
            StepPlan(
                operation="item_detail",
                method="GET",
                path="/items/{item}",
                check=ResponseCheckPlan(json_path="name", body_contains="kettle"),
            ),
        ),
    ),
    JourneyPlan(
        name="missing",
        weight=1.0,
        kind="flow",
        think_time_min_s=0.05,
        think_time_max_s=0.1,
        variables={"item": [8, 9]},
        steps=(
            StepPlan(
                operation="item_missing",
                method="GET",
                path="/items/{item}",
                check=ResponseCheckPlan(status=(404,)),
            ),
        ),
    ),
    JourneyPlan(
        name="teapot",
        weight=1.0,
        kind="flow",
        think_time_min_s=0.05,
        think_time_max_s=0.1,
        steps=(
            StepPlan(
                operation="item_teapot",
                method="GET",
                path="/items",
                check=ResponseCheckPlan(body_contains="teapot"),
            ),
        ),
    ),
)


def test_closed_model_runs_flows_with_extraction_and_checks(
    start_engine: Callable[..., EngineRun],
    target_url: str,
) -> None:
    run = start_engine(_closed_plan(FLOWS, users=4, duration_s=4.0), target_url)
    timeline = run.wait(timeout_s=30)
    ops = set(timeline.operations())
    assert {"item_list", "item_detail", "item_missing", "item_teapot", "journey.lookup"} <= ops
    assert "journey.missing" not in ops  # one-step journeys are not timed twice
    detail = timeline.counts("item_detail")
    assert detail.ok > 10
    assert detail.failed == 0
    assert timeline.counts("item_detail").ok == timeline.counts("journey.lookup").ok
    missing = timeline.counts("item_missing")
    assert missing.ok > 5  # the declared 404 is the expected answer
    assert missing.http_4xx == 0
    teapot = timeline.counts("item_teapot")
    assert teapot.check_failed == teapot.total > 5
    assert timeline.errors("item_teapot") == {"body does not contain 'teapot'": teapot.total}
    assert timeline.histogram("item_list", service=True).count == 0
    samples = read_load(run.run_dir)
    assert max(sample.users or 0 for sample in samples) == 4
    summary = read_engine_summary(run.run_dir)
    assert summary is not None
    assert summary.status == "completed"
    assert next(e.kind for e in read_events(run.run_dir)) == "stage_started"


def test_sigterm_stops_the_load_and_leaves_an_aborted_readable_run(
    start_engine: Callable[..., EngineRun],
    target_url: str,
) -> None:
    run = start_engine(_closed_plan(FLOWS, users=4, duration_s=120.0), target_url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(read_load(run.run_dir)) < 2:
        time.sleep(0.2)
    assert len(read_load(run.run_dir)) >= 2
    run.primary.send_signal(signal.SIGTERM)
    timeline = run.wait(timeout_s=20)
    summary = read_engine_summary(run.run_dir)
    assert summary is not None
    assert summary.status == "aborted"
    assert summary.ended_at - summary.started_at < 60
    assert timeline.counts().total > 10
    assert "abort" in [e.kind for e in read_events(run.run_dir)]


def test_a_team_locustfile_runs_under_perfctl_measurement(
    start_engine: Callable[..., EngineRun],
    target_url: str,
) -> None:
    locustfile = Path(__file__).resolve().parent / "_team_locustfile.py"
    plan = plan_run(
        str(locustfile),
        target="http://127.0.0.1",
        locust=LocustOptions(users=3, spawn_rate_per_s=3.0, run_time_s=4.0),
    )
    run = start_engine(plan, target_url)
    timeline = run.wait(timeout_s=30)
    assert set(timeline.operations()) == {"team_items", "team_missing"}
    items = timeline.counts("team_items")
    assert items.ok > 10
    assert items.failed == 0
    assert timeline.counts("team_missing").ok > 3  # marked successful by the team's code
    assert max(sample.users or 0 for sample in read_load(run.run_dir)) == 3


def test_slow_answers_are_timeouts_and_a_dead_port_is_connection_errors(
    start_engine: Callable[..., EngineRun],
    target_url: str,
) -> None:
    plan = RunPlan(
        scenario="engine-test",
        profile="test",
        scale=Scale(),
        model="closed",
        stages=(StagePlan("hold", 0.0, 3.0, users_start=2, users_end=2),),
        journeys=(
            JourneyPlan(
                name="slow",
                weight=1.0,
                kind="flow",
                think_time_min_s=0.0,
                think_time_max_s=0.0,
                steps=(StepPlan(operation="slow", method="GET", path="/fixed/5000"),),
            ),
        ),
        request_timeout_s=0.5,
    )
    timeline = start_engine(plan, target_url, name="slow").wait(timeout_s=30)
    slow = timeline.counts("slow")
    assert slow.timeout == slow.total >= 4
    p50 = timeline.percentile_ms("slow", 50)
    assert p50 is not None
    assert 500.0 <= p50 < 700.0  # the time until the timeout
    dead = start_engine(plan, "http://127.0.0.1:9", name="dead").wait(timeout_s=30)
    refused = dead.counts("slow")
    assert refused.connection_error == refused.total > 10
    assert dead.histogram("slow").count == 0  # connection errors carry no latency
