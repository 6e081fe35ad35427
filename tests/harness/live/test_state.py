"""LiveState: the figures the page shows, from the merged seconds fed in."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.live import LiveState
from harness.live import _state as state_module
from harness.timeline import LoadSample, WindowLine, WindowRecord, parse_python
from tests.harness._synthetic_run import START_T, open_plan
from tests.harness.live._support import GrowingRun


def _line(offset_s: int, op: str, latencies_ms: list[float], failed: int = 0) -> WindowLine:
    record = WindowRecord(START_T + offset_s, op)
    for latency in latencies_ms:
        record.record("ok", latency)
    for _ in range(failed):
        record.record("timeout", 5000.0)
    return parse_python(WindowLine, record.to_line())


def _load(offset_s: int, **fields: object) -> LoadSample:
    defaults: dict[str, object] = {"stage": "steady", "achieved_rps": 0.0, "workers": 2}
    return LoadSample.from_dict({**defaults, **fields, "t": START_T + offset_s})


@pytest.fixture
def state(tmp_path: Path) -> LiveState:
    run = GrowingRun(tmp_path / "r")
    live = LiveState()
    live.start(run.record(), run.plan)
    return live


def test_recent_figures_cover_the_last_seconds_and_totals_the_whole_run(state: LiveState) -> None:
    # 20 slow seconds, then 10 fast ones: the last 10 s are fast, the run as a whole is not
    for offset in range(30):
        latency = 500.0 if offset < 20 else 10.0
        state.add([_load(offset, users=10)], [_line(offset, "search", [latency] * 10)])
    snapshot = state.snapshot(START_T + 30)
    (search,) = snapshot["operations"]
    assert search["recent"]["rps"] == 10.0
    assert search["recent"]["p95_ms"] == pytest.approx(10.0, rel=0.01)
    assert search["total"]["requests"] == 300
    assert search["total"]["p50_ms"] == pytest.approx(500.0, rel=0.01)
    assert snapshot["recent_s"] == 10
    assert snapshot["totals"]["rps"] == 10.0


def test_journeys_are_shown_but_not_counted_as_requests(state: LiveState) -> None:
    state.add(
        [_load(0, users=5)],
        [_line(0, "search", [10.0] * 4, failed=1), _line(0, "journey.browse", [30.0] * 4)],
    )
    snapshot = state.snapshot(START_T + 1)
    assert snapshot["totals"]["requests"] == 5
    assert snapshot["totals"]["failed"] == 1
    assert snapshot["totals"]["outcomes"] == {"ok": 4, "timeout": 1}
    names = {op["name"]: op["journey"] for op in snapshot["operations"]}
    assert names == {"journey.browse": True, "search": False}
    (point,) = state.history
    assert point["errors"] == {"timeout": 1}
    assert set(point["p95_ms"]) == {"journey.browse", "search"}
    assert point["cpu_percent"] == {}
    assert point["users"] == 5


def test_a_late_line_counts_in_the_totals_without_a_second_chart_point(state: LiveState) -> None:
    state.add([_load(0)], [_line(0, "search", [10.0] * 3)])
    state.add([_load(1)], [_line(1, "search", [10.0] * 3)])
    state.add([], [_line(0, "search", [10.0] * 2)])  # a worker's data for second 0, late
    assert state.totals().total == 8
    assert [point["t"] for point in state.history] == [START_T, START_T + 1]


def test_the_open_model_counts_planned_started_and_dropped_arrivals(tmp_path: Path) -> None:
    run = GrowingRun(tmp_path / "open", plan=open_plan())
    state = LiveState()
    state.start(run.record(), run.plan)
    for offset in range(3):
        sample = _load(offset, planned_arrivals=10, started_arrivals=9, dropped_arrivals=1)
        state.add([sample], [_line(offset, "search", [10.0] * 9)])
    snapshot = state.snapshot(START_T + 3)
    assert snapshot["arrivals"] == {"planned": 30, "started": 27, "dropped": 3}
    assert snapshot["load"]["users"] is None


def test_history_is_capped_and_clients_catch_up_from_where_they_were(
    state: LiveState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "HISTORY_CAP", 5)
    for offset in range(8):
        state.add([_load(offset)], [])
    assert len(state.history) == 5
    points, end = state.points_since(0)  # a new page: every point kept
    assert [p["t"] - START_T for p in points] == [3, 4, 5, 6, 7]
    assert end == 8
    state.add([_load(8)], [])
    points, end = state.points_since(end)  # an open page: only the new one
    assert [p["t"] - START_T for p in points] == [8]
    assert end == 9


def test_before_the_run_starts_the_snapshot_says_so() -> None:
    snapshot = LiveState().snapshot(START_T)
    assert snapshot["run"] is None
    assert snapshot["status"] == "starting"
    assert snapshot["operations"] == []
    assert snapshot["ended"] is None
