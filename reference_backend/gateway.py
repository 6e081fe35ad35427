"""The gateway in front of every agent, as pure ASGI middleware (one layer, no per-request tasks).

For each HTTP request, in this order: a request id (the client's `X-Request-ID` when it is
sane, else a fresh one) that every response carries; a token bucket per client key
(`X-Client-Key` header, else the client IP) that answers 429 with `Retry-After` and the
`RateLimit-Limit/Remaining/Reset` headers; a timeout that answers 504 when the handler is
too slow; the fault injection hook; then the app. Latency is observed per agent (the module
of the endpoint), route template, method and status class, and in-flight requests are
counted. Bodies of 1 KiB and more are gzipped for clients that accept it. `/metrics` is
neither rate limited nor measured: scrapes are not traffic.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.middleware import Middleware
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_backend.api import error_body
from reference_backend.compression import GzipMemo, GzipSender
from reference_backend.coordination import Coordination, rate_limiter
from reference_backend.faults import FaultInjector
from reference_backend.metrics import BackendMetrics
from reference_backend.settings import Settings

METRICS_PATH = "/metrics"
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS_CLASS = {n: f"{n}xx" for n in range(1, 6)}
_JSON = (b"content-type", b"application/json")


def gateway_middleware(
    settings: Settings,
    metrics: BackendMetrics,
    injector: FaultInjector,
    coordination: Coordination | None = None,
) -> list[Middleware]:
    """Return the gateway's middleware stack for `Starlette(middleware=...)`, outermost first."""
    return [
        Middleware(
            Gateway,
            settings=settings,
            metrics=metrics,
            injector=injector,
            coordination=coordination,
        )
    ]


class Gateway:
    """Request id, rate limit, timeout, fault injection and request metrics in one layer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        metrics: BackendMetrics,
        injector: FaultInjector,
        coordination: Coordination | None = None,
    ) -> None:
        self.app = app
        # the gateway reads Accept-Encoding anyway; bodies served again (cached pages) are
        # compressed once (reference_backend.compression)
        self.gzip_memo = GzipMemo()
        self.injector = injector
        self.timeout_s = settings.request_timeout_s
        self.watchdog = Watchdog(settings.request_timeout_s)
        # One bucket per client key across every worker with Redis, else per process.
        self.limiter = rate_limiter(settings, coordination)
        self._metrics = metrics
        self._rate_limited = metrics.rate_limited_total.inc
        self._in_flight = metrics.requests_in_flight
        self._observers: dict[tuple[str, str, str, str], Callable[[float], None]] = {}
        self._routes: dict[tuple[int, str], tuple[str, str]] = {}
        self._id_prefix = f"{os.getpid():x}-{os.urandom(3).hex()}-"
        self._id_counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        arrival_s = time.perf_counter()
        request_id: bytes | None = None
        client_key: bytes | None = None
        accepts_gzip = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value
            elif name == b"x-client-key":
                client_key = value
            elif name == b"accept-encoding" and b"gzip" in value:
                accepts_gzip = True
        if request_id is None or _REQUEST_ID.fullmatch(request_id) is None:
            request_id = f"{self._id_prefix}{next(self._id_counter):x}".encode()
        extra_headers = [(b"x-request-id", request_id)]

        if self.limiter is not None:
            if client_key is not None:
                key = client_key.decode("latin-1")
            else:
                client = scope.get("client")
                key = client[0] if client else "unknown"
            decision = await self.limiter.admit(key)
            extra_headers += (
                (b"ratelimit-limit", b"%d" % decision.limit),
                (b"ratelimit-remaining", b"%d" % decision.remaining),
                (b"ratelimit-reset", b"%d" % decision.reset_s),
            )
            if not decision.allowed:
                self._rate_limited()
                extra_headers.append((b"retry-after", b"%d" % decision.retry_after_s))
                message = "too many requests for this client key; retry after Retry-After seconds"
                await _send_error(send, 429, "rate_limited", message, extra_headers)
                self._observe(scope, 429, arrival_s, routed=False)
                return

        status = 500
        started = False
        downstream = GzipSender(send, self.gzip_memo) if accepts_gzip else send

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message = {**message, "headers": [*message.get("headers", ()), *extra_headers]}
            await downstream(message)

        routed = True
        self._in_flight.inc()
        task = self.watchdog.watch()
        try:
            fault = self.injector.match(scope["method"], scope["path"])
            error_status = None
            if fault is not None:
                error_status = await self.injector.inflict(fault, arrival_s)
            if fault is None or error_status is None:
                await self.app(scope, receive, send_with_headers)
            else:
                routed = False
                status = error_status
                message = f"fault injected on route {fault.spec.route}"
                await _send_error(send, error_status, "injected_fault", message, extra_headers)
        except asyncio.CancelledError:
            if not self.watchdog.expired(task) or started:
                raise
            task.uncancel()
            status = 504
            message = f"no response within {self.timeout_s:g} s"
            await _send_error(send, 504, "timeout", message, extra_headers)
        except Exception:
            status = 500
            if not started:
                message = "the server failed this request"
                await _send_error(send, 500, "internal_error", message, extra_headers)
            raise  # let the server log it; Starlette sees the response already sent
        finally:
            self.watchdog.forget(task)
            self._in_flight.dec()
            self._observe(scope, status, arrival_s, routed=routed)

    def _observe(self, scope: Scope, status: int, arrival_s: float, *, routed: bool) -> None:
        elapsed_s = time.perf_counter() - arrival_s
        agent, route = self._route_labels(scope, routed)
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
        labels = (agent, route, method, _STATUS_CLASS.get(status // 100, "other"))
        observe = self._observers.get(labels)
        if observe is None:
            observe = self._metrics.request_duration_seconds.labels(*labels).observe
            self._observers[labels] = observe
        observe(elapsed_s)

    def _route_labels(self, scope: Scope, routed: bool) -> tuple[str, str]:
        """Return (agent, route template) of the request, cached per route object."""
        route = scope.get("route")
        prefix = scope.get("root_path", "")
        if route is None and not routed:
            route, prefix = _resolve_route(scope)
        if route is None:
            return "none", "unmatched"
        labels = self._routes.get((id(route), prefix))
        if labels is None:
            endpoint = getattr(route, "endpoint", None)
            module = getattr(endpoint, "__module__", None) or "backend"
            labels = (module.rsplit(".", 1)[-1], prefix + getattr(route, "path", ""))
            self._routes[(id(route), prefix)] = labels
        return labels


class Watchdog:
    """Cancels requests that outlive the timeout, with one timer per process.

    `asyncio.timeout` arms a loop timer per request, several microseconds each; here a
    request costs a dict insert and delete. Every request gets the same timeout, so the
    dict (in arrival order) is also in deadline order and each tick stops at the first
    request still within its time. A request is cancelled at most one tick late.
    """

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.tick_s = min(0.05, timeout_s / 4)
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._ticking = False

    def watch(self) -> asyncio.Task[Any]:
        """Start the clock of the current request; return its task."""
        task = asyncio.current_task()
        assert task is not None, "ASGI requests run in tasks"
        loop = asyncio.get_running_loop()
        self._deadlines[task] = loop.time() + self.timeout_s
        if not self._ticking:
            self._ticking = True
            loop.call_later(self.tick_s, self._tick, loop)
        return task

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Tell whether the watchdog cancelled `task` (rather than someone else)."""
        return task in self._expired

    def forget(self, task: asyncio.Task[Any]) -> None:
        """Stop watching a finished request."""
        self._deadlines.pop(task, None)
        self._expired.discard(task)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for task, deadline in self._deadlines.items():
            if deadline > now:
                break
            self._expired.add(task)
        for task in self._expired:
            if self._deadlines.pop(task, None) is not None:
                task.cancel()
        if self._deadlines:
            loop.call_later(self.tick_s, self._tick, loop)
        else:
            self._ticking = False


def _resolve_route(scope: Scope) -> tuple[Any, str]:
    """Find the route a request would reach, for requests the gateway answered itself."""
    app = scope.get("app")
    routes = getattr(app, "routes", ())
    prefix = scope.get("root_path", "")
    probe = dict(scope)
    while True:
        for candidate in routes:
            match, child = candidate.matches(probe)
            if match is not Match.FULL:
                continue
            if isinstance(candidate, Mount):
                probe.update(child)
                prefix = child.get("root_path", prefix)
                routes = candidate.routes
                break
            return candidate, prefix
        else:
            return None, prefix


async def _send_error(
    send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]]
) -> None:
    """Answer the backend's one error shape (see reference_backend.api)."""
    payload = orjson.dumps(error_body(code, message))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", b"%d" % len(payload)), *headers],
        }
    )
    await send({"type": "http.response.body", "body": payload})
