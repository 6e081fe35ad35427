"""Fault injection for calibration: added latency, CPU burn and errors per route.

perfctl's accuracy tests inject a known latency and check that the harness measures it, so
the injected delay is exact: the gateway computes a deadline from the request's arrival
(`time.perf_counter()` when it entered the gateway) plus the sampled delay and sleeps until
that deadline (`asyncio.sleep` of the remaining time, repeated while the event loop's
millisecond timers wake it early), so the added latency is the sampled value, not the
sampled value plus scheduling noise rounded to a timer tick.

Latency models (per fault, in `latency`):

- `fixed`: `{"kind": "fixed", "ms": 50}` adds exactly 50 ms.
- `lognormal`: `{"kind": "lognormal", "p50_ms": 20, "p99_ms": 200}`. A lognormal delay
  is `exp(mu + sigma * Z)` with Z standard normal. Its median is `exp(mu)`, so
  `mu = ln(p50)`; its 99th percentile is `exp(mu + z99 * sigma)` with `z99 = 2.3263...`
  (the standard normal's 0.99 quantile), so `sigma = ln(p99 / p50) / z99`. Each request
  draws `p50 * exp(sigma * Z)`.
- `stall`: `{"kind": "stall", "duration_ms": 500, "every_s": 5}`. Time is cut into periods
  of `every_s` seconds starting when the fault was set (wall clock, so every worker agrees);
  the first `duration_ms` of each period is a stall, and a request arriving `t` ms into a
  stall waits `duration_ms - t`, so every request that arrives during a stall is released
  when the stall ends. Requests outside a stall are not delayed.
- `rate`: `{"kind": "rate", "ms_per_rps": 0.2, "base_ms": 0}` adds
  `base_ms + ms_per_rps * r`, where `r` is the request rate this worker received over the
  last second (the requests this fault matched whose arrival lies within one second before
  this one's, this one included, per second). Latency that rises with load, and
  deterministically: on a target with this fault, an objective `latency p50 < L ms` breaks
  at about `(L - own p50 - base_ms) / ms_per_rps` requests/s per worker, a known knee to
  calibrate `perfctl capacity` against. The delay is a sleep, so it costs no CPU: the knee
  lies where the objective breaks, not where the CPU runs out. Each worker counts its own
  requests, so with N workers sharing the load evenly the knee is N times that rate.

`cpu_burn_ms` spins the worker for that much CPU time per request (blocking its event
loop, as a CPU-bound handler would). `error_rate` answers that fraction of matching requests
with `error_status` instead of calling the handler (after the delay).

A fault's `route` is a path glob (`/api/products/*`, fnmatch rules, matched against the
request path, optionally narrowed by `method`), an operation name of the contract
(`product_search`), or `*` for every route. The first fault (in list order) that matches a
request applies. `/health`, `/ready`, `/metrics` and `/admin/*` are never faulted.

Sharing across workers: faults live in a JSON file (`PERFCTL_FAULTS_FILE`, set by
`serve_backend` to a file in its temporary directory); each worker re-reads it when its
stat changes, checking at most every `refresh_interval_s` (50 ms). Writes are atomic
(`os.replace`) under an `flock`, and an admin call that changes faults answers only after
twice the refresh interval, so when it returns every worker applies the new faults.
Without the variable (tests, one process) faults live in the injector only.
"""

from __future__ import annotations

import asyncio
import fcntl
import fnmatch
import hmac
import math
import os
import random
import re
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reference_backend.api import error_body

if TYPE_CHECKING:
    from reference_backend.settings import Settings

FAULTS_FILE_ENV = "PERFCTL_FAULTS_FILE"
Z99 = 2.3263478740408408
"""0.99 quantile of the standard normal distribution."""
EXEMPT_PREFIXES = ("/health", "/ready", "/metrics", "/admin")

# The contract's operations (common.md): name -> (method, path regex).
_ID = r"[^/]+"
OPERATIONS: dict[str, tuple[str, str]] = {
    "login": ("POST", r"/api/login"),
    "logout": ("POST", r"/api/logout"),
    "category_list": ("GET", r"/api/categories"),
    "product_search": ("GET", r"/api/products/search"),
    "product_detail": ("GET", rf"/api/products/(?!search$){_ID}"),
    "recommendations": ("GET", rf"/api/recommendations/{_ID}"),
    "inventory_check": ("GET", rf"/api/inventory/(?!reservations$){_ID}"),
    "inventory_reserve": ("POST", r"/api/inventory/reservations"),
    "inventory_release": ("DELETE", rf"/api/inventory/reservations/{_ID}"),
    "price_lookup": ("GET", rf"/api/pricing/{_ID}"),
    "cart_view": ("GET", rf"/api/cart/{_ID}"),
    "cart_add": ("POST", rf"/api/cart/{_ID}/items"),
    "cart_remove": ("DELETE", rf"/api/cart/{_ID}/items/{_ID}"),
    "order_processing": ("POST", r"/api/orders"),
    "order_status": ("GET", rf"/api/orders/{_ID}"),
    "order_history": ("GET", rf"/api/users/{_ID}/orders"),
    "payment_processing": ("POST", r"/api/payments"),
    "preferences_get": ("GET", rf"/api/users/{_ID}/preferences"),
    "preferences_put": ("PUT", rf"/api/users/{_ID}/preferences"),
    "customer_support": ("POST", r"/api/support/messages"),
}
_OPERATION_PATTERNS = {
    name: (method, re.compile(path + "/?")) for name, (method, path) in OPERATIONS.items()
}


_M = TypeVar("_M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixedLatency(_Model):
    """Add exactly `ms` milliseconds."""

    kind: Literal["fixed"]
    ms: float = Field(ge=0, le=600_000)


class LognormalLatency(_Model):
    """Add a lognormal delay with the given median and 99th percentile."""

    kind: Literal["lognormal"]
    p50_ms: float = Field(gt=0, le=600_000)
    p99_ms: float = Field(gt=0, le=600_000)

    @model_validator(mode="after")
    def _p99_not_below_p50(self) -> LognormalLatency:
        if self.p99_ms < self.p50_ms:
            raise ValueError(f"p99_ms ({self.p99_ms}) must be >= p50_ms ({self.p50_ms})")
        return self

    @property
    def sigma(self) -> float:
        """Shape parameter of the underlying normal: ln(p99 / p50) / z99."""
        return math.log(self.p99_ms / self.p50_ms) / Z99


class StallLatency(_Model):
    """Stall every request for the first `duration_ms` of each `every_s` period."""

    kind: Literal["stall"]
    duration_ms: float = Field(gt=0)
    every_s: float = Field(gt=0, le=86_400)

    @model_validator(mode="after")
    def _stall_shorter_than_period(self) -> StallLatency:
        if self.duration_ms >= self.every_s * 1000:
            raise ValueError(
                f"duration_ms ({self.duration_ms}) must be shorter than every_s ({self.every_s} s)"
            )
        return self


class RateLatency(_Model):
    """Add `base_ms` plus `ms_per_rps` for every request/s this worker received in the last
    second (of the requests this fault matches)."""

    kind: Literal["rate"]
    ms_per_rps: float = Field(gt=0, le=1_000)
    base_ms: float = Field(default=0, ge=0, le=600_000)


Latency = Annotated[
    FixedLatency | LognormalLatency | StallLatency | RateLatency, Field(discriminator="kind")
]

RATE_WINDOW_S = 1.0
"""The `rate` latency model counts the arrivals of this last span (seconds)."""


class ArrivalRate:
    """The arrivals per second of one fault's requests over the last `RATE_WINDOW_S`, in
    one worker: a sliding window of arrival times (at most one second of them)."""

    def __init__(self) -> None:
        self._arrivals_s: deque[float] = deque()

    def record(self, arrival_s: float) -> float:
        """Count a request arriving at `arrival_s` (`time.perf_counter()`); return the
        arrivals per second in (arrival_s - RATE_WINDOW_S, arrival_s], this one included."""
        arrivals = self._arrivals_s
        arrivals.append(arrival_s)
        horizon_s = arrival_s - RATE_WINDOW_S
        while arrivals[0] <= horizon_s:
            arrivals.popleft()
        return len(arrivals) / RATE_WINDOW_S


class FaultSpec(_Model):
    """One fault as the admin API accepts it."""

    route: str = Field(min_length=1, max_length=200)
    method: str | None = None
    latency: Latency | None = None
    cpu_burn_ms: float = Field(default=0, ge=0, le=10_000)
    error_rate: float = Field(default=0, ge=0, le=1)
    error_status: int = Field(default=503, ge=400, le=599)

    @model_validator(mode="after")
    def _known_route(self) -> FaultSpec:
        if self.route != "*" and not self.route.startswith("/") and self.route not in OPERATIONS:
            known = ", ".join(sorted(OPERATIONS))
            raise ValueError(
                f"route must be '*', a path glob starting with '/' or an operation "
                f"({known}), got {self.route!r}"
            )
        return self


class FaultSet(_Model):
    """The whole set of faults (PUT body and stored file)."""

    faults: list[FaultSpec] = Field(default_factory=list, max_length=100)


@dataclass(frozen=True, slots=True)
class ActiveFault:
    """A fault in force, with the wall-clock time it was set (the origin of stall periods)."""

    spec: FaultSpec
    """What to inject."""
    set_at_s: float
    """Unix time the fault was set."""

    def matches(self, method: str, path: str) -> bool:
        """Tell whether this fault applies to a request."""
        route = self.spec.route
        if route == "*":
            return self.spec.method is None or self.spec.method.upper() == method
        if route.startswith("/"):
            if self.spec.method is not None and self.spec.method.upper() != method:
                return False
            return fnmatch.fnmatchcase(path, route)
        op_method, pattern = _OPERATION_PATTERNS[route]
        return op_method == method and pattern.fullmatch(path) is not None

    def delay_s(self, rng: random.Random, now_unix_s: float, rate_per_s: float = 0.0) -> float:
        """Sample the delay this fault adds to a request arriving now, when this worker
        received `rate_per_s` of its requests over the last second (the `rate` model's input)."""
        latency = self.spec.latency
        if latency is None:
            return 0.0
        if isinstance(latency, FixedLatency):
            return latency.ms / 1000
        if isinstance(latency, LognormalLatency):
            return latency.p50_ms * math.exp(latency.sigma * rng.gauss(0.0, 1.0)) / 1000
        if isinstance(latency, RateLatency):
            return (latency.base_ms + latency.ms_per_rps * rate_per_s) / 1000
        phase_s = (now_unix_s - self.set_at_s) % latency.every_s
        duration_s = latency.duration_ms / 1000
        return duration_s - phase_s if phase_s < duration_s else 0.0

    def to_json(self) -> dict[str, object]:
        """Return the fault as the admin API and the shared file show it."""
        return {**self.spec.model_dump(exclude_none=True), "set_at_s": self.set_at_s}


class FaultInjector:
    """Holds the faults in force (shared through a file across workers) and inflicts them.

    `path` defaults to PERFCTL_FAULTS_FILE (set by `serve_backend`); without either the
    faults live in this object only.
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        refresh_interval_s: float = 0.05,
        rng: random.Random | None = None,
    ) -> None:
        self.path = path if path is not None else (os.environ.get(FAULTS_FILE_ENV) or None)
        self.refresh_interval_s = refresh_interval_s
        self._rng = rng or random.Random()
        self._faults: tuple[ActiveFault, ...] = ()
        self._checked_at = -math.inf
        self._file_stamp: tuple[int, int, int] | None = None
        self._rates: dict[ActiveFault, ArrivalRate] = {}

    # -- reading --------------------------------------------------------------------------

    @property
    def faults(self) -> tuple[ActiveFault, ...]:
        """Faults in force now (re-read from the shared file when it changed)."""
        if self.path is not None:
            now = time.monotonic()
            if now - self._checked_at >= self.refresh_interval_s:
                self._checked_at = now
                self._refresh()
        return self._faults

    def match(self, method: str, path: str) -> ActiveFault | None:
        """Return the first fault that applies to this request, or None (the common case)."""
        faults = self.faults
        if not faults or path.startswith(EXEMPT_PREFIXES):
            return None
        for fault in faults:
            if fault.matches(method, path):
                return fault
        return None

    def delay_s(self, fault: ActiveFault, arrival_s: float) -> float:
        """Sample the delay `fault` adds to a request that entered the gateway at `arrival_s`
        (`time.perf_counter()`), counting it in the fault's arrival rate when the fault's
        latency depends on it."""
        rate_per_s = 0.0
        if isinstance(fault.spec.latency, RateLatency):
            rate = self._rates.get(fault)
            if rate is None:
                # a fault replaced or removed takes its count with it
                in_force = self.faults
                self._rates = {f: r for f, r in self._rates.items() if f in in_force}
                rate = self._rates[fault] = ArrivalRate()
            rate_per_s = rate.record(arrival_s)
        return fault.delay_s(self._rng, time.time(), rate_per_s)

    async def inflict(self, fault: ActiveFault, arrival_s: float) -> int | None:
        """Delay and burn CPU as `fault` says; return the error status to answer, or None.

        `arrival_s` is the request's `time.perf_counter()` when it entered the gateway.
        """
        delay_s = self.delay_s(fault, arrival_s)
        if delay_s > 0:
            deadline = arrival_s + delay_s
            # Loop timers tick in milliseconds and may wake a little early: sleep again.
            while (remaining_s := deadline - time.perf_counter()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(remaining_s)
        if fault.spec.cpu_burn_ms > 0:
            _burn_cpu(fault.spec.cpu_burn_ms / 1000)
        if fault.spec.error_rate > 0 and self._rng.random() < fault.spec.error_rate:
            return fault.spec.error_status
        return None

    # -- writing --------------------------------------------------------------------------

    def replace(self, specs: list[FaultSpec]) -> tuple[ActiveFault, ...]:
        """Put exactly `specs` in force."""
        now = time.time()
        with self._locked():
            self._store(tuple(ActiveFault(spec, now) for spec in specs))
        return self._faults

    def add(self, spec: FaultSpec) -> ActiveFault:
        """Put one fault in force, replacing any fault on the same route and method."""
        fault = ActiveFault(spec, time.time())
        with self._locked():
            self._refresh()
            kept = tuple(
                f
                for f in self._faults
                if (f.spec.route, f.spec.method) != (spec.route, spec.method)
            )
            self._store((*kept, fault))
        return fault

    def remove(self, route: str | None = None) -> int:
        """Clear every fault, or those on `route`; return how many were removed."""
        with self._locked():
            self._refresh()
            kept = tuple(f for f in self._faults if route is not None and f.spec.route != route)
            removed = len(self._faults) - len(kept)
            self._store(kept)
        return removed

    async def settle(self) -> None:
        """Wait until every worker has seen the last change (see the module docstring)."""
        if self.path is not None:
            await asyncio.sleep(2 * self.refresh_interval_s)

    # -- the shared file ------------------------------------------------------------------

    def _refresh(self) -> None:
        if self.path is None:
            return
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._faults, self._file_stamp = (), None
            return
        stamp = (stat.st_mtime_ns, stat.st_ino, stat.st_size)
        if stamp == self._file_stamp:
            return
        with open(self.path, "rb") as handle:
            self._faults = _decode(handle.read())
        self._file_stamp = stamp

    def _store(self, faults: tuple[ActiveFault, ...]) -> None:
        self._faults = faults
        if self.path is None:
            return
        temporary = f"{self.path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(orjson.dumps({"faults": [f.to_json() for f in faults]}))
        os.replace(temporary, self.path)
        self._file_stamp = None
        self._refresh()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        with open(f"{self.path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _decode(raw: bytes) -> tuple[ActiveFault, ...]:
    data = orjson.loads(raw)
    faults = []
    for item in data.get("faults", []):
        set_at_s = float(item.pop("set_at_s"))
        faults.append(ActiveFault(FaultSpec.model_validate(item), set_at_s))
    return tuple(faults)


def _burn_cpu(duration_s: float) -> None:
    # CPU time, not wall time: on a busy machine the request still costs exactly this much CPU.
    deadline = time.thread_time() + duration_s
    spins = 0
    while time.thread_time() < deadline:
        spins += 1


def parse_fault_set(raw: bytes) -> FaultSet:
    """Validate a PUT body; raise ValueError with a one-line message."""
    return _validated(FaultSet, raw)


def parse_fault(raw: bytes) -> FaultSpec:
    """Validate a POST body; raise ValueError with a one-line message."""
    return _validated(FaultSpec, raw)


def _validated(model: type[_M], raw: bytes) -> _M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ValueError(f"{where}: {first['msg']}") from None


def admin_routes(settings: Settings, injector: FaultInjector) -> list[BaseRoute]:
    """Return the /admin/faults routes, or none at all when no admin token is configured.

    GET lists the faults in force; PUT `{"faults": [...]}` replaces them; POST one fault
    adds it (replacing a fault on the same route and method); DELETE clears them all, or
    only those of `?route=...`. Every call needs `Authorization: Bearer <admin token>`.
    """
    if settings.admin_token is None or not settings.admin_token.strip():
        return []  # a blank token would guard fault injection with nothing: no routes at all
    expected = f"Bearer {settings.admin_token}".encode()

    async def faults_endpoint(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse(
                error_body("unauthorized", "send Authorization: Bearer <admin token>"),
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        status = 200
        if request.method in ("PUT", "POST"):
            try:
                if request.method == "PUT":
                    injector.replace(parse_fault_set(await request.body()).faults)
                else:
                    injector.add(parse_fault(await request.body()))
                    status = 201
            except ValueError as error:
                return JSONResponse(error_body("invalid_fault", str(error)), 422)
            await injector.settle()
        elif request.method == "DELETE":
            route = request.query_params.get("route")
            removed = injector.remove(route)
            if route is not None and removed == 0:
                return JSONResponse(error_body("not_found", f"no fault on route {route!r}"), 404)
            await injector.settle()
        faults = [fault.to_json() for fault in injector.faults]
        return JSONResponse({"faults": faults}, status_code=status)

    return [Route("/admin/faults", faults_endpoint, methods=["GET", "PUT", "POST", "DELETE"])]
