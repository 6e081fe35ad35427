"""Strict readers of a run directory's timeline, load samples, events and engine summary.

Every reader checks each line against the record that wrote it and names `file:line` in a
RunDirError; with the engine's summary at hand, it also checks each file against what the
engine says it wrote (`EngineSummary.files`), so lines lost after the run are an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from harness.errors import RunDirError
from harness.timeline._histogram import LatencyHistogram
from harness.timeline._jsonl import LineFileCheck, read_lines
from harness.timeline._records import EngineEvent, EngineSummary, LoadSample
from harness.timeline._validate import MalformedError, parse_json
from harness.timeline._window import OutcomeCounts, WindowLine, WindowRecord, WindowStats
from harness.timeline._writer import ENGINE_FILE, EVENTS_FILE, LOAD_FILE, TIMELINE_FILE

if TYPE_CHECKING:
    import pandas

JOURNEY_PREFIX = "journey."
"""Operations that time a whole journey, not one request."""


class Timeline:
    """The measured data of one run, read from `timeline.jsonl` as a stream.

    Every query reads the file again (each line checked, see the module docstring), so memory
    stays flat whatever the run's length. Time ranges are unix seconds, `start_t` inclusive
    and `end_t` exclusive; None means unbounded.
    """

    def __init__(self, run_dir: Path, check: LineFileCheck | None = None) -> None:
        self.run_dir = run_dir
        self.path = run_dir / TIMELINE_FILE
        self.check = check or LineFileCheck()

    def lines(self) -> Iterator[tuple[int, WindowLine]]:
        """(line number, line) in file order; the whole file read is checked against the
        engine's tally (lines, bytes and requests)."""
        requests = 0
        for number, line in read_lines(self.path, WindowLine, self.check):
            requests += line.counts.total
            yield number, line
        expected = self.check.tally.requests if self.check.tally is not None else None
        if expected is not None and requests != expected:
            raise RunDirError(
                f"{self.path}: {requests:,} requests, but the engine wrote {expected:,}: "
                "the file was changed after the run"
            )

    def _in_range(
        self, op: str | None, start_t: float | None, end_t: float | None, *, journeys: bool
    ) -> Iterator[tuple[int, WindowLine]]:
        for number, line in self.lines():
            if op is None and not journeys and line.op.startswith(JOURNEY_PREFIX):
                continue
            if op is not None and line.op != op:
                continue
            if (start_t is not None and line.t < start_t) or (
                end_t is not None and line.t >= end_t
            ):
                continue
            yield number, line

    def records(
        self, op: str | None = None, start_t: float | None = None, end_t: float | None = None
    ) -> Iterator[WindowRecord]:
        """Stored window records in file order (the same window may appear more than once
        when a worker's data arrived late; adding them is exact)."""
        for number, line in self._in_range(op, start_t, end_t, journeys=True):
            yield decoded(self.path, number, line.to_record)

    def operations(self) -> list[str]:
        """Every operation with at least one window, sorted."""
        return sorted({line.op for _, line in self.lines()})

    def time_range(self) -> tuple[int, int] | None:
        """(first window start, last window start + 1), None for an empty timeline."""
        seconds = [line.t for _, line in self.lines()]
        return (min(seconds), max(seconds) + 1) if seconds else None

    def histogram(
        self,
        op: str,
        start_t: float | None = None,
        end_t: float | None = None,
        *,
        service: bool = False,
    ) -> LatencyHistogram:
        """Every latency of `op` in the range, merged exactly; `service=True` for the time
        from the actual send (open model; empty in the closed model)."""
        merged = LatencyHistogram()
        for number, line in self._in_range(op, start_t, end_t, journeys=True):
            histogram = decoded(self.path, number, line.service if service else line.latency)
            if histogram is not None:
                merged.add(histogram)
        return merged

    def percentile_ms(
        self,
        op: str,
        percentile: float,
        start_t: float | None = None,
        end_t: float | None = None,
        *,
        service: bool = False,
    ) -> float | None:
        """The latency of `op` at `percentile` over the range, None without samples."""
        return self.histogram(op, start_t, end_t, service=service).percentile_ms(percentile)

    def counts(
        self, op: str | None = None, start_t: float | None = None, end_t: float | None = None
    ) -> OutcomeCounts:
        """Requests by outcome over the range; `op=None` sums every request operation
        (journey timings excluded)."""
        total = OutcomeCounts()
        for _, line in self._in_range(op, start_t, end_t, journeys=False):
            total += line.counts
        return total

    def errors(
        self, op: str | None = None, start_t: float | None = None, end_t: float | None = None
    ) -> dict[str, int]:
        """Error messages and their counts over the range, most frequent first."""
        totals: dict[str, int] = {}
        for _, line in self._in_range(op, start_t, end_t, journeys=True):
            for message, count in line.errors.items():
                totals[message] = totals.get(message, 0) + count
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def series(
        self,
        op: str,
        percentiles: Iterable[float] = (50.0, 95.0, 99.0),
        start_t: float | None = None,
        end_t: float | None = None,
    ) -> list[WindowStats]:
        """One `WindowStats` per second with data for `op`, in time order."""
        wanted = tuple(percentiles)
        by_t: dict[int, WindowRecord] = {}
        for number, line in self._in_range(op, start_t, end_t, journeys=True):
            record = decoded(self.path, number, line.to_record)
            if line.t in by_t:
                by_t[line.t].merge(record)
            else:
                by_t[line.t] = record
        stats: list[WindowStats] = []
        for t in sorted(by_t):
            record = by_t[t]
            stats.append(
                WindowStats(
                    t=t,
                    op=op,
                    counts=record.outcome_counts,
                    bytes=record.bytes,
                    percentiles_ms=record.latency.percentiles_ms(wanted),
                    service_percentiles_ms=(
                        record.service.percentiles_ms(wanted) if record.service else None
                    ),
                    max_ms=record.latency.max_ms,
                    new_connections=record.connect.count if record.connect else 0,
                    connect_percentiles_ms=(
                        record.connect.percentiles_ms(wanted) if record.connect else None
                    ),
                    ttfb_percentiles_ms=record.ttfb.percentiles_ms(wanted) if record.ttfb else None,
                )
            )
        return stats

    def requests_per_second(
        self, op: str | None = None, start_t: float | None = None, end_t: float | None = None
    ) -> dict[int, int]:
        """Requests completed per second (every outcome), for one operation or for all
        request operations (journey timings excluded); seconds without requests are absent."""
        per_t: dict[int, int] = {}
        for _, line in self._in_range(op, start_t, end_t, journeys=False):
            per_t[line.t] = per_t.get(line.t, 0) + line.counts.total
        return dict(sorted(per_t.items()))

    def achieved_rps(
        self, op: str | None = None, start_t: float | None = None, end_t: float | None = None
    ) -> float:
        """Mean requests per second over the range (its full width when bounded, else from
        the first to the last second with data)."""
        per_t = self.requests_per_second(op, start_t, end_t)
        if not per_t:
            return 0.0
        first = int(start_t) if start_t is not None else min(per_t)
        end = int(end_t) if end_t is not None else max(per_t) + 1
        return sum(per_t.values()) / max(end - first, 1)

    def to_frame(self, percentiles: Iterable[float] = (50.0, 95.0, 99.0)) -> pandas.DataFrame:
        """One row per (second, operation): t, op, outcome counts, total, bytes, p<N>_ms,
        max_ms, new_connections, connect_p<N>_ms and ttfb_p<N>_ms (None without phases)."""
        # imported here, not at the top: pandas takes a second to import and most readers
        # of a timeline (the engine, the verdict) never build a frame
        from harness.timeline._frames import timeline_frame

        wanted = tuple(percentiles)
        windows = (window for op in self.operations() for window in self.series(op, wanted))
        return timeline_frame(windows, wanted)


R = TypeVar("R")


def decoded(path: Path, number: int, decode: Callable[[], R]) -> R:
    """`decode()` (a histogram of line `number`), a RunDirError naming the line if its
    payload is corrupt."""
    try:
        return decode()
    except ValueError as error:
        raise RunDirError(f"{path}:{number}: a latency histogram is corrupt ({error})") from None


def line_file_checks(run_dir: Path, engine: EngineSummary | None) -> dict[str, LineFileCheck]:
    """How to read each line file of `run_dir`: against the engine's tally when it wrote
    one (then a cut-off last line is corruption), else accepting a last line cut mid-write
    (the engine was killed or died)."""
    tallies = (engine.files if engine is not None else None) or {}
    finished = engine is not None and engine.files is not None
    return {
        name: LineFileCheck(tally=tallies.get(name), torn_tail_ok=not finished)
        for name in (TIMELINE_FILE, LOAD_FILE, EVENTS_FILE)
    }


def read_timeline(run_dir: str | Path, check: LineFileCheck | None = None) -> Timeline:
    """The timeline of a run directory, checked against engine.json when there is one
    (RunDirError when the directory does not exist)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunDirError(f"{path}: no such run directory")
    if check is None:
        check = line_file_checks(path, read_engine_summary(path))[TIMELINE_FILE]
    return Timeline(path, check)


def read_load(run_dir: str | Path, check: LineFileCheck | None = None) -> list[LoadSample]:
    """Every load.jsonl sample, in time order."""
    path = Path(run_dir)
    if check is None:
        check = line_file_checks(path, read_engine_summary(path))[LOAD_FILE]
    samples = [sample for _, sample in read_lines(path / LOAD_FILE, LoadSample, check)]
    return sorted(samples, key=lambda sample: sample.t)


def read_events(run_dir: str | Path, check: LineFileCheck | None = None) -> list[EngineEvent]:
    """Every events.jsonl event, in file order."""
    path = Path(run_dir)
    if check is None:
        check = line_file_checks(path, read_engine_summary(path))[EVENTS_FILE]
    return [event for _, event in read_lines(path / EVENTS_FILE, EngineEvent, check)]


def read_engine_summary(run_dir: str | Path) -> EngineSummary | None:
    """engine.json, None while (or when) the engine has not finished; RunDirError naming
    the field when it is not the summary the engine writes."""
    path = Path(run_dir) / ENGINE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise RunDirError(f"{path} is unreadable: {error}") from None
    try:
        return parse_json(EngineSummary, text)
    except MalformedError as error:
        raise RunDirError(f"{path}{error.line_suffix(text)}: {error}") from None
