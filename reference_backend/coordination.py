"""State every worker process shares through Redis: a rate limit and a mutex per name.

    Coordination        one Redis client and circuit breaker per process ("redis_coordination")
    ├── SharedTokenBucket   one token bucket per client key, refilled and taken by a Lua script
    └── SharedLock          one mutex per name: SET NX PX with a random token, compare-and-delete

`perfctl serve --workers N` runs N processes behind one port, and state held in a process
(a token bucket, an asyncio lock) sees only the share of the traffic that process accepted.
With `--redis-url` these primitives hold across the workers (and across every backend
process that shares the database, since keys live under the data set's prefix).

Redis is optional infrastructure the backend survives losing (the cache does too). When a
call fails (an error, a 0.5 s timeout, or the breaker open after 3 failures in a row, probed
again every 2 s) each primitive falls back to its in-process twin for that request and
counts it in `coordination_fallbacks_total{primitive, reason}`:

- the rate limit fails open to the worker's own `TokenBucket` with the same rate and burst.
  The limiter protects the backend from a runaway client; refusing well-behaved clients
  because the limiter's store is down would turn an outage of an optional dependency into
  one of the shop. So an outage never answers a 500, nor a 429 the shared bucket would not
  have given; a client may get up to N times its rate meanwhile (the behaviour without
  Redis), and back at one bucket once Redis answers.
- the lock fails open to the asyncio lock its caller holds in front of it (see
  `agents/orders.py`): checkouts keep working, exclusive per process as before Redis.

No command is retried: a timed-out EVALSHA may have taken its token, a timed-out SET NX may
have set the lock, and a retry would take a second token or find its own lock taken.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from reference_backend.cache import dataset_key_prefix, redis_client
from reference_backend.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    RateDecision,
    RateLimiter,
    TokenBucket,
    rate_decision,
)

if TYPE_CHECKING:
    from reference_backend.metrics import BackendMetrics
    from reference_backend.settings import Settings

T = TypeVar("T")

log = logging.getLogger(__name__)

BREAKER_NAME = "redis_coordination"
# Every request takes a connection for one round trip when the rate limit is shared; a
# pool this size serves tens of thousands of requests a second per worker.
_REDIS_POOL_SIZE = 128
_WARN_EVERY_S = 10.0
_FIRST_POLL_S = 0.005
_MAX_POLL_S = 0.1


class Primitive(StrEnum):
    """What a key in Redis is for: its key space and its `primitive` label."""

    RATE_LIMIT = "rate_limit"
    CHECKOUT_LOCK = "checkout_lock"


class FallbackReason(StrEnum):
    """Why a primitive answered in-process instead of through Redis (the `reason` label)."""

    REDIS_ERROR = "redis_error"
    """Redis was called and failed: refused connection, timeout, an error reply."""
    CIRCUIT_OPEN = "circuit_open"
    """Redis was not called: the breaker is open after failures in a row."""


class CoordinationUnavailableError(Exception):
    """Redis could not serve a coordination call; the caller falls back in-process."""

    def __init__(self, reason: FallbackReason, detail: str) -> None:
        super().__init__(f"redis coordination unavailable ({reason}): {detail}")
        self.reason = reason


class LockBusyError(Exception):
    """Another holder kept the lock for the whole wait."""

    def __init__(self, primitive: Primitive, name: str, waited_s: float) -> None:
        super().__init__(f"{primitive} {name!r} still held by another process after {waited_s:g} s")
        self.primitive = primitive
        self.name = name
        self.waited_s = waited_s


class Coordination:
    """The Redis client and breaker through which one process's shared primitives talk."""

    def __init__(
        self,
        redis: aioredis.Redis,
        metrics: BackendMetrics,
        *,
        key_prefix: str,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.redis = redis
        self.key_prefix = key_prefix
        self.breaker = breaker or CircuitBreaker(
            BREAKER_NAME, failure_threshold=3, reset_timeout_s=2.0, metrics=metrics
        )
        counter = metrics.coordination_fallbacks_total
        self._fallbacks = {
            (primitive, reason): counter.labels(primitive.value, reason.value).inc
            for primitive in Primitive
            for reason in FallbackReason
        }
        self._warned_at_s = -_WARN_EVERY_S

    def key(self, primitive: Primitive, name: str) -> str:
        """The Redis key of `name` in `primitive`'s key space."""
        return f"{self.key_prefix}{primitive.value}:{name}"

    async def call(self, operation: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """Run one Redis operation through the breaker; raise CoordinationUnavailableError."""
        redis = self.redis
        try:
            return await self.breaker.call(lambda: operation(redis))
        except CircuitOpenError as error:
            raise CoordinationUnavailableError(FallbackReason.CIRCUIT_OPEN, str(error)) from None
        except (TimeoutError, RedisError, OSError) as error:
            detail = str(error) or type(error).__name__
            raise CoordinationUnavailableError(FallbackReason.REDIS_ERROR, detail) from None

    def fall_back(self, primitive: Primitive, error: CoordinationUnavailableError) -> None:
        """Count (and now and then log) one answer given in-process instead of through Redis."""
        self._fallbacks[primitive, error.reason]()
        now_s = time.monotonic()
        if now_s - self._warned_at_s >= _WARN_EVERY_S:
            self._warned_at_s = now_s
            log.warning("%s falls back to this process: %s", primitive.value, error)

    async def aclose(self) -> None:
        """Close the Redis connection pool."""
        await self.redis.aclose()


def open_coordination(
    settings: Settings,
    metrics: BackendMetrics,
    *,
    key_prefix: str | None = None,
    breaker: CircuitBreaker | None = None,
) -> Coordination | None:
    """The coordination `settings` ask for: through Redis with a URL, None otherwise.

    Nothing connects here (the pool connects on first use, in the serving event loop), so
    an app can be built before its loop runs and an unreachable Redis is not fatal.
    """
    if settings.redis_url is None:
        return None
    redis = redis_client(settings.redis_url, pool_size=_REDIS_POOL_SIZE, retries=0)
    prefix = dataset_key_prefix(settings) if key_prefix is None else key_prefix
    return Coordination(redis, metrics, key_prefix=prefix, breaker=breaker)


def rate_limiter(settings: Settings, coordination: Coordination | None) -> RateLimiter | None:
    """The gateway's limiter: one bucket per key across workers with Redis, else per process.

    None when `settings.rate_limit_per_s` is 0 (the limiter is off).
    """
    if settings.rate_limit_per_s <= 0:
        return None
    if coordination is None:
        return TokenBucket(settings.rate_limit_per_s, settings.rate_limit_burst)
    return SharedTokenBucket(coordination, settings.rate_limit_per_s, settings.rate_limit_burst)


# KEYS: one bucket each, a hash {tokens, at}, in the order the requests came (a key may
# recur); ARGV: rate_per_s, burst, now_s ('' = Redis's clock, one clock for every worker and
# machine). Per key the same arithmetic as `TokenBucket.take`. Numbers are written with
# %.17g: Lua's default %.14g would round `at` to 0.1 ms. A key expires when its bucket would
# be full again, so a missing key is a full bucket and idle clients cost no memory. Returns
# {taken, tokens left} per key, flat: taken is 1 when a token was taken, else 0.
_TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
else
  now = tonumber(ARGV[3])
end
local at = string.format('%.17g', now)
local replies = {}
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = burst
  if state[1] then
    local elapsed = math.max(0, now - tonumber(state[2]))
    tokens = math.min(burst, tonumber(state[1]) + elapsed * rate)
  end
  local taken = 0
  if tokens >= 1 then
    tokens = tokens - 1
    taken = 1
  end
  local left = string.format('%.17g', tokens)
  redis.call('HSET', key, 'tokens', left, 'at', at)
  redis.call('PEXPIRE', key, math.max(1, math.ceil((burst - tokens) / rate * 1000)))
  replies[2 * i - 1] = taken
  replies[2 * i] = left
end
return replies
"""
_MAX_BATCH = 256


class SharedTokenBucket:
    """Per-key token buckets held in Redis: one bucket per key for every worker together.

    Refill and take happen in a Lua script, so concurrent requests in any number of
    processes never take the same token twice. Requests that arrive in the same turn of the
    event loop share one script call (one round trip for all of them, keys in arrival
    order): a redis-py call costs ~200 µs of this process's CPU, more than the rest of a
    small request, so under load one call per request would halve throughput. When Redis
    fails the requests are decided by this process's own bucket (see the module docstring).
    """

    def __init__(
        self,
        coordination: Coordination,
        rate_per_s: float,
        burst: int,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._fallback = TokenBucket(rate_per_s, burst)  # also checks the parameters
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._coordination = coordination
        # Unix time for the script; None uses Redis's own clock (tests inject one).
        self._clock = clock
        self._script = coordination.redis.register_script(_TOKEN_BUCKET_LUA)
        self._rate_arg = repr(float(rate_per_s))
        self._waiting: list[tuple[str, asyncio.Future[RateDecision]]] = []
        self._flushes: set[asyncio.Task[None]] = set()

    async def admit(self, key: str) -> RateDecision:
        """Take one token from `key`'s shared bucket if there is one."""
        loop = asyncio.get_running_loop()
        decided: asyncio.Future[RateDecision] = loop.create_future()
        self._waiting.append((key, decided))
        if len(self._waiting) == 1:
            # After the callbacks of this turn: the requests they start join the batch.
            loop.call_soon(self._flush)
        return await decided

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        for start in range(0, len(waiting), _MAX_BATCH):
            task = asyncio.ensure_future(self._decide(waiting[start : start + _MAX_BATCH]))
            self._flushes.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._flushes.discard)

    async def _decide(self, batch: list[tuple[str, asyncio.Future[RateDecision]]]) -> None:
        coordination = self._coordination
        keys = [coordination.key(Primitive.RATE_LIMIT, key) for key, _ in batch]
        now_arg = "" if self._clock is None else repr(self._clock())
        args = (self._rate_arg, self.burst, now_arg)
        try:
            reply: list[Any] = await coordination.call(
                lambda redis: self._script(keys=keys, args=args)
            )
        except CoordinationUnavailableError as error:
            for key, decided in batch:
                coordination.fall_back(Primitive.RATE_LIMIT, error)
                if not decided.done():
                    decided.set_result(self._fallback.take(key))
            return
        except asyncio.CancelledError:  # the loop is closing: so are its requests
            for _, decided in batch:
                decided.cancel()
            raise
        except Exception as error:  # a bug: every request of the batch fails with it (500)
            for _, decided in batch:
                if not decided.done():
                    decided.set_exception(error)
            return
        for n, (_, decided) in enumerate(batch):
            tokens = float(reply[2 * n + 1])
            decision = rate_decision(reply[2 * n] == 1, tokens, self.rate_per_s, self.burst)
            if not decided.done():  # its request may have been cancelled meanwhile
                decided.set_result(decision)


# Deletes the lock only while it still holds this holder's token: a holder whose lock
# expired (and was taken by another) must not release the other's.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class SharedLock:
    """A mutex per name held in Redis, so that it excludes holders in every process.

    Taken with `SET key token NX PX ttl` (a random token per holding) and released by a
    compare-and-delete script. The TTL frees the lock of a process that died holding it;
    it must outlast the longest a live holder keeps it, or two holders overlap. A waiter
    polls with jittered exponential backoff (5 ms doubling to 100 ms) for up to `wait_s`,
    then gets `LockBusyError`. When Redis fails, `hold` proceeds without the shared lock
    (see the module docstring): callers keep an in-process lock in front of this one.
    """

    def __init__(
        self, coordination: Coordination, primitive: Primitive, *, ttl_s: float, wait_s: float
    ) -> None:
        if ttl_s <= 0 or wait_s < 0:
            raise ValueError(
                f"ttl_s must be positive and wait_s not negative, got {ttl_s}, {wait_s}"
            )
        self.primitive = primitive
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        self._coordination = coordination
        self._release_script = coordination.redis.register_script(_RELEASE_LUA)
        self._rng = random.Random()

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        """Hold the lock of `name`; yield True when Redis holds it, False when it fell back."""
        key = self._coordination.key(self.primitive, name)
        token = secrets.token_hex(16)
        try:
            held = await self._acquire(key, token, name)
        except asyncio.CancelledError:
            # The last SET may have landed before the cancellation: free it if it did.
            await asyncio.shield(self._release(key, token, name, quiet=True))
            raise
        try:
            yield held
        finally:
            if held:
                # Shielded: a cancelled request (the gateway's timeout) still frees its lock.
                await asyncio.shield(self._release(key, token, name))

    async def _acquire(self, key: str, token: str, name: str) -> bool:
        coordination = self._coordination
        ttl_ms = max(1, round(self.ttl_s * 1000))
        loop = asyncio.get_running_loop()
        started_s = loop.time()
        delay_s = _FIRST_POLL_S
        while True:
            try:
                if await coordination.call(lambda redis: redis.set(key, token, nx=True, px=ttl_ms)):
                    return True
            except CoordinationUnavailableError as error:
                coordination.fall_back(self.primitive, error)
                return False
            remaining_s = started_s + self.wait_s - loop.time()
            if remaining_s <= 0:
                raise LockBusyError(self.primitive, name, self.wait_s)
            # Jitter: waiters in several processes do not poll in lockstep.
            await asyncio.sleep(min(remaining_s, delay_s * self._rng.uniform(0.5, 1.0)))
            delay_s = min(delay_s * 2, _MAX_POLL_S)

    async def _release(self, key: str, token: str, name: str, *, quiet: bool = False) -> None:
        """Delete the lock if it still holds `token`; `quiet` when it may never have been set."""
        try:
            released = await self._coordination.call(
                lambda redis: self._release_script(keys=(key,), args=(token,))
            )
        except CoordinationUnavailableError as error:
            if quiet:
                return
            log.warning(
                "%s %r not released, it expires within %g s: %s",
                self.primitive.value,
                name,
                self.ttl_s,
                error,
            )
            return
        if released != 1 and not quiet:
            log.warning(
                "%s %r expired before its holder released it (held longer than %g s)",
                self.primitive.value,
                name,
                self.ttl_s,
            )
