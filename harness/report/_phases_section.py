"""The connection phases of a run: connect time of new connections and time to first byte,
over time and per operation, beside the response time.

A request that waited 31 s for its connection (a SYN the target's full listen backlog dropped,
sent again by the client) and one whose handler took 31 s look alike in the latency plot; here
the first shows as connect time, the second as time to first byte. The phases exist where the
HTTP client exposed them (timeline.jsonl's `connect_us` and `ttfb_us`); a run of an older
version, or of a client that exposes none, has none and the section says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.errors import RunDirError
from harness.plan import RunPlan
from harness.report._data import RunData
from harness.report._plot import (
    PERCENTILE_COLOURS,
    Figure,
    colour,
    finish,
    line_trace,
    rounded,
    time_layout,
)
from harness.report._series import ALL_REQUESTS, RunSeries
from harness.timeline import TIMELINE_FILE, BucketCounts
from harness.verdict import format_value

CONNECT_PERCENTILES = (50.0, 99.0, 100.0)
"""Connect time drawn per bin: p50, p99 and the longest."""
TTFB_PERCENTILES = (50.0, 95.0)
"""Time to first byte in the per-operation table."""
_MAX = 100.0


@dataclass(frozen=True, slots=True)
class PhaseRow:
    """One operation's connection phases over the judged span."""

    name: str
    """Operation."""
    requests: int
    """Requests of every outcome."""
    new_connections: int
    """Connections its requests opened (the rest reused a pooled keep-alive connection)."""
    connect_p50: str
    connect_p99: str
    connect_max: str
    ttfb_p50: str
    ttfb_p95: str


@dataclass(frozen=True, slots=True)
class ConnectionPhases:
    """What the section shows: every request operation together per display bin, and a row
    per operation."""

    connect_ms: dict[float, list[float | None]]
    """Connect time of the bin's new connections at each of `CONNECT_PERCENTILES`."""
    new_connections_per_s: list[float]
    """New connections per second (mean over the bin)."""
    ttfb_p95_ms: list[float | None]
    """Time to first byte, p95."""
    response_p95_ms: list[float | None]
    """Response time p95 (service time in the open model: from the actual send, like TTFB)."""
    rows: list[PhaseRow]
    """Per operation, over the judged span."""


class _Merged:
    """Connect and time-to-first-byte counts merged over a bin or the judged span."""

    __slots__ = ("connect", "ttfb")

    def __init__(self) -> None:
        self.connect: BucketCounts | None = None
        self.ttfb: BucketCounts | None = None

    def add(self, connect: BucketCounts | None, ttfb: BucketCounts | None) -> None:
        self.connect = _added(self.connect, connect)
        self.ttfb = _added(self.ttfb, ttfb)


def _added(into: BucketCounts | None, part: BucketCounts | None) -> BucketCounts | None:
    if part is None:
        return into
    if into is None:
        into = BucketCounts.empty_like(part)
    into.add(part)
    return into


def connection_phases(data: RunData, series: RunSeries) -> ConnectionPhases | None:
    """The run's connection phases per display bin and per operation; None when no request
    recorded one (an older run directory, or a client that exposes neither)."""
    bins = series.bins
    per_bin = [_Merged() for _ in range(bins.count)]
    per_op: dict[str, _Merged] = {}
    judged = data.judged
    found = False
    for op in data.index.operations:
        judged_of_op = per_op.setdefault(op, _Merged())
        for t, connect_us, ttfb_us in data.index.phase_seconds(op):
            found = True
            connect = _decoded(data, op, t, connect_us)
            ttfb = _decoded(data, op, t, ttfb_us)
            b = bins.index(t)
            if 0 <= b < bins.count:
                per_bin[b].add(connect, ttfb)
            if judged is not None and judged.start_t <= t < judged.end_t:
                judged_of_op.add(connect, ttfb)
    if not found:
        return None
    connect_ms: dict[float, list[float | None]] = {q: [] for q in CONNECT_PERCENTILES}
    new_per_s: list[float] = []
    ttfb_p95: list[float | None] = []
    for merged in per_bin:
        values = _percentiles(merged.connect, CONNECT_PERCENTILES)
        for q, value in zip(CONNECT_PERCENTILES, values, strict=True):
            connect_ms[q].append(value)
        new_per_s.append((merged.connect.total if merged.connect else 0) / bins.width_s)
        ttfb_p95.append(_percentiles(merged.ttfb, (95.0,))[0])
    everything = series.operations.get(ALL_REQUESTS)
    response: list[float | None] = [None] * bins.count
    if everything is not None:
        response = (everything.service_ms or everything.percentiles_ms)[95.0]
    return ConnectionPhases(
        connect_ms=connect_ms,
        new_connections_per_s=new_per_s,
        ttfb_p95_ms=ttfb_p95,
        response_p95_ms=response,
        rows=[_row(op, merged, series) for op, merged in sorted(per_op.items())],
    )


def _decoded(data: RunData, op: str, t: int, encoded: str | None) -> BucketCounts | None:
    if not encoded:
        return None
    try:
        return BucketCounts.decode(encoded)
    except Exception as error:  # hdrh's header/zlib errors
        raise RunDirError(
            f"{data.run_dir / TIMELINE_FILE}: a connection-phase histogram of {op!r} at "
            f"t={t} is corrupt ({type(error).__name__})"
        ) from None


def _percentiles(counts: BucketCounts | None, wanted: tuple[float, ...]) -> list[float | None]:
    if counts is None or counts.total == 0:
        return [None] * len(wanted)
    return counts.percentiles_ms(wanted)


def _row(op: str, merged: _Merged, series: RunSeries) -> PhaseRow:
    connect = _percentiles(merged.connect, CONNECT_PERCENTILES)
    ttfb = _percentiles(merged.ttfb, TTFB_PERCENTILES)
    totals = series.totals.get(op)
    return PhaseRow(
        name=op,
        requests=totals.counts.total if totals is not None else 0,
        new_connections=merged.connect.total if merged.connect else 0,
        connect_p50=format_value(connect[0], "ms"),
        connect_p99=format_value(connect[1], "ms"),
        connect_max=format_value(connect[2], "ms"),
        ttfb_p50=format_value(ttfb[0], "ms"),
        ttfb_p95=format_value(ttfb[1], "ms"),
    )


def connect_figure(plan: RunPlan, x_s: list[float], phases: ConnectionPhases) -> Figure | None:
    """Connect time of new connections (p50, p99, longest; a log axis, as connects span
    0.1 ms to the 31 s of a fifth SYN retry) and new connections per second (a thin step line
    on the right axis); None when no request opened a connection."""
    if not any(phases.new_connections_per_s):
        return None
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x_s,
            "y": rounded(phases.new_connections_per_s),
            "name": "new connections/s",
            "yaxis": "y2",
            "line": {"color": colour(5), "width": 1, "shape": "hv"},
        },
        line_trace(x_s, phases.connect_ms[50.0], "connect p50", PERCENTILE_COLOURS[50.0]),
        line_trace(x_s, phases.connect_ms[99.0], "connect p99", PERCENTILE_COLOURS[99.0]),
        line_trace(x_s, phases.connect_ms[_MAX], "longest connect", colour(4)),
    ]
    layout = time_layout(plan, "New connections: time to open them", "connect time (ms, log)")
    layout["yaxis"]["type"] = "log"
    del layout["yaxis"]["rangemode"]
    layout["yaxis2"] = {
        "title": {"text": "new connections per second"},
        "overlaying": "y",
        "side": "right",
        "rangemode": "tozero",
        "tickmode": "auto",
        "showgrid": False,
    }
    layout["margin"]["r"] = 60
    return finish(data, layout)


def ttfb_figure(plan: RunPlan, x_s: list[float], phases: ConnectionPhases) -> Figure | None:
    """Time to first byte p95 beside the response time p95 (every request); None when no
    request recorded a time to first byte."""
    if not any(value is not None for value in phases.ttfb_p95_ms):
        return None
    data = [
        line_trace(x_s, phases.response_p95_ms, "response time p95", PERCENTILE_COLOURS[95.0]),
        line_trace(x_s, phases.ttfb_p95_ms, "time to first byte p95", colour(0)),
    ]
    title = "Time to first byte and response time, p95 (every request)"
    return finish(data, time_layout(plan, title, "ms"))
