"""The timeline: exact merge, percentiles at HDR precision, streaming reader, torn last line."""

from __future__ import annotations

import base64
import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.errors import RunDirError
from harness.timeline import (
    LatencyHistogram,
    LoadSample,
    OutcomeCounts,
    RunDirWriter,
    WindowRecord,
    load_frame,
    read_engine_summary,
    read_events,
    read_load,
    read_timeline,
)
from harness.timeline._records import EngineSummary

T0 = 1_764_222_000


def _window(t: int, op: str, latencies_ms: list[float], **kwargs: int) -> WindowRecord:
    record = WindowRecord(t, op)
    for value in latencies_ms:
        record.record("ok", value, response_bytes=10)
    for outcome, count in kwargs.items():
        for _ in range(count):
            record.record(outcome, 5.0, error=f"{outcome} happened")  # type: ignore[arg-type]
    return record


def test_merge_is_exact_bucket_by_bucket() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(3.0, 1.0) for _ in range(5000)]
    whole = LatencyHistogram()
    parts = [LatencyHistogram() for _ in range(3)]
    for index, value in enumerate(values):
        whole.record_ms(value)
        parts[index % 3].record_ms(value)
    merged = LatencyHistogram()
    for part in parts:
        merged.add(LatencyHistogram.decode(part.encode()))
    assert merged.count == whole.count == 5000
    assert merged.buckets_ms() == whole.buckets_ms()
    for p in (50, 90, 95, 99, 99.9, 100):
        assert merged.percentile_ms(p) == whole.percentile_ms(p)


@pytest.mark.parametrize("true_ms", [0.35, 4.2, 87.0, 299.0, 301.0, 1999.0, 45_000.0])
def test_percentile_keeps_three_significant_digits(true_ms: float) -> None:
    histogram = LatencyHistogram()
    histogram.record_ms(true_ms, count=100)
    measured = histogram.percentile_ms(99)
    assert measured is not None
    assert true_ms <= measured <= true_ms * 1.001 + 0.001


def test_299_and_301_ms_fall_on_either_side_of_300() -> None:
    below, above = LatencyHistogram(), LatencyHistogram()
    for _ in range(99):
        below.record_ms(10.0)
        above.record_ms(10.0)
    below.record_ms(299.0)
    above.record_ms(301.0)
    p100_below, p100_above = below.percentile_ms(100), above.percentile_ms(100)
    assert p100_below is not None
    assert p100_above is not None
    assert p100_below < 300.0 < p100_above


def test_timeouts_of_minutes_are_tracked_and_larger_values_clamped() -> None:
    histogram = LatencyHistogram()
    histogram.record_ms(5 * 60_000.0)
    histogram.record_ms(10 * 3_600_000.0)
    assert histogram.count == 2
    p50 = histogram.percentile_ms(50)
    assert p50 is not None
    assert abs(p50 - 300_000.0) / 300_000.0 < 0.001
    assert histogram.max_ms is not None
    assert histogram.max_ms >= 3_600_000.0 * 0.999


def test_empty_histogram_has_no_percentile() -> None:
    assert LatencyHistogram().percentile_ms(99) is None
    assert LatencyHistogram().percentiles_ms([50, 99]) == {50: None, 99: None}


def test_connection_errors_record_no_latency() -> None:
    record = WindowRecord(T0, "search")
    record.record("ok", 10.0)
    record.record("connection_error", 0.5, error="ConnectionRefusedError")
    record.record("timeout", 30_000.0, error="timed out")
    assert record.latency.count == 2
    assert record.outcome_counts == OutcomeCounts(ok=1, connection_error=1, timeout=1)
    assert record.errors == {"ConnectionRefusedError": 1, "timed out": 1}


def test_error_messages_are_capped_per_window() -> None:
    record = WindowRecord(T0, "search")
    for index in range(30):
        record.record("http_5xx", 1.0, error=f"error {index}")
    assert len(record.errors) == 21
    assert record.errors["(other errors)"] == 10
    assert sum(record.errors.values()) == 30


def test_window_line_round_trips(tmp_path: Path) -> None:
    record = _window(T0, "search", [1.0, 2.0, 3.0], http_5xx=2)
    record.service = LatencyHistogram()
    record.service.record_ms(1.5)
    back = WindowRecord.from_line(json.loads(json.dumps(record.to_line())))
    assert back.to_line() == record.to_line()


def _with_phases(t: int, op: str) -> WindowRecord:
    """Three answered requests, two of which opened a new connection (one after a SYN retry)."""
    record = WindowRecord(t, op)
    record.record("ok", 12.0, connect_ms=0.4, ttfb_ms=11.0)
    record.record("ok", 1015.0, connect_ms=1003.0, ttfb_ms=1014.0)
    record.record("http_5xx", 5.0, ttfb_ms=4.0, error="HTTP 503")
    return record


def test_connection_phases_round_trip_and_merge_exactly() -> None:
    record = _with_phases(T0, "search")
    line = json.loads(json.dumps(record.to_line()))
    assert set(line) >= {"connect_us", "ttfb_us"}
    back = WindowRecord.from_line(line)
    assert back.to_line() == record.to_line()
    assert back.connect is not None
    assert back.connect.count == 2  # the window's new connections
    assert back.ttfb is not None
    assert back.ttfb.count == 3
    # merging a window without phases into one with them, and the other way round
    merged = WindowRecord(T0, "search")
    merged.merge(_window(T0, "search", [3.0]))
    assert merged.connect is None
    assert "connect_us" not in merged.to_line()
    merged.merge(back)
    merged.merge(_with_phases(T0, "search"))
    assert merged.connect is not None
    assert merged.connect.count == 4
    assert merged.connect.max_ms == pytest.approx(1003.0, rel=1e-3)
    assert merged.ttfb is not None
    assert merged.ttfb.count == 6
    assert merged.counts["ok"] == 5


def test_a_line_written_before_connection_phases_still_reads(tmp_path: Path) -> None:
    """Run directories of older versions have no connect_us / ttfb_us keys."""
    writer = RunDirWriter(tmp_path)
    writer.append_windows([_window(T0, "search", [1.0, 2.0]), _with_phases(T0, "cart")])
    writer.close()
    old, new = (json.loads(line) for line in (tmp_path / "timeline.jsonl").open())
    assert "connect_us" not in old
    assert "ttfb_us" not in old
    assert {"connect_us", "ttfb_us"} <= set(new)
    assert WindowRecord.from_line(old).connect is None
    series = {op: read_timeline(tmp_path).series(op)[0] for op in ("search", "cart")}
    assert series["search"].new_connections == 0
    assert series["search"].connect_percentiles_ms is None
    assert series["search"].ttfb_percentiles_ms is None
    assert series["cart"].new_connections == 2
    assert series["cart"].connect_percentiles_ms is not None
    assert series["cart"].connect_percentiles_ms[99.0] == pytest.approx(1003.0, rel=1e-3)
    assert series["cart"].ttfb_percentiles_ms is not None
    frame = read_timeline(tmp_path).to_frame()
    cart = frame[frame["op"] == "cart"].iloc[0]
    assert cart["new_connections"] == 2
    assert cart["ttfb_p50_ms"] == pytest.approx(11.0, rel=1e-3)
    assert math.isnan(frame[frame["op"] == "search"].iloc[0]["connect_p99_ms"])


def _write_run(run_dir: Path, *, finished: bool = True) -> None:
    """A run whose engine wrote engine.json (with its tallies), or was killed before."""
    writer = RunDirWriter(run_dir)
    for second in range(10):
        latencies = [float(second + 1)] * 10
        writer.append_windows(
            [_window(T0 + second, "search", latencies), _window(T0 + second, "cart", [2.0])]
        )
    # a worker's late data for a second already written: readers add it
    writer.append_windows([_window(T0 + 3, "search", [500.0], http_5xx=1)])
    writer.append_load(
        LoadSample(
            t=T0,
            stage="peak",
            users=5,
            planned_arrivals=None,
            started_arrivals=None,
            dropped_arrivals=0,
            achieved_rps=11.0,
            workers=1,
            cpu_percent={"local": 12.5},
        )
    )
    writer.append_event("stage_started", "peak", t=T0)
    if finished:
        writer.write_engine(
            EngineSummary(
                status="completed", reason="plan finished", started_at=T0, ended_at=T0 + 10
            )
        )
    writer.close()


def test_reader_queries_a_written_run(tmp_path: Path) -> None:
    _write_run(tmp_path)
    timeline = read_timeline(tmp_path)
    assert timeline.operations() == ["cart", "search"]
    assert timeline.time_range() == (T0, T0 + 10)
    assert timeline.counts("search") == OutcomeCounts(ok=101, http_5xx=1)
    assert timeline.counts().total == 112
    assert timeline.counts("search", T0 + 3, T0 + 4) == OutcomeCounts(ok=11, http_5xx=1)
    assert timeline.errors("search") == {"http_5xx happened": 1}
    p50 = timeline.percentile_ms("search", 50, T0, T0 + 2)
    assert p50 is not None
    assert 1.0 <= p50 <= 1.001
    series = timeline.series("search")
    assert [w.t for w in series] == list(range(T0, T0 + 10))
    assert series[3].counts.total == 12
    assert series[3].max_ms is not None
    assert series[3].max_ms >= 500.0
    per_second = timeline.requests_per_second()
    assert per_second[T0] == 11
    assert per_second[T0 + 3] == 13
    assert timeline.achieved_rps(op="cart") == 1.0
    assert timeline.histogram("search", service=True).count == 0
    frame = timeline.to_frame()
    assert len(frame) == 20
    assert int(frame[frame["op"] == "search"]["total"].sum()) == 102
    assert read_load(tmp_path)[0].cpu_percent == {"local": 12.5}
    assert load_frame(tmp_path)["cpu_local"].tolist() == [12.5]
    assert [e.kind for e in read_events(tmp_path)] == ["stage_started"]
    summary = read_engine_summary(tmp_path)
    assert summary is not None
    assert summary.status == "completed"


def test_the_engine_records_what_it_wrote_to_each_file(tmp_path: Path) -> None:
    _write_run(tmp_path)
    summary = read_engine_summary(tmp_path)
    assert summary is not None
    assert summary.files is not None
    timeline = summary.files["timeline.jsonl"]
    assert timeline.lines == 21
    assert timeline.bytes == (tmp_path / "timeline.jsonl").stat().st_size
    assert timeline.requests == 112
    assert summary.files["load.jsonl"].lines == 1
    assert summary.files["events.jsonl"].lines == 1


def test_a_cut_last_line_is_skipped_when_the_engine_never_finished(tmp_path: Path) -> None:
    _write_run(tmp_path, finished=False)
    path = tmp_path / "timeline.jsonl"
    full = path.read_text()
    path.write_text(full + full.splitlines()[0][:57])
    assert read_timeline(tmp_path).counts().total == 112


@pytest.mark.parametrize("finished", [True, False])
def test_a_whole_last_line_that_is_not_a_window_is_an_error(tmp_path: Path, finished: bool) -> None:
    _write_run(tmp_path, finished=finished)
    path = tmp_path / "timeline.jsonl"
    path.write_text(path.read_text() + '{"t": 1}\n')
    with pytest.raises(RunDirError, match=r"timeline.jsonl(:22: op is missing|: .* bytes)"):
        read_timeline(tmp_path).counts()


def test_a_file_cut_after_the_engine_finished_is_an_error(tmp_path: Path) -> None:
    _write_run(tmp_path)
    path = tmp_path / "timeline.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:10]))  # cut at a line boundary: every line left is whole
    with pytest.raises(RunDirError, match=r"timeline.jsonl: .* bytes, but the engine wrote"):
        read_timeline(tmp_path).counts()
    path.write_text("".join(lines)[:-30])  # cut mid-line
    with pytest.raises(RunDirError, match=r"the file was cut or changed after the run"):
        read_timeline(tmp_path).counts()


def test_changed_counts_of_the_same_length_are_an_error(tmp_path: Path) -> None:
    _write_run(tmp_path)
    path = tmp_path / "timeline.jsonl"
    text = path.read_text()
    path.write_text(text.replace('"ok":10,', '"ok":90,', 1))
    with pytest.raises(RunDirError, match=r"192 requests, but the engine wrote 112"):
        read_timeline(tmp_path).counts()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda line: line.pop("op"), r":1: op is missing"),
        (
            lambda line: line["counts"].update(http_4xx="x"),
            r":1: counts.http_4xx must be a non-negative integer, got 'x'",
        ),
        (
            lambda line: line["counts"].update(ok=-1),
            r":1: counts.ok must be a non-negative integer, got -1",
        ),
        (
            lambda line: line.update(latency_us="not base64!"),
            r":1: latency_us must be an HDR histogram",
        ),
        (lambda line: line.update(t="1"), r":1: t must be an integer, got '1'"),
        (lambda line: line.update(connect_us=5), r":1: connect_us must be a string, got 5"),
        (lambda line: line.update(ttfb_us="HISTF"), r":1: ttfb_us must be an HDR histogram"),
        (lambda line: line.update(extra=1), r":1: extra is not a field"),
    ],
)
def test_every_malformed_line_names_file_line_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    _write_run(tmp_path, finished=False)
    path = tmp_path / "timeline.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    broken = json.loads(lines[0])
    change(broken)
    path.write_text("".join([json.dumps(broken) + "\n", *lines[1:]]))
    with pytest.raises(RunDirError, match=r"timeline.jsonl" + message):
        read_timeline(tmp_path).counts()


def test_corrupt_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    _write_run(tmp_path, finished=False)
    path = tmp_path / "timeline.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:3], "garbage\n", *lines[3:]]))
    with pytest.raises(RunDirError, match=r"timeline.jsonl:4"):
        read_timeline(tmp_path).counts()


def test_reader_streams_in_flat_memory(tmp_path: Path) -> None:
    import tracemalloc

    writer = RunDirWriter(tmp_path)
    encoded = _window(T0, "search", [1.0, 2.0, 40.0]).to_line()
    handle = (tmp_path / "timeline.jsonl").open("a")
    for second in range(3000):
        handle.write(json.dumps({**encoded, "t": T0 + second}) + "\n")
    handle.close()
    writer.close()
    timeline = read_timeline(tmp_path)
    tracemalloc.start()
    histogram = timeline.histogram("search")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert histogram.count == 9000
    # a decoded histogram is ~190 kB: holding 3,000 of them would take ~570 MB, while
    # streaming holds one or two at a time (each freed as soon as it is added)
    assert peak < 3_000_000


def test_missing_run_dir_is_a_run_dir_error(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such run directory"):
        read_timeline(tmp_path / "absent")
    assert read_timeline(tmp_path).counts().total == 0
    assert read_engine_summary(tmp_path) is None


def test_percentiles_follow_hdr_rank_rule_exactly() -> None:
    rng = random.Random(11)
    for _ in range(30):
        histogram = LatencyHistogram()
        for _ in range(rng.randint(1, 2000)):
            histogram.record_us(rng.lognormvariate(rng.uniform(2, 14), rng.uniform(0.1, 2)))
        decoded = LatencyHistogram.decode(histogram.encode())
        wanted = [0.0, 1.0, 50.0, 95.0, 99.0, 99.9, 100.0]
        values = decoded.percentiles_ms(wanted)
        for percentile in wanted:
            reference = histogram._hdr.get_value_at_percentile(percentile) / 1000.0
            assert values[percentile] == reference


def test_a_garbled_histogram_is_a_run_dir_error(tmp_path: Path) -> None:
    _write_run(tmp_path, finished=False)
    path = tmp_path / "timeline.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    broken = json.loads(lines[0])
    broken["latency_us"] = "aGVsbG8gd29ybGQgMTIzNDU="
    path.write_text("".join([json.dumps(broken) + "\n", *lines[1:]]))
    with pytest.raises(RunDirError, match=r"timeline.jsonl:1: latency_us must be an HDR"):
        read_timeline(tmp_path).histogram(broken["op"])
    # the right header and length around a corrupt payload: found when it is decoded
    raw = bytearray(base64.b64decode(json.loads(lines[0])["latency_us"]))
    raw[12:20] = b"\xff" * 8
    broken["latency_us"] = base64.b64encode(bytes(raw)).decode()
    path.write_text("".join([json.dumps(broken) + "\n", *lines[1:]]))
    with pytest.raises(RunDirError, match=r"timeline.jsonl:1: a latency histogram is corrupt"):
        read_timeline(tmp_path).histogram(broken["op"])
    with pytest.raises(RunDirError, match=r"timeline.jsonl:1: a latency histogram is corrupt"):
        read_timeline(tmp_path).series(broken["op"])
