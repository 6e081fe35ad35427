"""One journey iteration: its requests, their lag accounting, and its own timing.

In the open model an iteration has an intended start (its scheduled arrival). The lag is
the time the iteration spent not being served although the plan wanted it served: the
scheduler's delay before it started, plus every wait for a free connection. Each request
carries the lag so far in its context, and the recorder stores completion - intended start
(service + lag) beside the service time. In the closed model there is no intended start.

Graceful stop: when the engine stops a user (or an open-model journey) whose request is
still in flight, gevent raises `GreenletExit` inside the request. Locust then reports
nothing, so the iteration records that request itself, outcome `interrupted` with the time
it had been in flight (if it had been sent at all, see `wire`), and the whole iteration
(multi-step journeys) likewise.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from gevent import GreenletExit
from gevent.lock import Semaphore
from locust.contrib.fasthttp import FastHttpSession, ResponseContextManager

from harness.engine._recorder import LAG_CONTEXT_KEY, Recorder, classify, is_timeout
from harness.engine._wire import Wire
from harness.timeline import Outcome

ResponseCheck = Callable[[ResponseContextManager, float], str | None]
"""A check on a response and its latency in ms (built from a `ResponseCheckPlan`); returns a
failure message or None."""


INTERRUPTED_ERROR = "interrupted: still in flight when the graceful stop ended"
"""Error message of a request (or iteration) cut off by the end of the graceful stop."""


class Slots:
    """The journey slots of one open-model driver: how many iterations hold one, and how
    many of those are awaiting the response to a request they have sent."""

    __slots__ = ("awaiting_response",)

    def __init__(self) -> None:
        self.awaiting_response = 0
        """Requests sent whose response has not come back (or failed) yet."""


class StepResult:
    """What a journey step got back; the JSON body is parsed only when asked for."""

    __slots__ = ("_parsed", "_response", "outcome", "status")

    def __init__(self, outcome: Outcome, status: int, response: Any) -> None:
        self.outcome: Outcome = outcome
        """How the recorder counted the request."""
        self.status = status
        """HTTP status, 0 when no response arrived."""
        self._response = response
        self._parsed: Any = _UNPARSED

    @property
    def body(self) -> Any:
        """Parsed JSON body, None when the body is not JSON."""
        if self._parsed is _UNPARSED:
            self._parsed = _parse_json(self._response.text if self._response is not None else None)
        return self._parsed


class Iteration:
    """Issues the requests of one journey iteration and times the whole of it."""

    def __init__(
        self,
        journey: str,
        client: FastHttpSession,
        recorder: Recorder,
        rng: random.Random,
        *,
        intended_start: float | None = None,
        connections: Semaphore | None = None,
        slots: Slots | None = None,
        data: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None,
    ) -> None:
        self.journey = journey
        self.data: dict[str, Any] = data or {}
        """Variables the journey's data sources gave this iteration (a row's columns)."""
        self.user: dict[str, Any] = user if user is not None else {}
        """What the simulated user keeps between its iterations, e.g. the built-in journeys'
        login (one dict per user; per arrival in the open model)."""
        self.client = client
        self.recorder = recorder
        self.rng = rng
        self._connections = connections
        self._slots = slots
        self._started = time.perf_counter()
        self._open_model = intended_start is not None
        self._start_lag_ms = (
            max(time.time() - intended_start, 0.0) * 1000.0 if intended_start is not None else 0.0
        )
        self.lag_ms = self._start_lag_ms
        self.outcome: Outcome = "ok"
        self._error: str | None = None

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        check: ResponseCheck | None = None,
    ) -> StepResult:
        """Sends one request reported under `operation`; a status outside `expect` or a
        failed `check` fails it."""
        if self._connections is not None:
            waiting_since = time.perf_counter()
            self._connections.acquire()
            self.lag_ms += (time.perf_counter() - waiting_since) * 1000.0
        try:
            return self._send(operation, method, path, query, json_body, headers, expect, check)
        finally:
            if self._connections is not None:
                self._connections.release()

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        query: dict[str, Any] | None,
        json_body: Any,
        headers: dict[str, str] | None,
        expect: tuple[int, ...],
        check: ResponseCheck | None,
    ) -> StepResult:
        url = f"{path}?{urlencode(query)}" if query else path
        context = {LAG_CONTEXT_KEY: self.lag_ms} if self._open_model else {}
        sent = time.perf_counter()
        if self._slots is not None:
            self._slots.awaiting_response += 1
        wire = Wire()
        try:
            answer = self.client.request(
                method,
                url,
                name=operation,
                catch_response=True,
                json=json_body,
                headers=headers,
                context=context,
            )
        except GreenletExit:
            # a request stopped before it reached the wire was never sent: not a request
            if wire.sent:
                self._record_interrupted(operation, sent)
            raise
        finally:
            wire.close()
            if self._slots is not None:
                self._slots.awaiting_response -= 1
        with answer as response:
            status = int(response.status_code or 0)
            if not status:
                error = getattr(response, "error", None)
                outcome: Outcome = (
                    "timeout" if error is not None and is_timeout(error) else "connection_error"
                )
                self._fail(outcome, f"{type(error).__name__}" if error else "no response")
                return StepResult(outcome, 0, None)
            if status not in expect:
                message = f"HTTP {status}"
                response.failure(message)
                outcome = classify(status, RuntimeError(message))
                self._fail(outcome, message)
                return StepResult(outcome, status, response)
            latency_ms = float(response.request_meta.get("response_time") or 0.0)
            failed = check(response, latency_ms) if check is not None else None
            if failed:
                response.failure(failed)
                self._fail("check_failed", failed)
                return StepResult("check_failed", status, response)
            response.success()
            return StepResult("ok", status, response)

    def _record_interrupted(self, operation: str, sent: float) -> None:
        """Records a request cut off in flight, with the time it had been in flight."""
        in_flight_ms = (time.perf_counter() - sent) * 1000.0
        self.recorder.record(
            operation,
            "interrupted",
            in_flight_ms + self.lag_ms if self._open_model else in_flight_ms,
            service_ms=in_flight_ms if self._open_model else None,
            error=INTERRUPTED_ERROR,
        )
        self._fail("interrupted", INTERRUPTED_ERROR)

    def _fail(self, outcome: Outcome, message: str) -> None:
        if self.outcome == "ok":
            self.outcome = outcome
            self._error = message

    def interrupt(self) -> None:
        """Records the whole iteration, cut off by the end of the graceful stop (during or
        between its requests): `interrupted`, unless a request had already failed it."""
        self._fail("interrupted", INTERRUPTED_ERROR)
        self.finish()

    def finish(self) -> None:
        """Records the whole iteration as operation `journey.<name>`."""
        elapsed_ms = (time.perf_counter() - self._started) * 1000.0
        waits_ms = self.lag_ms - self._start_lag_ms
        self.recorder.record_journey(
            self.journey,
            self.outcome,
            elapsed_ms + self._start_lag_ms,
            elapsed_ms - waits_ms if self._open_model else None,
            error=self._error,
        )


_UNPARSED = object()


def _parse_json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
