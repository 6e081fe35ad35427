"""The collector: exact merge across sources, finished seconds, late data, load lines, health."""

from __future__ import annotations

import time
from pathlib import Path

from harness.engine._collector import SUSTAINED_S, Collector
from harness.engine._recorder import ArrivalCounts, Drained
from harness.plan import JourneyPlan, RunPlan, Scale, StagePlan
from harness.timeline import RunDirWriter, WindowRecord, read_events, read_load, read_timeline


def _plan(model: str = "open") -> RunPlan:
    stage = (
        StagePlan("steady", 0.0, 3600.0, rate_start_per_s=10.0, rate_end_per_s=10.0)
        if model == "open"
        else StagePlan("steady", 0.0, 3600.0, users_start=10, users_end=10)
    )
    return RunPlan(
        scenario="s",
        profile="p",
        scale=Scale(),
        model=model,  # type: ignore[arg-type]
        stages=(stage,),
        journeys=(JourneyPlan("j", 1.0, "builtin"),),
    )


def _window(t: int, latencies_ms: list[float], op: str = "search") -> WindowRecord:
    window = WindowRecord(t, op)
    for value in latencies_ms:
        window.record("ok", value, service_ms=value / 2)
    return window


def test_two_sources_merge_exactly_and_seconds_wait_for_both(tmp_path: Path) -> None:
    start = int(time.time()) - 2
    collector = Collector(RunDirWriter(tmp_path), _plan(), float(start))
    collector.receive(
        "w1",
        Drained(start + 2, [_window(start, [10.0, 20.0]), _window(start + 1, [30.0])]),
        label="worker-1",
        cpu_percent=40.0,
    )
    collector.receive(
        "w2", Drained(start + 1, [_window(start, [40.0])]), label="worker-2", cpu_percent=50.0
    )
    collector.flush({"master": 1.0})
    timeline = read_timeline(tmp_path)
    # w2 has only reported up to start + 1: the second after is held back
    assert timeline.requests_per_second() == {start: 3}
    collector.receive(
        "w2", Drained(start + 2, [_window(start + 1, [50.0])]), label="worker-2", cpu_percent=50.0
    )
    collector.flush({"master": 1.0})
    assert timeline.requests_per_second() == {start: 3, start + 1: 2}
    merged = timeline.histogram("search")
    direct = _window(0, [10.0, 20.0, 30.0, 40.0, 50.0]).latency
    assert merged.buckets_ms() == direct.buckets_ms()
    service = timeline.histogram("search", service=True)
    assert service.count == 5
    samples = read_load(tmp_path)
    assert [s.workers for s in samples] == [2, 2]
    assert samples[0].cpu_percent == {"master": 1.0, "worker-1": 40.0, "worker-2": 50.0}


def test_late_data_is_appended_and_added_by_the_reader(tmp_path: Path) -> None:
    start = int(time.time()) - 10
    collector = Collector(RunDirWriter(tmp_path), _plan(), float(start))
    collector.receive("w1", Drained(start + 5, [_window(start, [1.0])]), label="w", cpu_percent=0)
    collector.flush({})
    collector.receive("w1", Drained(start + 6, [_window(start, [2.0])]), label="w", cpu_percent=0)
    timeline = read_timeline(tmp_path)
    assert timeline.counts("search").ok == 2
    assert len(timeline.series("search")) == 1


def test_final_flush_writes_everything_and_engine_json(tmp_path: Path) -> None:
    start = int(time.time())
    collector = Collector(RunDirWriter(tmp_path), _plan(), float(start))
    future = Drained(start + 1e9, [_window(start, [1.0]), _window(start + 1, [1.0])])
    future.arrivals = {start: ArrivalCounts(10, 9, 1)}
    collector.receive("local", future, label="local", cpu_percent=5.0)
    summary = collector.finish("aborted", "test", master_cpu={}, workers_lost=0, locust_version="x")
    assert read_timeline(tmp_path).counts("search").ok == 2
    samples = read_load(tmp_path)
    assert samples[0].planned_arrivals == 10  # the plan's 10/s
    assert samples[0].dropped_arrivals == 1
    # an aborted run planned only the arrivals up to its end
    assert summary.planned_arrivals is not None
    assert summary.planned_arrivals <= 10
    assert summary.started_arrivals == 9
    assert summary.dropped_arrivals == 1
    assert (tmp_path / "engine.json").exists()
    assert len(samples) <= 3  # a final flush never writes seconds that have not come


def test_sustained_saturation_and_falling_behind_are_events(tmp_path: Path) -> None:
    start = int(time.time()) - 20
    collector = Collector(RunDirWriter(tmp_path), _plan(), float(start))
    for second in range(SUSTAINED_S + 2):
        batch = Drained(start + second + 1, [_window(start + second, [1.0])])
        batch.arrivals = {start + second: ArrivalCounts(planned=10, started=6, dropped=4)}
        collector.receive("local", batch, label="local", cpu_percent=97.0)
        collector.flush({})
    kinds = [event.kind for event in read_events(tmp_path)]
    assert kinds.count("generator_saturated") == 1
    assert kinds.count("behind_plan") == 1
    assert collector.saturated
    assert collector.behind_plan


def test_a_generator_keeping_up_raises_no_event(tmp_path: Path) -> None:
    start = int(time.time()) - 20
    collector = Collector(RunDirWriter(tmp_path), _plan("closed"), float(start))
    for second in range(SUSTAINED_S + 4):
        collector.note_users(start + second, 10)
    for second in range(SUSTAINED_S + 4):
        batch = Drained(start + second + 1, [_window(start + second, [1.0])])
        collector.receive("local", batch, label="local", cpu_percent=30.0)
        collector.flush({})
    assert read_events(tmp_path) == []
    assert not collector.behind_plan
    assert read_load(tmp_path)[0].users == 10


def test_drops_by_cause_reach_load_engine_json_and_one_event_per_episode(tmp_path: Path) -> None:
    start = int(time.time()) - 20
    collector = Collector(RunDirWriter(tmp_path), _plan(), float(start))
    drops = [(0, 0), (4, 3), (2, 2), (0, 0), (1, 0)]
    for second, (dropped, by_target) in enumerate(drops):
        batch = Drained(start + second + 1, [_window(start + second, [1.0])])
        batch.arrivals = {
            start + second: ArrivalCounts(10, 10 - dropped, dropped, dropped_by_target=by_target)
        }
        collector.receive("local", batch, label="local", cpu_percent=10.0)
    summary = collector.finish(
        "completed", "done", master_cpu={}, workers_lost=0, locust_version="x"
    )
    samples = read_load(tmp_path)[: len(drops)]
    assert [(s.dropped_arrivals, s.dropped_by_target) for s in samples] == drops
    assert (summary.dropped_arrivals, summary.dropped_by_target) == (7, 5)
    events = [e for e in read_events(tmp_path) if e.kind == "arrivals_dropped"]
    # seconds 1-2 (target and generator), then second 4 (generator), closed by the finish
    assert [e.t for e in events] == [start + 1, start + 4]
    assert events[0].detail.startswith("cause: target and generator; 6 of 20 planned")
    assert "5 by the target" in events[0].detail
    assert "1 by the generator" in events[0].detail
    assert events[1].detail.startswith("cause: generator; 1 of 10 planned")
