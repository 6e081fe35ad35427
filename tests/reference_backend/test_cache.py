"""The two-tier cache against the real Redis on 127.0.0.1:6379 (keys under a per-test prefix)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from reference_backend import cache as cache_module
from reference_backend.cache import (
    CACHE_TTL_S,
    Cache,
    CacheType,
    LocalCache,
    dataset_key_prefix,
    open_cache,
)
from reference_backend.metrics import get_metrics
from reference_backend.resilience import CircuitBreaker
from reference_backend.settings import Settings
from tests.reference_backend._infra import TcpProxy, free_port

REDIS_URL = "redis://127.0.0.1:6379/0"

pytestmark = pytest.mark.redis


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test alone; every key under it is unlinked afterwards."""
    key_prefix = f"perfctl-test:{uuid.uuid4().hex[:12]}:"
    yield key_prefix
    client = redis.Redis.from_url(REDIS_URL)
    doomed = list(client.scan_iter(match=f"{key_prefix}*", count=500))
    if doomed:
        client.unlink(*doomed)
    client.close()


def counting_loader(
    value: Any, delay_s: float = 0.0
) -> tuple[list[int], Callable[[], Awaitable[Any]]]:
    calls: list[int] = []

    async def load() -> Any:
        calls.append(1)
        await asyncio.sleep(delay_s)
        return value

    return calls, load


def hits_and_misses(kind: CacheType) -> tuple[float, float]:
    registry = get_metrics().registry
    labels = {"cache_type": kind.value}
    hit = registry.get_sample_value("cache_requests_total", {**labels, "result": "hit"})
    miss = registry.get_sample_value("cache_requests_total", {**labels, "result": "miss"})
    return hit or 0.0, miss or 0.0


def test_ttls_follow_the_seed_table() -> None:
    assert CACHE_TTL_S == {
        CacheType.PRODUCT: 3600,
        CacheType.PREFERENCES: 86400,
        CacheType.SEARCH: 1800,
        CacheType.RECOMMENDATIONS: 900,
        CacheType.PRICING: 300,
    }


@pytest.mark.parametrize("redis_url", [None, REDIS_URL])
def test_a_hundred_concurrent_misses_run_the_loader_once(
    prefix: str, redis_url: str | None
) -> None:
    async def scenario() -> None:
        cache = await open_cache(Settings(redis_url=redis_url), get_metrics(), key_prefix=prefix)
        calls, load = counting_loader({"items": [1, 2, 3]}, delay_s=0.05)
        hits_before, misses_before = hits_and_misses(CacheType.SEARCH)
        results = await asyncio.gather(
            *(cache.get_or_load(CacheType.SEARCH, "q=lamp", load) for _ in range(100))
        )
        hits_after, misses_after = hits_and_misses(CacheType.SEARCH)
        await cache.aclose()
        assert len(calls) == 1
        assert all(result == {"items": [1, 2, 3]} for result in results)
        assert (hits_after - hits_before, misses_after - misses_before) == (99, 1)

    asyncio.run(scenario())


def test_a_failing_loader_fails_every_waiter_and_the_next_call_retries() -> None:
    async def scenario() -> None:
        cache = await open_cache(Settings(), get_metrics())
        attempts: list[int] = []

        async def flaky() -> str:
            attempts.append(1)
            await asyncio.sleep(0.02)
            if len(attempts) == 1:
                raise LookupError("database hiccup")
            return "fresh"

        outcomes = await asyncio.gather(
            *(cache.get_or_load(CacheType.PRODUCT, "7", flaky) for _ in range(10)),
            return_exceptions=True,
        )
        assert all(isinstance(outcome, LookupError) for outcome in outcomes)
        assert await cache.get_or_load(CacheType.PRODUCT, "7", flaky) == "fresh"
        assert len(attempts) == 2

    asyncio.run(scenario())


def test_a_cancelled_loader_hands_the_load_to_a_waiter() -> None:
    async def scenario() -> None:
        cache = await open_cache(Settings(), get_metrics())
        calls, load = counting_loader("value", delay_s=0.1)
        leader = asyncio.create_task(cache.get_or_load(CacheType.PRICING, "1", load))
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(cache.get_or_load(CacheType.PRICING, "1", load))
        await asyncio.sleep(0.01)
        leader.cancel()
        assert await waiter == "value"
        assert len(calls) == 2

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", list(CacheType))
def test_redis_entries_carry_the_ttl_of_their_type_and_reach_other_workers(
    prefix: str, kind: CacheType
) -> None:
    async def scenario() -> None:
        settings = Settings(redis_url=REDIS_URL)
        writer = await open_cache(settings, get_metrics(), key_prefix=prefix)
        reader = await open_cache(settings, get_metrics(), key_prefix=prefix)
        await writer.set(kind, "k1", {"price_cents": 1999})
        calls, load = counting_loader("from the database")
        assert await reader.get_or_load(kind, "k1", load) == {"price_cents": 1999}
        assert calls == []
        ttl_s = await writer.redis.ttl(f"{prefix}{kind}:k1")  # type: ignore[union-attr]
        await writer.aclose()
        await reader.aclose()
        assert CACHE_TTL_S[kind] - 5 <= ttl_s <= CACHE_TTL_S[kind]

    asyncio.run(scenario())


def test_pattern_invalidation_scans_and_unlinks_without_keys(prefix: str) -> None:
    async def scenario() -> None:
        cache = await open_cache(Settings(redis_url=REDIS_URL), get_metrics(), key_prefix=prefix)
        assert cache.redis is not None
        for n in range(1200):
            await cache.set(CacheType.SEARCH, f"q={n}", n)
        await cache.set(CacheType.PRODUCT, "1", "kept")
        await cache.set(CacheType.SEARCH, "other", "kept")
        commands: list[str] = []
        original = cache.redis.execute_command

        async def recording(*args: Any, **options: Any) -> Any:
            commands.append(str(args[0]).upper())
            return await original(*args, **options)

        cache.redis.execute_command = recording  # type: ignore[method-assign]
        removed = await cache.invalidate_pattern(CacheType.SEARCH, "q=*")
        cache.redis.execute_command = original  # type: ignore[method-assign]
        remaining = [key async for key in cache.redis.scan_iter(match=f"{prefix}*")]
        calls, load = counting_loader("reloaded")
        reloaded = await cache.get_or_load(CacheType.SEARCH, "q=5", load)
        await cache.aclose()
        assert removed == 1200
        assert "KEYS" not in commands
        assert {"SCAN", "UNLINK"} <= set(commands)
        assert sorted(remaining) == sorted(
            [f"{prefix}product:1".encode(), f"{prefix}search:other".encode()]
        )
        assert (reloaded, len(calls)) == ("reloaded", 1)

    asyncio.run(scenario())


def test_invalidate_drops_one_key_from_both_tiers(prefix: str) -> None:
    async def scenario() -> None:
        cache = await open_cache(Settings(redis_url=REDIS_URL), get_metrics(), key_prefix=prefix)
        await cache.set(CacheType.PREFERENCES, "42", {"theme": "dark"})
        await cache.invalidate(CacheType.PREFERENCES, "42")
        assert await cache.get(CacheType.PREFERENCES, "42") is None
        await cache.aclose()

    asyncio.run(scenario())


def test_open_cache_asks_redis_for_lru_eviction(prefix: str) -> None:
    async def scenario() -> None:
        cache = await open_cache(Settings(redis_url=REDIS_URL), get_metrics(), key_prefix=prefix)
        assert cache.redis is not None
        policy = await cache.redis.config_get("maxmemory-policy")
        memory = await cache.redis.config_get("maxmemory")
        await cache.aclose()
        assert policy["maxmemory-policy"] == "allkeys-lru"
        assert int(memory["maxmemory"]) > 0

    asyncio.run(scenario())


def test_a_redis_that_refuses_config_is_still_used(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise ResponseError("unknown command 'CONFIG'")

    monkeypatch.setattr(aioredis.Redis, "config_set", refuse)

    async def scenario() -> None:
        cache = await open_cache(Settings(redis_url=REDIS_URL), get_metrics(), key_prefix=prefix)
        await cache.set(CacheType.PRODUCT, "9", "stored")
        stored = await cache.redis.get(f"{prefix}product:9")  # type: ignore[union-attr]
        await cache.aclose()
        assert stored == b'"stored"'

    asyncio.run(scenario())


def test_an_unreachable_redis_at_start_still_serves_from_the_loader() -> None:
    async def scenario() -> None:
        settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
        cache = await open_cache(settings, get_metrics())
        calls, load = counting_loader({"id": 3})
        for _ in range(5):
            await cache.invalidate(CacheType.PRODUCT, "3")
            assert await cache.get_or_load(CacheType.PRODUCT, "3", load) == {"id": 3}
        assert len(calls) == 5
        assert await cache.ping() is False
        assert cache.breaker.state in ("open", "half_open")
        await cache.aclose()

    asyncio.run(scenario())


def test_redis_going_away_keeps_serving_and_recovery_resumes_the_shared_tier(prefix: str) -> None:
    async def scenario() -> None:
        proxy = TcpProxy(target_port=6379)
        await proxy.start()
        breaker = CircuitBreaker("redis-test", failure_threshold=2, reset_timeout_s=0.2)
        settings = Settings(redis_url=f"redis://127.0.0.1:{proxy.port}/0")
        cache = await open_cache(settings, get_metrics(), key_prefix=prefix, breaker=breaker)
        direct = aioredis.Redis.from_url(REDIS_URL)
        calls, load = counting_loader("from the database")

        await cache.get_or_load(CacheType.PRICING, "before", load)
        assert await direct.exists(f"{prefix}pricing:before") == 1

        await proxy.stop()
        for n in range(5):
            assert await cache.get_or_load(CacheType.PRICING, f"down{n}", load) == (
                "from the database"
            )
        assert breaker.state in ("open", "half_open")
        assert await cache.ping() is False

        await proxy.start()
        await asyncio.sleep(0.25)
        await cache.get_or_load(CacheType.PRICING, "after", load)
        assert breaker.state == "closed"
        assert await direct.exists(f"{prefix}pricing:after") == 1
        assert await cache.ping() is True
        assert len(calls) == 7
        await cache.aclose()
        await direct.aclose()
        await proxy.stop()

    asyncio.run(scenario())


def test_warming_loads_every_key_once() -> None:
    async def scenario() -> None:
        cache = await open_cache(Settings(), get_metrics())
        calls: list[str] = []

        def loader_for(key: str) -> Callable[[], Awaitable[str]]:
            async def load() -> str:
                calls.append(key)
                return f"product {key}"

            return load

        warmed = await cache.warm(
            CacheType.PRODUCT, {str(n): loader_for(str(n)) for n in range(50)}
        )
        cached = await cache.get(CacheType.PRODUCT, "17")
        assert (warmed, len(calls), cached) == (50, 50, "product 17")

    asyncio.run(scenario())


def test_the_local_tier_evicts_the_least_recently_used_entry() -> None:
    local = LocalCache(max_entries=3)
    for key in "abc":
        local.set(key, key.upper(), ttl_s=60)
    assert local.get("a") == (True, "A")  # "b" is now the least recently used
    local.set("d", "D", ttl_s=60)
    assert local.get("b") == (False, None)
    assert [local.get(key)[0] for key in "acd"] == [True, True, True]


def test_local_entries_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now[0])
    local = LocalCache()
    local.set("k", "v", ttl_s=300)
    now[0] += 299.9
    assert local.get("k") == (True, "v")
    now[0] += 0.2
    assert local.get("k") == (False, None)
    assert len(local) == 0


def test_shared_setups_bound_the_local_tier_and_a_lone_process_keeps_full_ttls() -> None:
    async def local_ttls(settings: Settings) -> dict[CacheType, float]:
        cache: Cache = await open_cache(settings, get_metrics())
        await cache.aclose()
        return cache._local_ttl_s

    lone = asyncio.run(local_ttls(Settings()))
    shared = asyncio.run(local_ttls(Settings(workers=4)))
    assert lone == {kind: float(ttl) for kind, ttl in CACHE_TTL_S.items()}
    assert all(ttl <= 1.0 for ttl in shared.values())


def test_each_data_set_gets_its_own_redis_namespace() -> None:
    base = Settings(redis_url=REDIS_URL, sqlite_path="/tmp/a.db")
    same = dataset_key_prefix(Settings(redis_url=REDIS_URL, sqlite_path="/tmp/a.db"))
    others = {
        dataset_key_prefix(Settings(redis_url=REDIS_URL, sqlite_path="/tmp/b.db")),
        dataset_key_prefix(Settings(redis_url=REDIS_URL, sqlite_path="/tmp/a.db", seed=1)),
        dataset_key_prefix(Settings(redis_url=REDIS_URL, sqlite_path="/tmp/a.db", catalog_size=9)),
    }
    assert dataset_key_prefix(base) == same
    assert same.startswith("perfctl:")
    assert same not in others
    assert len(others) == 3


def test_a_hung_redis_costs_bounded_time_until_the_breaker_opens(prefix: str) -> None:
    async def scenario() -> list[float]:
        proxy = TcpProxy(target_port=6379)
        proxy.blackhole = True
        await proxy.start()
        settings = Settings(redis_url=f"redis://127.0.0.1:{proxy.port}/0")
        cache = await open_cache(settings, get_metrics(), key_prefix=prefix)
        _, load = counting_loader("from the database")
        elapsed_s = []
        for n in range(6):
            started = time.perf_counter()
            assert await cache.get_or_load(CacheType.PRODUCT, str(n), load) == "from the database"
            elapsed_s.append(time.perf_counter() - started)
        assert cache.breaker.state == "open"
        await cache.aclose()
        await proxy.stop()
        return elapsed_s

    elapsed_s = asyncio.run(scenario())
    assert max(elapsed_s) < 3.0  # a few socket timeouts at most, never a hang
    assert elapsed_s[-1] < 0.05  # open breaker: straight to the loader
