"""The recorder: outcomes from statuses and failures, corrected and service latency, draining."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from harness.engine._recorder import LAG_CONTEXT_KEY, Drained, Recorder, classify


class CatchResponseError(Exception):
    """Stands in for Locust's (importing locust here would monkey-patch pytest's process)."""


@pytest.mark.parametrize(
    ("status", "exception", "outcome"),
    [
        (200, None, "ok"),
        (404, None, "ok"),
        (404, RuntimeError("404 Client Error"), "http_4xx"),
        (503, RuntimeError("503 Server Error"), "http_5xx"),
        (200, CatchResponseError("no items.0.id in the JSON body"), "check_failed"),
        (0, ConnectionRefusedError(111, "Connection refused"), "connection_error"),
        (0, TimeoutError("timed out"), "timeout"),
        (0, TimeoutError(), "timeout"),
    ],
)
def test_outcome_classification(status: int, exception: BaseException | None, outcome: str) -> None:
    assert classify(status, exception) == outcome


def _request(recorder: Recorder, status: int, ms: float, **kwargs: object) -> None:
    recorder.on_request(
        request_type="GET",
        name="search",
        response_time=ms,
        response_length=100,
        response=SimpleNamespace(status_code=status),
        **kwargs,  # type: ignore[arg-type]
    )


def test_lag_in_the_context_records_corrected_and_service_latency() -> None:
    recorder = Recorder()
    _request(recorder, 200, 10.0, context={LAG_CONTEXT_KEY: 990.0})
    _request(recorder, 0, 3.0, exception=ConnectionRefusedError(111, "refused"))
    windows = recorder.drain(final=True).windows
    assert len(windows) == 1
    window = windows[0]
    assert window.counts["ok"] == 1
    assert window.counts["connection_error"] == 1
    assert window.latency.count == 1
    assert window.latency.percentile_ms(50) == pytest.approx(1000.0, rel=0.001)
    assert window.service is not None
    assert window.service.percentile_ms(50) == pytest.approx(10.0, rel=0.001)
    assert window.bytes == 200
    assert window.errors == {"ConnectionRefusedError: [Errno 111] refused": 1}


def test_drain_keeps_the_running_second_and_ships_through_the_wire_format() -> None:
    recorder = Recorder()
    _request(recorder, 200, 5.0)
    recorder.count_arrival(time.time() - 5, planned=3, started=2, dropped=1)
    first = recorder.drain()
    assert first.windows == []  # the current second is not finished
    assert 2 in [c.started for c in first.arrivals.values()]
    shipped = Drained.from_wire(recorder.drain(final=True).to_wire())
    assert [w.counts["ok"] for w in shipped.windows] == [1]
    assert recorder.drain(final=True).windows == []


def test_requests_locust_never_reports_are_recorded_with_their_outcome() -> None:
    recorder = Recorder()
    recorder.record("search", "interrupted", 1200.0, service_ms=700.0, error="cut off")
    recorder.record("search", "dropped", None, error="dropped")
    recorder.count_arrival(time.time(), planned=2, started=1, dropped=1, dropped_by_target=1)
    shipped = Drained.from_wire(recorder.drain(final=True).to_wire())
    (window,) = shipped.windows
    assert window.counts["interrupted"] == 1
    assert window.counts["dropped"] == 1
    # the interrupted request's elapsed time is in the histogram, the dropped one has none
    assert window.latency.count == 1
    assert window.latency.percentile_ms(50) == pytest.approx(1200.0, rel=0.001)
    assert [c.dropped_by_target for c in shipped.arrivals.values()] == [1]
