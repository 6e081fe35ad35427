"""Every request of this process into per-operation, per-second HDR windows.

One `Recorder` lives in every load-generating process (the local process, or each worker).
It listens to Locust's `request` event, so requests of perfctl's journeys and of a team's
locustfile users are both captured, each exactly once. Journeys that know an intended start
(open model) put the lag behind it in the request context under `LAG_CONTEXT_KEY`; the
recorder then stores the latency twice: corrected (service + lag) and service time. Beside
them it stores the request's connection phases (connect time when it opened a connection,
time to first byte), which `phases` noted in the same greenlet.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.engine._phases import take as take_phases
from harness.timeline import JOURNEY_PREFIX, Outcome, WindowRecord

LAG_CONTEXT_KEY = "perfctl_lag_ms"
"""Request context key: ms between the intended and the actual send of this request."""


def classify(status_code: int | None, exception: BaseException | None) -> Outcome:
    """The outcome of one request from its status and the failure Locust reported."""
    if exception is None:
        return "ok"
    if not status_code:
        return "timeout" if is_timeout(exception) else "connection_error"
    if status_code >= 500:
        return "http_5xx"
    if status_code >= 400:
        return "http_4xx"
    return "check_failed"


def is_timeout(exception: BaseException) -> bool:
    """True for the ways a request can time out (socket, gevent, geventhttpclient)."""
    if isinstance(exception, TimeoutError | socket.timeout):
        return True
    name = type(exception).__name__.lower()
    return "timeout" in name or "timed out" in str(exception).lower()


def describe(status_code: int | None, exception: BaseException) -> str:
    """A short error message: the HTTP status, the check that failed, or the exception."""
    text = str(exception)
    if status_code and text.startswith(f"{status_code} "):
        return f"HTTP {status_code}"
    if type(exception).__name__ == "CatchResponseError":
        return text
    if status_code and status_code >= 400:
        return f"HTTP {status_code}"
    return f"{type(exception).__name__}: {text}" if text else type(exception).__name__


@dataclass(slots=True)
class ArrivalCounts:
    """Open-model arrivals of one second in this process."""

    planned: int = 0
    """Arrivals the schedule reached in that second."""
    started: int = 0
    """Journeys started."""
    dropped: int = 0
    """Arrivals not started because every journey slot was busy (both causes)."""
    dropped_by_target: int = 0
    """The part of `dropped` the target caused (see `drops.drop_cause`)."""

    def add(self, other: ArrivalCounts) -> None:
        """Adds `other` into these counts."""
        self.planned += other.planned
        self.started += other.started
        self.dropped += other.dropped
        self.dropped_by_target += other.dropped_by_target


@dataclass(slots=True)
class Drained:
    """What a process hands to the collector: windows and arrivals of finished seconds."""

    watermark: float
    """Every request that completed before this unix second is included."""
    windows: list[WindowRecord] = field(default_factory=list)
    arrivals: dict[int, ArrivalCounts] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """Plain data for Locust's worker report (histograms encoded)."""
        return {
            "watermark": self.watermark,
            "windows": [window.to_line() for window in self.windows],
            "arrivals": {
                str(t): [c.planned, c.started, c.dropped, c.dropped_by_target]
                for t, c in self.arrivals.items()
            },
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Drained:
        return cls(
            watermark=float(data["watermark"]),
            windows=[WindowRecord.from_line(line) for line in data["windows"]],
            arrivals={
                int(t): ArrivalCounts(*(int(count) for count in v[:4]))
                for t, v in data["arrivals"].items()
            },
        )


class Recorder:
    """Accumulates this process's windows until the collector drains the finished ones."""

    def __init__(self) -> None:
        self._windows: dict[tuple[int, str], WindowRecord] = {}
        self._arrivals: dict[int, ArrivalCounts] = {}
        self.requests = 0
        """Requests recorded by this process since it started."""
        self.mask: Callable[[str], str] | None = None
        """Masks secret values in error messages before they leave the process."""

    def _window(self, t: int, op: str) -> WindowRecord:
        key = (t, op)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = WindowRecord(t, op)
        return window

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int | None,
        response: Any = None,
        context: dict[str, Any] | None = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        """Listener of Locust's `request` event."""
        status = getattr(response, "status_code", None) if response is not None else None
        outcome = classify(status, exception)
        lag_ms = context.get(LAG_CONTEXT_KEY) if context else None
        service_ms = float(response_time or 0.0)
        connect_ms, ttfb_ms = take_phases(response_time)
        self.requests += 1
        self._window(int(time.time()), name).record(
            outcome,
            service_ms + lag_ms if lag_ms is not None else service_ms,
            service_ms=service_ms if lag_ms is not None else None,
            response_bytes=int(response_length or 0),
            error=describe(status, exception) if exception is not None else None,
            connect_ms=connect_ms,
            ttfb_ms=ttfb_ms,
        )

    def record(
        self,
        operation: str,
        outcome: Outcome,
        latency_ms: float | None,
        service_ms: float | None = None,
        error: str | None = None,
    ) -> None:
        """Records a request that Locust's `request` event never reports: one interrupted by
        the end of the graceful stop, or an arrival the target made the engine drop."""
        if not operation.startswith(JOURNEY_PREFIX):
            self.requests += 1
        self._window(int(time.time()), operation).record(
            outcome, latency_ms, service_ms=service_ms, error=error
        )

    def record_journey(
        self,
        journey: str,
        outcome: Outcome,
        latency_ms: float,
        service_ms: float | None,
        error: str | None = None,
    ) -> None:
        """Records a whole journey iteration as operation `journey.<name>`."""
        self._window(int(time.time()), JOURNEY_PREFIX + journey).record(
            outcome, latency_ms, service_ms=service_ms, error=error
        )

    def count_arrival(
        self,
        t: float,
        *,
        planned: int = 0,
        started: int = 0,
        dropped: int = 0,
        dropped_by_target: int = 0,
    ) -> None:
        """Counts open-model arrivals in the second `t` falls in."""
        self._arrivals.setdefault(int(t), ArrivalCounts()).add(
            ArrivalCounts(planned, started, dropped, dropped_by_target)
        )

    def drain(self, final: bool = False) -> Drained:
        """Removes and returns every finished second (all of them when `final`)."""
        now = time.time()
        watermark = float("inf") if final else float(int(now))
        done = [key for key in self._windows if key[0] < watermark]
        windows = [self._windows.pop(key) for key in done]
        if self.mask is not None:
            for window in windows:
                if window.errors:
                    window.errors = _masked(window.errors, self.mask)
        seconds = [t for t in self._arrivals if t < watermark]
        arrivals = {t: self._arrivals.pop(t) for t in seconds}
        return Drained(
            watermark=watermark if not final else now + 1e9, windows=windows, arrivals=arrivals
        )


def _masked(errors: dict[str, int], mask: Callable[[str], str]) -> dict[str, int]:
    """Error counts with secret values masked in the messages (equal messages merged)."""
    masked: dict[str, int] = {}
    for message, count in errors.items():
        key = mask(message)
        masked[key] = masked.get(key, 0) + count
    return masked
