"""Resilience controls: a circuit breaker around a dependency and a token-bucket rate limiter.

The breaker follows the classic three states. *Closed*: calls pass; `failure_threshold`
consecutive failures open it. *Open*: calls fail fast with `CircuitOpenError` for
`reset_timeout_s`. *Half-open*: exactly one call (the probe) goes through, every other call
fails fast until the probe ends; a successful probe closes the breaker, a failed one opens it
again for another `reset_timeout_s`.

The token bucket holds `burst` tokens per client key and refills `rate_per_s` tokens a
second; a request takes one token or is refused with the time until one is available.
`TokenBucket` keeps its buckets in the process: exact for one process, but with N workers a
client may get up to N times the rate. `reference_backend.coordination.SharedTokenBucket`
keeps them in Redis, one per key across every worker; both answer the gateway's
`RateLimiter.admit` with the same `RateDecision` arithmetic (`rate_decision`).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from reference_backend.metrics import BREAKER_STATE_VALUE

if TYPE_CHECKING:
    from reference_backend.metrics import BackendMetrics

T = TypeVar("T")

BreakerState = Literal["closed", "open", "half_open"]


class CircuitOpenError(Exception):
    """The breaker is open (or probing): the dependency was not called."""

    def __init__(self, name: str, retry_after_s: float) -> None:
        super().__init__(f"circuit '{name}' is open; retry in {retry_after_s:.1f}s")
        self.name = name
        self.retry_after_s = retry_after_s


class CircuitBreaker:
    """Fails fast while a dependency is down and lets one probe test its recovery."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 5.0,
        metrics: BackendMetrics | None = None,
        failure_types: tuple[type[BaseException], ...] = (Exception,),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold}")
        if reset_timeout_s <= 0:
            raise ValueError(f"reset_timeout_s must be positive, got {reset_timeout_s}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._failure_types = failure_types
        self._clock = clock
        self._gauge = metrics.breaker_state.labels(dependency=name) if metrics else None
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probe_running = False
        self._publish()

    @property
    def state(self) -> BreakerState:
        """Current state; an open breaker whose timeout elapsed reads as half-open."""
        if self._state == "open" and self._clock() - self._opened_at >= self.reset_timeout_s:
            return "half_open"
        return self._state

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run `fn` through the breaker; raise CircuitOpenError without calling it when open."""
        self._admit()
        probe = self._state == "half_open"
        try:
            result = await fn()
        except asyncio.CancelledError:
            if probe:
                # A cancelled probe proved nothing: let the next call probe at once.
                self._probe_running = False
                self._set_state("open")
                self._opened_at = self._clock() - self.reset_timeout_s
            raise
        except self._failure_types:
            self._record_failure(probe)
            raise
        except BaseException:
            if probe:
                self._probe_running = False
                self._close()
            raise
        self._record_success(probe)
        return result

    def _admit(self) -> None:
        if self._state == "closed":
            return
        if self._state == "open":
            waited_s = self._clock() - self._opened_at
            if waited_s < self.reset_timeout_s:
                raise CircuitOpenError(self.name, self.reset_timeout_s - waited_s)
            self._set_state("half_open")
        if self._probe_running:
            raise CircuitOpenError(self.name, self.reset_timeout_s)
        self._probe_running = True

    def _record_failure(self, probe: bool) -> None:
        if probe:
            self._probe_running = False
            self._open()
            return
        if self._state != "closed":
            return
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._open()

    def _record_success(self, probe: bool) -> None:
        if probe:
            self._probe_running = False
            self._close()
        elif self._state == "closed":
            self._failures = 0

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._set_state("open")

    def _close(self) -> None:
        self._failures = 0
        self._set_state("closed")

    def _set_state(self, state: BreakerState) -> None:
        if state != self._state:
            self._state = state
            self._publish()

    def _publish(self) -> None:
        if self._gauge is not None:
            self._gauge.set(BREAKER_STATE_VALUE[self._state])


@dataclass(frozen=True, slots=True)
class RateDecision:
    """What the token bucket decided for one request."""

    allowed: bool
    """True when a token was taken."""
    limit: int
    """Bucket capacity (RateLimit-Limit)."""
    remaining: int
    """Whole tokens left after this request (RateLimit-Remaining)."""
    reset_s: int
    """Seconds until the bucket is full again, rounded up (RateLimit-Reset)."""
    retry_after_s: int
    """Seconds until one token is available, rounded up (Retry-After); 0 when allowed."""


def rate_decision(allowed: bool, tokens: float, rate_per_s: float, burst: int) -> RateDecision:
    """The decision and its headers, from the tokens left in the bucket after the request."""
    retry_after_s = 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate_per_s))
    reset_s = math.ceil((burst - tokens) / rate_per_s)
    return RateDecision(allowed, burst, int(tokens), reset_s, retry_after_s)


class RateLimiter(Protocol):
    """What the gateway asks before it serves a request."""

    async def admit(self, key: str) -> RateDecision:
        """Take one token from `key`'s bucket if there is one."""
        ...


FORGET_SHARE = 0.1
"""Share of a full `TokenBucket` table forgotten at once, least recently seen first."""


class TokenBucket:
    """Per-key token buckets in this process: `burst` capacity, refilled at `rate_per_s` a second."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be positive, got {rate_per_s}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._max_keys = max_keys
        self._clock = clock
        # key -> [tokens, last refill time]; insertion order approximates least recently seen.
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str) -> RateDecision:
        """Take one token from `key`'s bucket if there is one."""
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_least_recent()
            bucket = [float(self.burst), now]
        else:
            bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate_per_s)
            bucket[1] = now
        self._buckets[key] = bucket
        allowed = bucket[0] >= 1.0
        if allowed:
            bucket[0] -= 1.0
        return rate_decision(allowed, bucket[0], self.rate_per_s, self.burst)

    def _forget_least_recent(self) -> None:
        """Forgets the `FORGET_SHARE` of keys seen least recently, in one pass.

        Forgetting a key gives it a full bucket again: bounded memory, bounded leniency. One
        key at a time (`del d[next(iter(d))]`) would cost O(n) per new client once the table
        is full: a dict leaves a deleted entry's slot in place until it resizes, and every
        `iter` walks over those at its front (11.6 % of the backend's CPU with 1,000,000
        distinct clients). Rebuilding keeps the newest keys in order and the slots compact,
        once every `FORGET_SHARE * max_keys` new clients."""
        keep = self._max_keys - max(1, int(self._max_keys * FORGET_SHARE))
        buckets = self._buckets
        self._buckets = dict(itertools.islice(buckets.items(), len(buckets) - keep, None))

    async def admit(self, key: str) -> RateDecision:
        """`take`, as the gateway's `RateLimiter` (it never waits)."""
        return self.take(key)
