"""Display series of a run: per-bin latency percentiles, rates and outcomes, and whole-run figures.

Every histogram of the timeline is decoded exactly once. Seconds are grouped into display bins
(at most `MAX_POINTS` per series, so a one-hour run draws 6-second bins); a bin's percentiles
come from the exact merge of its seconds' histograms, so downsampling changes the resolution
of the picture, never the numbers a point shows. Whole-run figures (spectrum, journey timing,
headline) cover the span the verdict judges: the run after warm-up.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from harness.errors import RunDirError
from harness.report._data import RunData
from harness.timeline import (
    JOURNEY_PREFIX,
    OUTCOMES,
    TIMELINE_FILE,
    BucketCounts,
    OutcomeCounts,
)

MAX_POINTS = 600
"""Most points a time series shows; longer runs are drawn in wider bins."""
ALL_REQUESTS = "*"
"""Every request operation together (journey timings excluded), as the SLA names it."""
PERCENTILES = (50.0, 95.0, 99.0)
SPECTRUM_POINTS = 80


@dataclass(frozen=True, slots=True)
class Bins:
    """Consecutive display bins of whole seconds."""

    start_t: int
    """First second of the first bin (unix)."""
    width_s: int
    """Seconds per bin."""
    count: int
    """Number of bins."""

    def index(self, t: int) -> int:
        return (t - self.start_t) // self.width_s

    def offsets_s(self, origin_t: float) -> list[float]:
        """The start of every bin in seconds since `origin_t`."""
        return [round(self.start_t + i * self.width_s - origin_t, 3) for i in range(self.count)]


def bins_between(start_t: int, end_t: int, max_points: int = MAX_POINTS) -> Bins:
    """Bins covering [start_t, end_t) with at most `max_points` of them."""
    length = max(end_t - start_t, 1)
    width = max(1, math.ceil(length / max_points))
    return Bins(start_t, width, math.ceil(length / width))


@dataclass(frozen=True, slots=True)
class OperationSeries:
    """One operation (or every request) over time, one value per bin."""

    percentiles_ms: dict[float, list[float | None]]
    """Latency from the intended start at each of `PERCENTILES`."""
    service_ms: dict[float, list[float | None]] | None
    """Service time at each of `PERCENTILES` (open model), else None."""
    requests_per_s: list[float]
    """Requests completed per second (mean over the bin)."""


@dataclass(frozen=True, slots=True)
class OperationTotals:
    """One operation over the judged span."""

    counts: OutcomeCounts
    """Requests by outcome."""
    percentiles_ms: dict[float, float | None]
    """p50, p95, p99 (from the intended start)."""
    max_ms: float | None
    """Largest latency (bucket upper bound)."""
    mean_ms: float | None
    """Mean latency."""
    spectrum: list[tuple[float, float]]
    """(percentile, latency ms) along the HDR percentile spectrum."""
    service_spectrum: list[tuple[float, float]] | None
    """The same for service time (open model)."""


@dataclass(frozen=True, slots=True)
class RunSeries:
    """What the report's time figures and tables draw."""

    bins: Bins
    """The display bins."""
    x_s: list[float]
    """Each bin's start, seconds since offset 0 of the plan."""
    operations: dict[str, OperationSeries]
    """Per operation, `ALL_REQUESTS` and `journey.*` included."""
    outcomes_per_s: dict[str, list[float]]
    """Every request operation together: requests per second of each outcome."""
    totals: dict[str, OperationTotals] = field(default_factory=dict)
    """Over the judged span, per operation and for `ALL_REQUESTS`."""


class _Accumulator:
    """Merges the seconds of one operation: the current bin, and the judged span."""

    def __init__(self) -> None:
        self.latency: BucketCounts | None = None
        self.service: BucketCounts | None = None
        self.judged_latency: BucketCounts | None = None
        self.judged_service: BucketCounts | None = None
        self.judged_counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)


def _added(into: BucketCounts | None, part: BucketCounts) -> BucketCounts:
    if into is None:
        fresh = BucketCounts.empty_like(part)
        fresh.add(part)
        return fresh
    into.add(part)
    return into


def spectrum_percentiles(total: int) -> list[float]:
    """Percentiles spread evenly on the log(1/(1-q)) axis, as far as `total` samples reach."""
    if total <= 0:
        return []
    depth = min(math.log10(max(total, 10)), 6.0)
    steps = [depth * i / (SPECTRUM_POINTS - 1) for i in range(SPECTRUM_POINTS)]
    return [100.0 * (1.0 - 10.0 ** (-step)) for step in steps]


def _spectrum(counts: BucketCounts | None) -> list[tuple[float, float]]:
    if counts is None or counts.total == 0:
        return []
    wanted = spectrum_percentiles(counts.total)
    values = counts.percentiles_ms(wanted)
    return [(q, v) for q, v in zip(wanted, values, strict=True) if v is not None]


def build_series(data: RunData, max_points: int = MAX_POINTS) -> RunSeries:
    """Decode the run's timeline once into display series and judged-span totals."""
    measured = data.index.time_range()
    start_t = math.floor(data.clock.started_t)
    end_t = max(math.ceil(data.clock.ended_t), start_t + 1)
    if measured is not None:
        start_t, end_t = min(start_t, measured[0]), max(end_t, measured[1])
    bins = bins_between(start_t, end_t, max_points)
    judged = data.judged
    ops = data.index.all_operations
    rows_by_bin: dict[int, list[tuple[str, int, dict[str, int], str | None, str | None]]]
    rows_by_bin = defaultdict(list)
    for op in ops:
        for t, counts, latency, service in data.index.seconds(op):
            rows_by_bin[bins.index(t)].append((op, t, counts, latency, service))

    names = [*ops, ALL_REQUESTS]
    pct: dict[str, dict[float, list[float | None]]] = {
        op: {q: [None] * bins.count for q in PERCENTILES} for op in names
    }
    svc: dict[str, dict[float, list[float | None]]] = {
        op: {q: [None] * bins.count for q in PERCENTILES} for op in names
    }
    has_service: set[str] = set()
    rps: dict[str, list[float]] = {op: [0.0] * bins.count for op in names}
    outcomes: dict[str, list[float]] = {o: [0.0] * bins.count for o in OUTCOMES}
    acc = {op: _Accumulator() for op in names}

    for b in range(bins.count):
        for op in names:
            acc[op].latency = acc[op].service = None
        for op, t, counts, latency, service in rows_by_bin.get(b, ()):
            request = not op.startswith(JOURNEY_PREFIX)
            in_judged = judged is not None and judged.start_t <= t < judged.end_t
            total = sum(counts.values())
            rps[op][b] += total / bins.width_s
            targets = (acc[op], acc[ALL_REQUESTS]) if request else (acc[op],)
            if request:
                rps[ALL_REQUESTS][b] += total / bins.width_s
                for outcome, count in counts.items():
                    if outcome in outcomes:
                        outcomes[outcome][b] += count / bins.width_s
            if in_judged:
                for target in targets:
                    for outcome, count in counts.items():
                        target.judged_counts[outcome] = target.judged_counts.get(outcome, 0) + count
            for encoded, is_service in ((latency, False), (service, True)):
                if not encoded:
                    continue
                try:
                    part = BucketCounts.decode(encoded)
                except Exception as error:  # hdrh's header/zlib errors
                    raise RunDirError(
                        f"{data.run_dir / TIMELINE_FILE}: a latency histogram of {op!r} at "
                        f"t={t} is corrupt ({type(error).__name__})"
                    ) from None
                if is_service:
                    has_service.update({op, ALL_REQUESTS} if request else {op})
                for target in targets:
                    if is_service:
                        target.service = _added(target.service, part)
                        if in_judged:
                            target.judged_service = _added(target.judged_service, part)
                    else:
                        target.latency = _added(target.latency, part)
                        if in_judged:
                            target.judged_latency = _added(target.judged_latency, part)
        for op in names:
            for merged, into in ((acc[op].latency, pct[op]), (acc[op].service, svc[op])):
                if merged is not None:
                    for q, value in zip(
                        PERCENTILES, merged.percentiles_ms(PERCENTILES), strict=True
                    ):
                        into[q][b] = value

    operations = {
        op: OperationSeries(pct[op], svc[op] if op in has_service else None, rps[op])
        for op in names
        if op != ALL_REQUESTS or ops
    }
    totals = {}
    for op in names:
        a = acc[op]
        judged_latency = a.judged_latency
        values = judged_latency.percentiles_ms([*PERCENTILES, 100.0]) if judged_latency else None
        totals[op] = OperationTotals(
            counts=OutcomeCounts(**{o: a.judged_counts.get(o, 0) for o in OUTCOMES}),
            percentiles_ms={q: (values[i] if values else None) for i, q in enumerate(PERCENTILES)},
            max_ms=values[-1] if values else None,
            mean_ms=judged_latency.mean_ms() if judged_latency else None,
            spectrum=_spectrum(judged_latency),
            service_spectrum=_spectrum(a.judged_service) if a.judged_service else None,
        )
    return RunSeries(
        bins=bins,
        x_s=bins.offsets_s(data.offset_s),
        operations=operations,
        outcomes_per_s=outcomes,
        totals=totals,
    )
