from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from harness.run._live import LiveProgress, RunProgress, print_summary
from harness.rundir import RunRecord
from harness.timeline import (
    EVENTS_FILE,
    LOAD_FILE,
    TIMELINE_FILE,
    EngineEvent,
    LineTail,
    LoadSample,
    WindowRecord,
)
from tests.harness.run._support import tiny_plan


def _window(t: int, op: str, latencies_ms: list[float], errors: int = 0) -> dict[str, object]:
    window = WindowRecord(t, op)
    for latency_ms in latencies_ms:
        window.record("ok", latency_ms)
    for _ in range(errors):
        window.record("http_5xx", 5.0, error="HTTP 503")
    return window.to_line()


def _append(path: Path, rows: list[dict[str, object]], tail: str = "") -> None:
    with path.open("a") as handle:
        handle.write("".join(json.dumps(row) + "\n" for row in rows) + tail)


def _load(t: int, stage: str, users: int, achieved_rps: float) -> dict[str, object]:
    sample = LoadSample(
        t=t,
        stage=stage,
        users=users,
        planned_arrivals=None,
        started_arrivals=None,
        dropped_arrivals=0,
        achieved_rps=achieved_rps,
        workers=1,
    )
    return sample.to_dict()


def _event(t: float) -> dict[str, object]:
    return {"t": t, "kind": "stage_started", "detail": "peak"}


def test_tail_reads_only_new_complete_lines_as_records(tmp_path: Path) -> None:
    path = tmp_path / EVENTS_FILE
    tail = LineTail(path, EngineEvent)
    assert tail.read_new() == []
    _append(path, [_event(1), _event(2)], tail='{"t": ')
    assert [event.t for event in tail.read_new()] == [1, 2]
    assert tail.read_new() == []
    with path.open("a") as handle:
        handle.write('3, "kind": "stage_started", "detail": ""}\n{"t": "x"}\n')
    assert [event.t for event in tail.read_new()] == [3]
    assert tail.malformed == 1


def test_progress_keeps_recent_windows_and_running_totals(tmp_path: Path) -> None:
    timeline = tmp_path / TIMELINE_FILE
    progress = RunProgress(tmp_path)
    _append(timeline, [_window(100, "search", [10.0] * 90, errors=10)])
    progress.update()
    _append(timeline, [_window(t, "search", [100.0] * 10) for t in range(101, 120)])
    _append(tmp_path / LOAD_FILE, [_load(119, "peak", 40, 10)])
    progress.update()
    search = progress.operations["search"]
    assert (search.requests, search.failed) == (100 + 19 * 10, 10)
    rps, p95_ms, error_rate = search.recent_figures(10)
    assert rps == 10.0  # only the last ten seconds: ten windows of ten requests
    assert p95_ms is not None
    assert abs(p95_ms - 100.0) < 0.1
    assert error_rate == 0.0
    assert progress.load is not None
    assert progress.load.stage == "peak"


def test_quiet_progress_prints_summary_lines(tmp_path: Path) -> None:
    _append(tmp_path / TIMELINE_FILE, [_window(100, "search", [10.0] * 5, errors=5)])
    _append(tmp_path / LOAD_FILE, [_load(100, "run", 2, 10)])
    out = io.StringIO()
    console = Console(file=out, width=200)
    with LiveProgress(tmp_path, tiny_plan(), console=console, quiet=False) as live:
        live.refresh()
    line = out.getvalue().strip()
    assert "stage run, 2 users, 10 RPS" in line
    assert "10 requests, 50.00% errors" in line


def _record() -> RunRecord:
    return RunRecord(
        run_id="r",
        status="completed",
        scenario="s",
        profile="p",
        target="t",
        target_embedded=False,
        plan={},
        scale={},
        planned_duration_s=1.0,
        started_at="x",
        workers_expected=0,
        versions={},
        host={},
        duration_s=1.0,
        exit_reason="the plan finished",
    )


def test_summary_shows_p95_per_operation_and_the_run_directory(tmp_path: Path) -> None:
    _append(
        tmp_path / TIMELINE_FILE,
        [_window(100, "search", [float(ms) for ms in range(1, 101)]), _window(100, "cart", [2.0])],
    )
    out = io.StringIO()
    print_summary(Console(file=out, width=200), tmp_path, _record())
    text = out.getvalue()
    assert "run completed: the plan finished; 1.0 s, 101 requests" in text
    search_row = next(line for line in text.splitlines() if "search" in line)
    assert "95.0" in search_row
    assert f"run directory: {tmp_path}" in text


def test_recent_rate_covers_only_the_seconds_seen_so_far(tmp_path: Path) -> None:
    _append(tmp_path / TIMELINE_FILE, [_window(t, "search", [1.0] * 20) for t in (100, 101)])
    progress = RunProgress(tmp_path)
    progress.update()
    assert progress.recent_span_s == 2
    rps, _, _ = progress.operations["search"].recent_figures(progress.recent_span_s)
    assert rps == 20.0


def test_summary_of_a_corrupt_timeline_says_so_and_still_names_the_run(tmp_path: Path) -> None:
    _append(tmp_path / TIMELINE_FILE, [_window(100, "search", [1.0])], tail="{torn\n")
    _append(tmp_path / TIMELINE_FILE, [_window(101, "search", [1.0])])
    out = io.StringIO()
    print_summary(Console(file=out, width=200), tmp_path, _record())
    text = out.getvalue()
    assert "the timeline is unreadable" in text
    assert f"run directory: {tmp_path}" in text
