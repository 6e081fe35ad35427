"""A run's measurements indexed once for judging: per operation, per second, read in one pass.

The verdict asks many questions of the same run (every objective, every window), so the
timeline is read once (through the run-directory reader, every line checked) into an index of
window lines (histograms stay encoded, a few hundred bytes each) and histograms are decoded
only for the ranges asked about; a corrupt one is a RunDirError naming its line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.rundir import RunDir
from harness.timeline import (
    JOURNEY_PREFIX,
    TIMELINE_FILE,
    EngineEvent,
    LatencyHistogram,
    OutcomeCounts,
    WindowLine,
    decoded,
)

ALL_OPERATIONS = "*"
"""Stands for every request operation of the run (journey timings excluded)."""

GENERATOR_TROUBLE = ("generator_saturated", "behind_plan")
"""Engine events that mean the load generator, not the target, limited a figure."""


@dataclass(frozen=True, slots=True)
class _Second:
    number: int
    """Line number in timeline.jsonl (for errors)."""
    line: WindowLine
    """The stored window."""


class Measurements:
    """The timeline and engine events of one run, ready for range queries."""

    def __init__(self, run: RunDir) -> None:
        self._index(run.path / TIMELINE_FILE, run.windows(), run.events())

    @classmethod
    def of_lines(
        cls, run_dir: Path, lines: Iterable[WindowLine], events: Iterable[EngineEvent]
    ) -> Measurements:
        """The lines of a run still going, as read so far (numbered in the order given)."""
        measurements = cls.__new__(cls)
        measurements._index(run_dir / TIMELINE_FILE, enumerate(lines, start=1), events)
        return measurements

    def _index(
        self,
        path: Path,
        numbered: Iterable[tuple[int, WindowLine]],
        events: Iterable[EngineEvent],
    ) -> None:
        self._path: Path = path
        self._by_op: dict[str, list[tuple[int, _Second]]] = defaultdict(list)
        for number, line in numbered:
            self._by_op[line.op].append((line.t, _Second(number, line)))
        self.events: tuple[EngineEvent, ...] = tuple(events)
        self._histograms: dict[tuple[str, int, int, bool], LatencyHistogram] = {}

    @property
    def operations(self) -> tuple[str, ...]:
        """Request operations with data (journey timings excluded), sorted."""
        return tuple(sorted(op for op in self._by_op if not op.startswith(JOURNEY_PREFIX)))

    @property
    def all_operations(self) -> tuple[str, ...]:
        """Every operation with data, journeys included."""
        return tuple(sorted(self._by_op))

    def time_range(self) -> tuple[int, int] | None:
        """(first second, last second + 1) over every operation; None when empty."""
        seconds = [t for rows in self._by_op.values() for t, _ in rows]
        return (min(seconds), max(seconds) + 1) if seconds else None

    def _rows(self, op: str, start_t: int, end_t: int) -> list[_Second]:
        names = self.operations if op == ALL_OPERATIONS else (op,)
        return [
            second
            for name in names
            for t, second in self._by_op.get(name, ())
            if start_t <= t < end_t
        ]

    def histogram(
        self, op: str, start_t: int, end_t: int, *, service: bool = False
    ) -> LatencyHistogram:
        """Latencies of `op` completed in [start_t, end_t), merged exactly (memoised)."""
        key = (op, start_t, end_t, service)
        cached = self._histograms.get(key)
        if cached is not None:
            return cached
        merged = LatencyHistogram()
        for second in self._rows(op, start_t, end_t):
            line = second.line
            histogram = decoded(
                self._path, second.number, line.service if service else line.latency
            )
            if histogram is not None:
                merged.add(histogram)
        self._histograms[key] = merged
        return merged

    def counts(self, op: str, start_t: int, end_t: int) -> OutcomeCounts:
        """Requests of `op` completed in [start_t, end_t), by outcome."""
        return sum(
            (second.line.counts for second in self._rows(op, start_t, end_t)), OutcomeCounts()
        )

    def error_messages(self, op: str, start_t: int, end_t: int) -> list[tuple[str, int]]:
        """The error messages of `op`'s failed requests in [start_t, end_t) and their counts,
        most frequent first (each second keeps its top messages, the rest counted as other)."""
        totals: dict[str, int] = defaultdict(int)
        for second in self._rows(op, start_t, end_t):
            for message, count in second.line.errors.items():
                totals[message] += count
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))

    def seconds(self, op: str) -> list[tuple[int, dict[str, int], str | None, str | None]]:
        """(t, outcome counts, encoded latency, encoded service time) for every stored line
        of `op`, in file order (a second may appear twice when a worker's data came late).
        The encodings were checked for shape; `decoded` names the line of a corrupt payload."""
        return [
            (t, second.line.counts.as_dict(), second.line.latency_us, second.line.service_us)
            for t, second in self._by_op.get(op, ())
        ]

    def phase_seconds(self, op: str) -> list[tuple[int, str | None, str | None]]:
        """(t, encoded connect time, encoded time to first byte) for every stored line of `op`
        that recorded a connection phase, in file order (see `seconds`)."""
        return [
            (t, second.line.connect_us, second.line.ttfb_us)
            for t, second in self._by_op.get(op, ())
            if second.line.connect_us or second.line.ttfb_us
        ]

    def connect_seconds(
        self, op: str, start_t: int, end_t: int
    ) -> list[tuple[int, LatencyHistogram]]:
        """(t, connect times) of every stored line of `op` completed in [start_t, end_t) on
        which a request opened a new connection, decoded (a RunDirError names a corrupt line)."""
        found = []
        for second in self._rows(op, start_t, end_t):
            histogram = decoded(self._path, second.number, second.line.connect)
            if histogram is not None:
                found.append((second.line.t, histogram))
        return found

    def requests_per_second(self, op: str, start_t: int, end_t: int) -> list[int]:
        """Requests of `op` completed in each second of [start_t, end_t), zeros included."""
        per_second = [0] * max(end_t - start_t, 0)
        names = self.operations if op == ALL_OPERATIONS else (op,)
        for name in names:
            for t, second in self._by_op.get(name, ()):
                if start_t <= t < end_t:
                    per_second[t - start_t] += second.line.counts.total
        return per_second

    def has_service_time(self, op: str) -> bool:
        """Whether `op` recorded service time separately (the open model does)."""
        names = self.operations if op == ALL_OPERATIONS else (op,)
        return any(
            second.line.service_us for name in names for _, second in self._by_op.get(name, ())
        )

    def generator_trouble(self, start_t: float, end_t: float) -> list[EngineEvent]:
        """Saturation or behind-plan events of the load generator within [start_t, end_t)."""
        return [
            event
            for event in self.events
            if event.kind in GENERATOR_TROUBLE and start_t <= event.t < end_t
        ]
