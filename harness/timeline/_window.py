"""One operation in one one-second window: outcome counts, bytes, latency, top errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from annotated_types import MinLen
from pydantic import BeforeValidator, ConfigDict

from harness.timeline._histogram import LatencyHistogram
from harness.timeline._validate import Count, EncodedHistogram

Outcome = Literal[
    "ok",
    "http_4xx",
    "http_5xx",
    "timeout",
    "connection_error",
    "check_failed",
    "dropped",
    "interrupted",
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
"""Every outcome, in the order lines and tables list them."""
MAX_ERROR_MESSAGES = 20
"""Distinct error messages kept per window; the rest are counted under OTHER_ERRORS."""
OTHER_ERRORS = "(other errors)"
MAX_ERROR_LENGTH = 200
"""Error messages are cut to this many characters."""


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """Requests by outcome; `total` counts them all."""

    ok: Count = 0
    """Accepted responses (2xx/3xx, or a status the scenario declared as expected)."""
    http_4xx: Count = 0
    """4xx responses the scenario did not expect."""
    http_5xx: Count = 0
    """5xx responses."""
    timeout: Count = 0
    """No response within the request timeout."""
    connection_error: Count = 0
    """Refused, reset or unreachable; no latency is recorded for these."""
    check_failed: Count = 0
    """A response that failed a declared check (body, JSON path, status, latency)."""
    dropped: Count = 0
    """Open model: an arrival never sent because the target kept every journey slot busy
    (responses outstanding); the target's failure, so it counts against error rate and
    availability. No latency is recorded."""
    interrupted: Count = 0
    """A request still in flight when the graceful stop ran out; its elapsed time is in
    the latency histogram."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    @property
    def total(self) -> int:
        return (
            self.ok
            + self.http_4xx
            + self.http_5xx
            + self.timeout
            + self.connection_error
            + self.check_failed
            + self.dropped
            + self.interrupted
        )

    @property
    def failed(self) -> int:
        """Every request whose outcome is not `ok`."""
        return self.total - self.ok

    def as_dict(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in OUTCOMES}

    def __add__(self, other: OutcomeCounts) -> OutcomeCounts:
        return OutcomeCounts(**{n: getattr(self, n) + getattr(other, n) for n in OUTCOMES})


ALWAYS_WRITTEN_OUTCOMES = OUTCOMES[:6]
"""Outcomes every version has written; `dropped` and `interrupted` came later (0 when absent)."""


def _every_outcome(counts: Any) -> Any:
    """A line's counts must name every outcome ever written: one missing is a lost count."""
    if isinstance(counts, dict):
        missing = [name for name in ALWAYS_WRITTEN_OUTCOMES if name not in counts]
        if missing:
            raise ValueError(f"must have a count for every outcome ({missing[0]} is missing)")
    return counts


@dataclass(frozen=True, slots=True)
class WindowLine:
    """One timeline.jsonl line as written, read back strictly; histograms stay encoded (a few
    hundred bytes each) until a range asks for them."""

    t: Count
    """Window start, unix seconds."""
    op: Annotated[str, MinLen(1)]
    """Operation, or `journey.<name>` for a whole journey."""
    counts: Annotated[OutcomeCounts, BeforeValidator(_every_outcome)]
    """Requests completed in the window, by outcome."""
    bytes: Count
    """Response bytes."""
    latency_us: EncodedHistogram
    """Latency from the intended start, HDR V2 compressed, base64."""
    service_us: EncodedHistogram | None
    """Latency from the actual send (open model), None in the closed model."""
    errors: dict[str, Count]
    """Error messages and their counts (top 20)."""
    connect_us: EncodedHistogram | None = None
    """Time to open a new connection, one value per request that opened one (its count is
    the window's new connections); None when every request reused a pooled connection, the
    client does not expose it, or the run directory predates connection phases."""
    ttfb_us: EncodedHistogram | None = None
    """Time to first byte (send to parsed response head, connect included); None when no
    request got an answer, the client does not expose it, or the line predates phases."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    def latency(self) -> LatencyHistogram:
        """The decoded latency histogram (ValueError when its payload is corrupt)."""
        return LatencyHistogram.decode(self.latency_us)

    def service(self) -> LatencyHistogram | None:
        """The decoded service-time histogram, None in the closed model."""
        return LatencyHistogram.decode(self.service_us) if self.service_us else None

    def connect(self) -> LatencyHistogram | None:
        """The decoded connect-time histogram, None when no request opened a connection."""
        return LatencyHistogram.decode(self.connect_us) if self.connect_us else None

    def ttfb(self) -> LatencyHistogram | None:
        """The decoded time-to-first-byte histogram, None when none was recorded."""
        return LatencyHistogram.decode(self.ttfb_us) if self.ttfb_us else None

    def to_record(self) -> WindowRecord:
        """The window as an accumulator (histograms decoded; ValueError when corrupt)."""
        record = WindowRecord(self.t, self.op)
        record.counts = self.counts.as_dict()
        record.bytes = self.bytes
        record.latency = self.latency()
        record.service = self.service()
        record.connect = self.connect()
        record.ttfb = self.ttfb()
        record.errors = dict(self.errors)
        return record


class WindowRecord:
    """Accumulates the requests of one operation completed in one one-second window.

    `latency` holds the latency from the intended start (coordinated-omission corrected in
    the open model; in the closed model the measured response time). `service` holds the
    latency from the actual send and exists only in the open model. `connect` and `ttfb` hold
    the connection phases where the HTTP client exposes them (see the timeline's format):
    each exists once a request of the window recorded one.
    """

    __slots__ = ("bytes", "connect", "counts", "errors", "latency", "op", "service", "t", "ttfb")

    def __init__(self, t: int, op: str, *, with_service: bool = False) -> None:
        self.t = t
        self.op = op
        self.counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self.bytes = 0
        self.latency = LatencyHistogram()
        self.service: LatencyHistogram | None = LatencyHistogram() if with_service else None
        self.connect: LatencyHistogram | None = None
        self.ttfb: LatencyHistogram | None = None
        self.errors: dict[str, int] = {}

    def record(
        self,
        outcome: Outcome,
        latency_ms: float | None,
        *,
        service_ms: float | None = None,
        response_bytes: int = 0,
        error: str | None = None,
        connect_ms: float | None = None,
        ttfb_ms: float | None = None,
    ) -> None:
        """Adds one request; a connection error carries no latency. `connect_ms` is given
        when the request opened a new connection, `ttfb_ms` when it got a response head
        (whatever its outcome: a connection reset after the connect still opened one)."""
        self.counts[outcome] += 1
        self.bytes += response_bytes
        if outcome != "connection_error" and latency_ms is not None:
            self.latency.record_ms(latency_ms)
            if service_ms is not None:
                if self.service is None:
                    self.service = LatencyHistogram()
                self.service.record_ms(service_ms)
        if connect_ms is not None:
            if self.connect is None:
                self.connect = LatencyHistogram()
            self.connect.record_ms(connect_ms)
        if ttfb_ms is not None:
            if self.ttfb is None:
                self.ttfb = LatencyHistogram()
            self.ttfb.record_ms(ttfb_ms)
        if error is not None:
            self._count_error(error[:MAX_ERROR_LENGTH], 1)

    def _count_error(self, message: str, count: int) -> None:
        if message in self.errors or len(self.errors) < MAX_ERROR_MESSAGES:
            self.errors[message] = self.errors.get(message, 0) + count
        else:
            self.errors[OTHER_ERRORS] = self.errors.get(OTHER_ERRORS, 0) + count

    def merge(self, other: WindowRecord) -> None:
        """Adds `other` (same window and operation) into this record; exact."""
        for name, count in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + count
        self.bytes += other.bytes
        self.latency.add(other.latency)
        self.service = _added(self.service, other.service)
        self.connect = _added(self.connect, other.connect)
        self.ttfb = _added(self.ttfb, other.ttfb)
        for message, count in other.errors.items():
            self._count_error(message, count)

    @property
    def outcome_counts(self) -> OutcomeCounts:
        return OutcomeCounts(**{n: self.counts.get(n, 0) for n in OUTCOMES})

    def to_line(self) -> dict[str, Any]:
        """The JSON object of one timeline.jsonl line (`connect_us` and `ttfb_us` only when
        a request of the window recorded them)."""
        line: dict[str, Any] = {
            "t": self.t,
            "op": self.op,
            "counts": {n: self.counts.get(n, 0) for n in OUTCOMES},
            "bytes": self.bytes,
            "latency_us": self.latency.encode(),
            "service_us": self.service.encode() if self.service is not None else None,
            "errors": dict(self.errors),
        }
        if self.connect is not None:
            line["connect_us"] = self.connect.encode()
        if self.ttfb is not None:
            line["ttfb_us"] = self.ttfb.encode()
        return line

    @classmethod
    def from_line(cls, line: dict[str, Any]) -> WindowRecord:
        """Reads one timeline.jsonl object back (KeyError/ValueError when malformed)."""
        record = cls(int(line["t"]), str(line["op"]))
        for name, count in line["counts"].items():
            record.counts[str(name)] = int(count)
        record.bytes = int(line.get("bytes", 0))
        record.latency = LatencyHistogram.decode(line["latency_us"])
        service = line.get("service_us")
        record.service = LatencyHistogram.decode(service) if service else None
        connect, ttfb = line.get("connect_us"), line.get("ttfb_us")
        record.connect = LatencyHistogram.decode(connect) if connect else None
        record.ttfb = LatencyHistogram.decode(ttfb) if ttfb else None
        record.errors = {str(k): int(v) for k, v in (line.get("errors") or {}).items()}
        return record


def _added(into: LatencyHistogram | None, part: LatencyHistogram | None) -> LatencyHistogram | None:
    """`part` added into `into` (a new histogram when `into` is None); exact."""
    if part is None:
        return into
    if into is None:
        into = LatencyHistogram()
    into.add(part)
    return into


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
    new_connections: int = 0
    """Connections the window's requests opened (the connect histogram's count)."""
    connect_percentiles_ms: dict[float, float | None] | None = None
    """Time to open those connections at each requested percentile; None without any."""
    ttfb_percentiles_ms: dict[float, float | None] | None = None
    """Time to first byte at each requested percentile; None when none was recorded."""
