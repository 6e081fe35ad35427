"""The backend's cache: an in-process LRU/TTL tier, in front of Redis when a URL is given.

TTLs follow the seed's table (`CACHE_TTL_S`). Redis holds entries for the full TTL and
evicts by `allkeys-lru` under a memory cap. The in-process tier holds the decoded values;
when another process can change what it holds (Redis shared by several workers, or several
workers without Redis) it keeps an entry at most `_SHARED_LOCAL_TTL_S`, so an invalidation
in one worker reaches the others within that bound.

A miss is single-flight: concurrent `get_or_load` calls for one key share one loader call.
Redis sits behind a circuit breaker: while it is unreachable the cache answers from the
in-process tier and the loaders (the database), and it returns to Redis once a probe passes.
Values are JSON (orjson); callers must treat returned values as read-only, they are shared.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, cast

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from reference_backend.resilience import CircuitBreaker, CircuitOpenError

if TYPE_CHECKING:
    from reference_backend.metrics import BackendMetrics
    from reference_backend.settings import Settings

T = TypeVar("T")

log = logging.getLogger(__name__)


class CacheType(StrEnum):
    """The kinds of data the backend caches, each with its own TTL."""

    PRODUCT = "product"
    PREFERENCES = "preferences"
    SEARCH = "search"
    RECOMMENDATIONS = "recommendations"
    PRICING = "pricing"


CACHE_TTL_S: dict[CacheType, int] = {
    CacheType.PRODUCT: 3600,
    CacheType.PREFERENCES: 86400,
    CacheType.SEARCH: 1800,
    CacheType.RECOMMENDATIONS: 900,
    CacheType.PRICING: 300,
}
"""Time to live per cache type, from the seed's caching table."""

DEFAULT_KEY_PREFIX = "perfctl:"
LOCAL_MAX_ENTRIES = 20_000
REDIS_MAXMEMORY = "256mb"
_SHARED_LOCAL_TTL_S = 1.0
REDIS_TIMEOUT_S = 0.5
_REDIS_POOL_SIZE = 64
_SCAN_BATCH = 500
_REDIS_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


class LocalCache:
    """An in-process LRU map whose entries expire; not shared between processes."""

    def __init__(self, max_entries: int = LOCAL_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str) -> tuple[bool, Any]:
        """Return (found, value); an expired entry is dropped and reads as not found."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= time.monotonic():
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def set(self, key: str, value: Any, ttl_s: float) -> None:
        """Store `value` for `ttl_s` seconds, evicting the least recently used entry if full."""
        self._entries[key] = (time.monotonic() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def delete(self, key: str) -> bool:
        """Drop one key; return whether it was there."""
        return self._entries.pop(key, None) is not None

    def delete_matching(self, pattern: str) -> int:
        """Drop every key matching the glob `pattern`; return how many."""
        doomed = [key for key in self._entries if fnmatch.fnmatchcase(key, pattern)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def __len__(self) -> int:
        return len(self._entries)


class Cache:
    """Two-tier cache with single-flight loading; see the module docstring."""

    def __init__(
        self,
        metrics: BackendMetrics,
        redis: aioredis.Redis | None = None,
        *,
        breaker: CircuitBreaker | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        local_ttl_cap_s: float | None = None,
        local_max_entries: int = LOCAL_MAX_ENTRIES,
    ) -> None:
        self.local = LocalCache(local_max_entries)
        self.redis = redis
        self.key_prefix = key_prefix
        self.breaker = breaker or CircuitBreaker(
            "redis", failure_threshold=3, reset_timeout_s=2.0, metrics=metrics
        )
        self._local_ttl_s = {
            kind: float(ttl if local_ttl_cap_s is None else min(ttl, local_ttl_cap_s))
            for kind, ttl in CACHE_TTL_S.items()
        }
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        counter = metrics.cache_requests_total
        self._hit = {kind: counter.labels(kind.value, "hit").inc for kind in CacheType}
        self._miss = {kind: counter.labels(kind.value, "miss").inc for kind in CacheType}

    # -- reads ----------------------------------------------------------------------------

    async def get_or_load(self, kind: CacheType, key: str, loader: Callable[[], Awaitable[T]]) -> T:
        """Return the cached value, or run `loader` once for all concurrent callers and cache it."""
        name = f"{kind}:{key}"
        while True:
            found, value = self.local.get(name)
            if found:
                self._hit[kind]()
                return cast(T, value)
            pending = self._inflight.get(name)
            if pending is None:
                break
            try:
                value = await asyncio.shield(pending)
                self._hit[kind]()  # served by the load already running
                return cast(T, value)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if pending.cancelled() and not (task and task.cancelling()):
                    continue  # the loading caller went away; take over the load
                raise
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[name] = future
        try:
            value = await self._load(kind, name, loader)
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
                future.exception()  # mark retrieved: waiters re-raise it, none may exist
            raise
        else:
            future.set_result(value)
            return cast(T, value)
        finally:
            del self._inflight[name]

    async def _load(self, kind: CacheType, name: str, loader: Callable[[], Awaitable[Any]]) -> Any:
        raw = await self._redis_call(lambda redis: redis.get(self.key_prefix + name))
        if isinstance(raw, bytes):
            value = orjson.loads(raw)
            self._hit[kind]()
            self.local.set(name, value, self._local_ttl_s[kind])
            return value
        self._miss[kind]()
        encoded = _encode(await loader())
        value = orjson.loads(encoded)  # what every later reader sees, Redis or not
        self.local.set(name, value, self._local_ttl_s[kind])
        ttl_s = CACHE_TTL_S[kind]
        await self._redis_call(lambda redis: redis.set(self.key_prefix + name, encoded, ex=ttl_s))
        return value

    async def get(self, kind: CacheType, key: str) -> Any | None:
        """Return the cached value or None; never calls a loader."""
        name = f"{kind}:{key}"
        found, value = self.local.get(name)
        if found:
            self._hit[kind]()
            return value
        raw = await self._redis_call(lambda redis: redis.get(self.key_prefix + name))
        if not isinstance(raw, bytes):
            self._miss[kind]()
            return None
        value = orjson.loads(raw)
        self._hit[kind]()
        self.local.set(name, value, self._local_ttl_s[kind])
        return value

    # -- writes ---------------------------------------------------------------------------

    async def set(self, kind: CacheType, key: str, value: Any) -> None:
        """Store `value` under `key` for the TTL of `kind` in both tiers."""
        name = f"{kind}:{key}"
        encoded = _encode(value)
        self.local.set(name, orjson.loads(encoded), self._local_ttl_s[kind])
        ttl_s = CACHE_TTL_S[kind]
        await self._redis_call(lambda redis: redis.set(self.key_prefix + name, encoded, ex=ttl_s))

    async def invalidate(self, kind: CacheType, key: str) -> None:
        """Drop one key from both tiers."""
        name = f"{kind}:{key}"
        self.local.delete(name)
        await self._redis_call(lambda redis: redis.unlink(self.key_prefix + name))

    async def invalidate_pattern(self, kind: CacheType, pattern: str = "*") -> int:
        """Drop every key of `kind` matching the glob `pattern` (SCAN + UNLINK, never KEYS).

        Returns the number of Redis keys removed, or of in-process keys without Redis.
        """
        name_pattern = f"{kind}:{pattern}"
        removed_locally = self.local.delete_matching(name_pattern)
        if self.redis is None:
            return removed_locally
        match = self.key_prefix + name_pattern

        async def scan_and_unlink(redis: aioredis.Redis) -> int:
            removed = 0
            batch: list[bytes] = []
            async for found in redis.scan_iter(match=match, count=_SCAN_BATCH):
                batch.append(found)
                if len(batch) >= _SCAN_BATCH:
                    removed += await redis.unlink(*batch)
                    batch.clear()
            if batch:
                removed += await redis.unlink(*batch)
            return removed

        removed = await self._redis_call(scan_and_unlink)
        return removed if isinstance(removed, int) else removed_locally

    async def warm(
        self,
        kind: CacheType,
        loaders: Mapping[str, Callable[[], Awaitable[Any]]],
        *,
        concurrency: int = 8,
    ) -> int:
        """Load every key of `loaders` into the cache, `concurrency` at a time; return the count."""
        gate = asyncio.Semaphore(concurrency)

        async def warm_one(key: str, loader: Callable[[], Awaitable[Any]]) -> None:
            async with gate:
                await self.get_or_load(kind, key, loader)

        await asyncio.gather(*(warm_one(key, loader) for key, loader in loaders.items()))
        return len(loaders)

    # -- health ---------------------------------------------------------------------------

    async def ping(self) -> bool:
        """Tell whether every tier answers (the in-process tier always does)."""
        if self.redis is None:
            return True
        try:
            return bool(await asyncio.wait_for(self.redis.ping(), REDIS_TIMEOUT_S))
        except _REDIS_FAILURES:
            return False

    async def aclose(self) -> None:
        """Close the Redis connection pool."""
        if self.redis is not None:
            await self.redis.aclose()

    async def _redis_call(self, operation: Callable[[aioredis.Redis], Awaitable[Any]]) -> Any:
        """Run one Redis operation through the breaker; None when Redis is absent or failing."""
        redis = self.redis
        if redis is None:
            return None
        try:
            return await self.breaker.call(lambda: operation(redis))
        except CircuitOpenError:
            return None
        except _REDIS_FAILURES as error:
            log.warning("redis unavailable, serving without it: %s", error)
            return None


def dataset_key_prefix(settings: Settings) -> str:
    """Return the Redis key prefix of the database and data set `settings` describe."""
    identity = "|".join(
        str(part)
        for part in (
            settings.database_url or settings.sqlite_path,
            settings.seed,
            settings.catalog_size,
            settings.users,
        )
    )
    return f"{DEFAULT_KEY_PREFIX}{hashlib.sha1(identity.encode()).hexdigest()[:10]}:"


def _encode(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


async def _configure_lru(redis: aioredis.Redis) -> None:
    """Ask Redis for LRU eviction under a memory cap; managed Redis may refuse CONFIG."""
    try:
        await redis.config_set("maxmemory-policy", "allkeys-lru")
        current = await redis.config_get("maxmemory")
        if str(current.get("maxmemory", "0")) == "0":
            await redis.config_set("maxmemory", REDIS_MAXMEMORY)
    except ResponseError as error:
        log.warning("redis refused CONFIG SET (eviction policy left as is): %s", error)


async def open_cache(
    settings: Settings,
    metrics: BackendMetrics,
    *,
    key_prefix: str | None = None,
    breaker: CircuitBreaker | None = None,
) -> Cache:
    """Open the cache `settings` asks for: two tiers with a Redis URL, in-process otherwise.

    Redis keys live under `key_prefix`, by default one per database and data set, so a
    backend never reads entries another data set left in a shared Redis. An unreachable
    Redis at start is not fatal: the breaker keeps the backend serving and the cache uses
    Redis once it answers.
    """
    if key_prefix is None:
        key_prefix = dataset_key_prefix(settings)
    shared = settings.redis_url is not None or settings.workers > 1
    local_ttl_cap_s = _SHARED_LOCAL_TTL_S if shared else None
    if settings.redis_url is None:
        return Cache(metrics, key_prefix=key_prefix, local_ttl_cap_s=local_ttl_cap_s)
    # One immediate retry on a fresh connection covers pooled connections that died with a
    # Redis restart; more would only delay the breaker while Redis hangs.
    redis = redis_client(settings.redis_url, pool_size=_REDIS_POOL_SIZE, retries=1)
    try:
        await _configure_lru(redis)
    except _REDIS_FAILURES as error:
        log.warning("redis at %s unreachable at start: %s", settings.redis_url, error)
    return Cache(
        metrics,
        redis,
        breaker=breaker,
        key_prefix=key_prefix,
        local_ttl_cap_s=local_ttl_cap_s,
    )


def redis_client(url: str, *, pool_size: int, retries: int) -> aioredis.Redis:
    """A Redis client on a blocking pool of `pool_size` connections whose every wait (for a
    connection, a connect, an answer) is bounded by REDIS_TIMEOUT_S, with `retries`
    immediate retries: the breaker in front of it, not the client, decides when to give up.
    Nothing connects until first use."""
    return aioredis.Redis(
        connection_pool=aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=pool_size,
            timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            retry=Retry(NoBackoff(), retries),
        )
    )
