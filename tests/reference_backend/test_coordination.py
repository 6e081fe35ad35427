"""The shared token bucket and lock against the real Redis (database 13, a prefix per test)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from reference_backend.coordination import (
    Coordination,
    LockBusyError,
    Primitive,
    SharedLock,
    SharedTokenBucket,
    open_coordination,
    rate_limiter,
)
from reference_backend.faults import FaultInjector
from reference_backend.gateway import gateway_middleware
from reference_backend.metrics import get_metrics
from reference_backend.resilience import CircuitBreaker, RateDecision, TokenBucket
from reference_backend.settings import Settings
from tests.reference_backend._infra import TcpProxy, free_port
from tests.reference_backend.conftest import REDIS_COORDINATION_URL

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]


class Clock:
    def __init__(self, now_s: float = 1_700_000_000.0) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@asynccontextmanager
async def coordination(
    prefix: str, url: str = REDIS_COORDINATION_URL, breaker: CircuitBreaker | None = None
) -> AsyncIterator[Coordination]:
    """One process's coordination: its own Redis pool and breaker."""
    opened = open_coordination(
        Settings(redis_url=url), get_metrics(), key_prefix=prefix, breaker=breaker
    )
    assert opened is not None
    try:
        yield opened
    finally:
        await opened.aclose()


def fallbacks(primitive: Primitive, reason: str) -> float:
    labels = {"primitive": primitive.value, "reason": reason}
    return get_metrics().registry.get_sample_value("coordination_fallbacks_total", labels) or 0.0


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/13"


# -- the token bucket ------------------------------------------------------------------------


def test_the_lua_bucket_spends_the_burst_then_refills_at_its_rate(redis_prefix: str) -> None:
    async def scenario() -> None:
        clock = Clock()
        async with coordination(redis_prefix) as shared:
            bucket = SharedTokenBucket(shared, rate_per_s=4, burst=3, clock=clock)
            decisions = [await bucket.admit("k") for _ in range(4)]
            assert [d.allowed for d in decisions] == [True, True, True, False]
            assert [d.remaining for d in decisions] == [2, 1, 0, 0]
            assert decisions[-1] == RateDecision(False, 3, 0, 1, 1)
            clock.now_s += 0.25  # x 4 tokens/s: exactly one token
            assert (await bucket.admit("k")).allowed
            assert not (await bucket.admit("k")).allowed
            clock.now_s += 0.125  # half a token: Retry-After rounds the other half up
            assert await bucket.admit("k") == RateDecision(False, 3, 0, 1, 1)
            clock.now_s += 3600  # refills up to the burst, not beyond
            assert [(await bucket.admit("k")).allowed for _ in range(4)] == [True] * 3 + [False]
            assert (await bucket.admit("other")).remaining == 2  # keys are independent

    asyncio.run(scenario())


def test_the_lua_bucket_decides_exactly_as_the_in_process_bucket(redis_prefix: str) -> None:
    """Same clock, same requests: the same decisions, headers included, to the last token."""

    async def scenario() -> None:
        clock = Clock()
        rng = random.Random(13)
        # 0.5 tokens/s: a key lives 2 s or more in Redis, longer than this test runs, so
        # Redis's real-time expiry never cuts in before the injected clock would refill.
        local = TokenBucket(rate_per_s=0.5, burst=5, clock=clock)
        async with coordination(redis_prefix) as shared:
            remote = SharedTokenBucket(shared, rate_per_s=0.5, burst=5, clock=clock)
            for _ in range(300):
                clock.now_s += rng.choice((0.0, 0.0, 1 / 64, 0.5, 1.0, 3.0))
                key = rng.choice(("a", "b", "c"))
                assert await remote.admit(key) == local.take(key)

    asyncio.run(scenario())


def test_requests_of_one_loop_turn_share_one_script_call_in_arrival_order(
    redis_prefix: str,
) -> None:
    async def scenario() -> None:
        async with coordination(redis_prefix) as shared:
            bucket = SharedTokenBucket(shared, rate_per_s=0.001, burst=3)
            calls: list[int] = []
            script = bucket._script

            async def counted(keys: list[str], args: tuple[object, ...]) -> object:
                calls.append(len(keys))
                return await script(keys=keys, args=args)

            bucket._script = counted  # type: ignore[assignment]
            decisions = await asyncio.gather(*(bucket.admit(k) for k in "aaaaab"))
            assert calls == [6]
            assert [d.allowed for d in decisions] == [True] * 3 + [False] * 2 + [True]
            assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0, 2]

    asyncio.run(scenario())


def test_a_bucket_key_expires_when_the_bucket_would_be_full(redis_prefix: str) -> None:
    async def scenario() -> None:
        async with coordination(redis_prefix) as shared:
            bucket = SharedTokenBucket(shared, rate_per_s=10, burst=5)
            key = shared.key(Primitive.RATE_LIMIT, "idle")
            assert (await bucket.admit("idle")).remaining == 4
            assert 0 < await shared.redis.pttl(key) <= 100  # one token at 10/s
            for _ in range(4):
                await bucket.admit("idle")
            assert 400 < await shared.redis.pttl(key) <= 500  # five tokens
            deadline = asyncio.get_running_loop().time() + 5
            while await shared.redis.exists(key):
                assert asyncio.get_running_loop().time() < deadline, "the key never expired"
                await asyncio.sleep(0.05)
            assert (await bucket.admit("idle")).remaining == 4  # a missing key is a full bucket

    asyncio.run(scenario())


def test_two_processes_share_one_bucket_per_key(redis_prefix: str) -> None:
    """Two pools, as two workers have, on Redis's clock: the burst is spent once in all."""

    async def scenario() -> None:
        async with coordination(redis_prefix) as first, coordination(redis_prefix) as second:
            buckets = [
                SharedTokenBucket(side, rate_per_s=0.001, burst=20) for side in (first, second)
            ]
            decisions = await asyncio.gather(*(buckets[n % 2].admit("k") for n in range(50)))
            assert sum(d.allowed for d in decisions) == 20
            assert sorted(d.remaining for d in decisions if d.allowed) == list(range(20))

    asyncio.run(scenario())


def test_an_unreachable_redis_falls_back_to_the_process_bucket_and_counts_it() -> None:
    async def scenario() -> None:
        settings = Settings(redis_url=closed_redis_url(), rate_limit_per_s=1, rate_limit_burst=3)
        shared = open_coordination(settings, get_metrics())
        limiter = rate_limiter(settings, shared)
        assert isinstance(limiter, SharedTokenBucket)
        decisions = [await limiter.admit("k") for _ in range(5)]
        assert [d.allowed for d in decisions] == [True, True, True, False, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
        assert shared is not None
        assert shared.breaker.state == "open"
        await shared.aclose()

    errors = fallbacks(Primitive.RATE_LIMIT, "redis_error")
    skipped = fallbacks(Primitive.RATE_LIMIT, "circuit_open")
    asyncio.run(scenario())
    # three refused connections open the breaker; the next two do not even try
    assert fallbacks(Primitive.RATE_LIMIT, "redis_error") - errors == 3
    assert fallbacks(Primitive.RATE_LIMIT, "circuit_open") - skipped == 2


def test_the_gateway_keeps_answering_with_redis_down_never_a_500() -> None:
    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello")

    settings = Settings(redis_url=closed_redis_url(), rate_limit_per_s=1, rate_limit_burst=3)
    shared = open_coordination(settings, get_metrics())
    app = Starlette(
        routes=[Route("/hello", hello)],
        middleware=gateway_middleware(settings, get_metrics(), FaultInjector(), shared),
    )
    headers = {"X-Client-Key": "down"}
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [client.get("/hello", headers=headers) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[0].headers["RateLimit-Remaining"] == "2"
    assert answers[-1].headers["Retry-After"] == "1"


def test_redis_going_away_mid_run_falls_back_and_recovery_rejoins_the_shared_bucket(
    redis_prefix: str,
) -> None:
    async def scenario() -> None:
        proxy = TcpProxy(target_port=6379)
        await proxy.start()
        breaker_clock = Clock(0.0)
        breaker = CircuitBreaker(
            "redis-coordination-test", failure_threshold=2, reset_timeout_s=2.0, clock=breaker_clock
        )
        url = f"redis://127.0.0.1:{proxy.port}/13"
        async with coordination(redis_prefix, url, breaker) as shared:
            bucket = SharedTokenBucket(shared, rate_per_s=0.001, burst=10)
            assert [(await bucket.admit("k")).remaining for _ in range(3)] == [9, 8, 7]

            await proxy.stop()
            errors = fallbacks(Primitive.RATE_LIMIT, "redis_error")
            down = [await bucket.admit("k") for _ in range(4)]
            assert all(d.allowed for d in down)
            assert [d.remaining for d in down] == [9, 8, 7, 6]  # this process's own bucket
            assert fallbacks(Primitive.RATE_LIMIT, "redis_error") - errors == 2
            assert breaker.state == "open"

            await proxy.start()
            breaker_clock.now_s += 2.0  # the breaker lets one probe through
            assert (await bucket.admit("k")).remaining == 6  # the shared bucket, where it was
            assert breaker.state == "closed"
        await proxy.stop()

    asyncio.run(scenario())


# -- the lock --------------------------------------------------------------------------------


def test_the_lock_excludes_holders_in_other_processes(redis_prefix: str) -> None:
    async def scenario() -> None:
        async with coordination(redis_prefix) as first, coordination(redis_prefix) as second:
            locks = [
                SharedLock(side, Primitive.CHECKOUT_LOCK, ttl_s=10, wait_s=10)
                for side in (first, second)
            ]
            inside: list[int] = []
            most_inside = 0

            async def critical(n: int) -> bool:
                nonlocal most_inside
                async with locks[n % 2].hold("user-1") as held:
                    inside.append(n)
                    most_inside = max(most_inside, len(inside))
                    await asyncio.sleep(0.01)
                    inside.remove(n)
                    return held

            held = await asyncio.gather(*(critical(n) for n in range(8)))
            assert held == [True] * 8
            assert most_inside == 1
            assert not await first.redis.exists(first.key(Primitive.CHECKOUT_LOCK, "user-1"))

    asyncio.run(scenario())


def test_a_holder_whose_lock_expired_does_not_release_the_next_holders(
    redis_prefix: str,
) -> None:
    async def scenario() -> None:
        async with coordination(redis_prefix) as shared:
            key = shared.key(Primitive.CHECKOUT_LOCK, "user-2")
            short = SharedLock(shared, Primitive.CHECKOUT_LOCK, ttl_s=0.05, wait_s=0)
            patient = SharedLock(shared, Primitive.CHECKOUT_LOCK, ttl_s=10, wait_s=5)
            entered, may_leave = asyncio.Event(), asyncio.Event()

            async def overstay() -> None:
                async with short.hold("user-2"):
                    entered.set()
                    await may_leave.wait()

            overstayer = asyncio.create_task(overstay())
            await entered.wait()
            async with patient.hold("user-2"):  # waits out the 50 ms TTL
                mine = await shared.redis.get(key)
                may_leave.set()
                await overstayer  # releases with its own token: finds `patient`'s
                assert await shared.redis.get(key) == mine
            assert not await shared.redis.exists(key)

    asyncio.run(scenario())


def test_a_dead_processs_lock_expires_and_the_waiter_proceeds(redis_prefix: str) -> None:
    async def scenario() -> None:
        async with coordination(redis_prefix) as shared:
            key = shared.key(Primitive.CHECKOUT_LOCK, "user-4")
            await shared.redis.set(key, "token-of-a-dead-process", px=300)
            lock = SharedLock(shared, Primitive.CHECKOUT_LOCK, ttl_s=10, wait_s=5)
            async with lock.hold("user-4") as held:
                assert held
                assert await shared.redis.get(key) != b"token-of-a-dead-process"
                assert 9000 < await shared.redis.pttl(key) <= 10_000

    asyncio.run(scenario())


def test_a_lock_held_past_the_wait_raises_lock_busy_and_stays_its_holders(
    redis_prefix: str,
) -> None:
    async def scenario() -> None:
        async with coordination(redis_prefix) as shared:
            key = shared.key(Primitive.CHECKOUT_LOCK, "user-5")
            await shared.redis.set(key, "another-holder", px=30_000)
            lock = SharedLock(shared, Primitive.CHECKOUT_LOCK, ttl_s=10, wait_s=0.2)
            with pytest.raises(LockBusyError, match="user-5"):
                async with lock.hold("user-5"):
                    pytest.fail("entered a lock another process holds")
            patient = SharedLock(shared, Primitive.CHECKOUT_LOCK, ttl_s=10, wait_s=10)
            waiter = asyncio.create_task(_enter(patient))
            await asyncio.sleep(0.05)  # a few polls in
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            assert await shared.redis.get(key) == b"another-holder"

    asyncio.run(scenario())


async def _enter(lock: SharedLock) -> None:
    async with lock.hold("user-5"):
        pytest.fail("entered a lock another process holds")


def test_an_unreachable_redis_lets_the_lock_fall_back_and_counts_it() -> None:
    async def scenario() -> None:
        async with coordination("unused:", closed_redis_url()) as shared:
            lock = SharedLock(shared, Primitive.CHECKOUT_LOCK, ttl_s=10, wait_s=5)
            async with lock.hold("user-6") as held:
                assert held is False

    errors = fallbacks(Primitive.CHECKOUT_LOCK, "redis_error")
    asyncio.run(scenario())
    assert fallbacks(Primitive.CHECKOUT_LOCK, "redis_error") - errors == 1


@pytest.mark.parametrize(("ttl_s", "wait_s"), [(0, 1), (-1, 1), (1, -1)])
def test_the_lock_rejects_nonsense_parameters(ttl_s: float, wait_s: float) -> None:
    shared = Coordination(aioredis.Redis(), get_metrics(), key_prefix="unused:")
    with pytest.raises(ValueError, match="must be"):
        SharedLock(shared, Primitive.CHECKOUT_LOCK, ttl_s=ttl_s, wait_s=wait_s)
