"""Streaming reader of a run directory's timeline, load samples, events and engine summary."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import RunDirError
from harness.timeline._histogram import LatencyHistogram
from harness.timeline._records import EngineEvent, EngineSummary, LoadSample
from harness.timeline._window import OutcomeCounts, WindowRecord
from harness.timeline._writer import ENGINE_FILE, EVENTS_FILE, LOAD_FILE, TIMELINE_FILE

if TYPE_CHECKING:
    import pandas

JOURNEY_PREFIX = "journey."
"""Operations that time a whole journey, not one request."""


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a .jsonl file, one at a time.

    A partial or corrupt last line (a writer killed mid-line, or a file read while written)
    is skipped; a corrupt line followed by valid ones is an error.
    """
    if not path.exists():
        return
    broken: int | None = None
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if broken is not None:
                raise RunDirError(f"{path}:{broken}: not a JSON object; the file is corrupt")
            if not line.endswith("\n"):
                return
            try:
                parsed = json.loads(line)
            except ValueError:
                broken = number
                continue
            if not isinstance(parsed, dict):
                broken = number
                continue
            yield parsed


@dataclass(frozen=True, slots=True)
class WindowStats:
    """One operation in one second: counts and latency percentiles."""

    t: int
    """Window start, unix seconds."""
    op: str
    """Operation."""
    counts: OutcomeCounts
    """Requests completed in the window, by outcome."""
    bytes: int
    """Response bytes."""
    percentiles_ms: dict[float, float | None]
    """Latency from the intended start at each requested percentile."""
    service_percentiles_ms: dict[float, float | None] | None
    """Latency from the actual send (open model only)."""
    max_ms: float | None
    """Largest latency in the window."""


class Timeline:
    """The measured data of one run, read from `timeline.jsonl` as a stream.

    Every query reads the file again, so memory stays flat whatever the run's length and a
    run still being written is read up to its last complete line. Time ranges are unix
    seconds, `start_t` inclusive and `end_t` exclusive; None means unbounded.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / TIMELINE_FILE

    def records(
        self, op: str | None = None, start_t: float | None = None, end_t: float | None = None
    ) -> Iterator[WindowRecord]:
        """Stored window records in file order (the same window may appear more than once
        when a worker's data arrived late; adding them is exact)."""
        for number, line in enumerate(iter_jsonl(self.path), start=1):
            try:
                line_op = line["op"]
                t = line["t"]
                if op is not None and line_op != op:
                    continue
                if (start_t is not None and t < start_t) or (end_t is not None and t >= end_t):
                    continue
                yield WindowRecord.from_line(line)
            except (KeyError, TypeError, ValueError) as error:
                raise RunDirError(f"{self.path}:{number}: malformed window ({error})") from error

    def _raw(self) -> Iterator[dict[str, Any]]:
        return iter_jsonl(self.path)

    def operations(self) -> list[str]:
        """Every operation with at least one window, sorted."""
        return sorted({str(line.get("op")) for line in self._raw()})

    def time_range(self) -> tuple[int, int] | None:
        """(first window start, last window start + 1), None for an empty timeline."""
        first: int | None = None
        last: int | None = None
        for line in self._raw():
            t = int(line["t"])
            first = t if first is None else min(first, t)
            last = t if last is None else max(last, t)
        return None if first is None or last is None else (first, last + 1)

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
        field = "service_us" if service else "latency_us"
        for number, line in enumerate(self._raw(), start=1):
            if line.get("op") != op:
                continue
            t = line.get("t")
            if not isinstance(t, int | float):
                raise RunDirError(f"{self.path}:{number}: malformed window (no t)")
            if (start_t is not None and t < start_t) or (end_t is not None and t >= end_t):
                continue
            encoded = line.get(field)
            if encoded:
                try:
                    merged.add(LatencyHistogram.decode(encoded))
                except (TypeError, ValueError) as error:
                    raise RunDirError(
                        f"{self.path}:{number}: malformed {field} histogram ({error})"
                    ) from error
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
        totals = dict.fromkeys(OutcomeCounts().as_dict(), 0)
        for line in self._raw():
            name = str(line.get("op"))
            if op is None and name.startswith(JOURNEY_PREFIX):
                continue
            if op is not None and name != op:
                continue
            t = line["t"]
            if (start_t is not None and t < start_t) or (end_t is not None and t >= end_t):
                continue
            for outcome, count in line["counts"].items():
                if outcome in totals:
                    totals[outcome] += int(count)
        return OutcomeCounts(**totals)

    def errors(
        self, op: str | None = None, start_t: float | None = None, end_t: float | None = None
    ) -> dict[str, int]:
        """Error messages and their counts over the range, most frequent first."""
        totals: dict[str, int] = {}
        for line in self._raw():
            if op is not None and line.get("op") != op:
                continue
            t = line["t"]
            if (start_t is not None and t < start_t) or (end_t is not None and t >= end_t):
                continue
            for message, count in (line.get("errors") or {}).items():
                totals[message] = totals.get(message, 0) + int(count)
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
        by_t: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for number, line in enumerate(self._raw(), start=1):
            if line.get("op") != op:
                continue
            t = int(line["t"])
            if (start_t is not None and t < start_t) or (end_t is not None and t >= end_t):
                continue
            by_t.setdefault(t, []).append((number, line))
        stats: list[WindowStats] = []
        for t in sorted(by_t):
            record = WindowRecord(t, op)
            for number, line in by_t[t]:
                try:
                    record.merge(WindowRecord.from_line(line))
                except (KeyError, TypeError, ValueError) as error:
                    raise RunDirError(
                        f"{self.path}:{number}: malformed window ({error})"
                    ) from error
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
                )
            )
        return stats

    def requests_per_second(
        self, op: str | None = None, start_t: float | None = None, end_t: float | None = None
    ) -> dict[int, int]:
        """Requests completed per second (every outcome), for one operation or for all
        request operations (journey timings excluded); seconds without requests are absent."""
        per_t: dict[int, int] = {}
        for line in self._raw():
            name = str(line.get("op"))
            if (op is None and name.startswith(JOURNEY_PREFIX)) or (op is not None and name != op):
                continue
            t = int(line["t"])
            if (start_t is not None and t < start_t) or (end_t is not None and t >= end_t):
                continue
            per_t[t] = per_t.get(t, 0) + sum(int(c) for c in line["counts"].values())
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
        """One row per (second, operation): t, op, outcome counts, total, bytes, p<N>_ms."""
        from harness.timeline._frames import timeline_frame

        return timeline_frame(self, tuple(percentiles))


def read_timeline(run_dir: str | Path) -> Timeline:
    """The timeline of a run directory (RunDirError when the directory does not exist)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunDirError(f"{path}: no such run directory")
    return Timeline(path)


def read_load(run_dir: str | Path) -> list[LoadSample]:
    """Every load.jsonl sample, in time order."""
    path = Path(run_dir) / LOAD_FILE
    try:
        return sorted((LoadSample.from_dict(line) for line in iter_jsonl(path)), key=lambda s: s.t)
    except (KeyError, TypeError, ValueError) as error:
        raise RunDirError(f"{path}: malformed load sample ({error})") from error


def read_events(run_dir: str | Path) -> list[EngineEvent]:
    """Every events.jsonl event, in file order."""
    path = Path(run_dir) / EVENTS_FILE
    try:
        return [EngineEvent.from_dict(line) for line in iter_jsonl(path)]
    except (KeyError, TypeError, ValueError) as error:
        raise RunDirError(f"{path}: malformed event ({error})") from error


def read_engine_summary(run_dir: str | Path) -> EngineSummary | None:
    """engine.json, None while the engine has not finished."""
    path = Path(run_dir) / ENGINE_FILE
    if not path.exists():
        return None
    try:
        return EngineSummary.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as error:
        raise RunDirError(f"{path}: malformed engine summary ({error})") from error
