"""Circuit breaker state machine and token-bucket rate limiter."""

from __future__ import annotations

import asyncio

import pytest

from reference_backend.metrics import get_metrics
from reference_backend.resilience import CircuitBreaker, CircuitOpenError, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


class DependencyDown(Exception):
    pass


async def fail() -> None:
    raise DependencyDown


async def succeed() -> str:
    return "ok"


def breaker_gauge(name: str) -> float | None:
    return get_metrics().registry.get_sample_value("circuit_breaker_state", {"dependency": name})


def test_consecutive_failures_open_the_breaker_and_it_fails_fast() -> None:
    clock = Clock()
    breaker = CircuitBreaker(
        "dep-open", failure_threshold=3, reset_timeout_s=5, metrics=get_metrics(), clock=clock
    )
    calls: list[int] = []

    async def counted_fail() -> None:
        calls.append(1)
        raise DependencyDown

    async def scenario() -> None:
        for _ in range(3):
            with pytest.raises(DependencyDown):
                await breaker.call(counted_fail)
        assert breaker.state == "open"
        with pytest.raises(CircuitOpenError) as refused:
            await breaker.call(counted_fail)
        assert len(calls) == 3
        assert 0 < refused.value.retry_after_s <= 5

    asyncio.run(scenario())
    assert breaker_gauge("dep-open") == 2


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker("dep-reset", failure_threshold=2)

    async def scenario() -> None:
        with pytest.raises(DependencyDown):
            await breaker.call(fail)
        await breaker.call(succeed)
        with pytest.raises(DependencyDown):
            await breaker.call(fail)
        assert breaker.state == "closed"

    asyncio.run(scenario())


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(
        "dep-probe", failure_threshold=1, reset_timeout_s=5, metrics=get_metrics(), clock=clock
    )
    release = asyncio.Event()
    probes: list[int] = []

    async def slow_success() -> str:
        probes.append(1)
        await release.wait()
        return "recovered"

    async def scenario() -> list[object]:
        with pytest.raises(DependencyDown):
            await breaker.call(fail)
        clock.now_s += 5
        assert breaker.state == "half_open"
        probe = asyncio.create_task(breaker.call(slow_success))
        await asyncio.sleep(0)
        assert breaker_gauge("dep-probe") == 1
        others = await asyncio.gather(
            *(breaker.call(slow_success) for _ in range(20)), return_exceptions=True
        )
        release.set()
        return [await probe, *others]

    outcomes = asyncio.run(scenario())
    assert outcomes[0] == "recovered"
    assert all(isinstance(outcome, CircuitOpenError) for outcome in outcomes[1:])
    assert len(probes) == 1
    assert breaker.state == "closed"
    assert breaker_gauge("dep-probe") == 0


def test_a_failed_probe_opens_the_breaker_for_another_timeout() -> None:
    clock = Clock()
    breaker = CircuitBreaker("dep-reopen", failure_threshold=1, reset_timeout_s=5, clock=clock)

    async def scenario() -> None:
        with pytest.raises(DependencyDown):
            await breaker.call(fail)
        clock.now_s += 5
        with pytest.raises(DependencyDown):
            await breaker.call(fail)
        assert breaker.state == "open"
        clock.now_s += 4.9
        with pytest.raises(CircuitOpenError):
            await breaker.call(succeed)
        clock.now_s += 0.1
        assert await breaker.call(succeed) == "ok"
        assert breaker.state == "closed"

    asyncio.run(scenario())


def test_exceptions_outside_the_failure_types_do_not_count() -> None:
    breaker = CircuitBreaker("dep-types", failure_threshold=1, failure_types=(OSError,))

    async def not_found() -> None:
        raise KeyError("no such product")

    async def scenario() -> None:
        for _ in range(3):
            with pytest.raises(KeyError):
                await breaker.call(not_found)
        assert breaker.state == "closed"

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("threshold", "timeout_s"), [(0, 1.0), (1, 0.0), (1, -2.0)], ids=["threshold", "zero", "neg"]
)
def test_breaker_rejects_nonsense_parameters(threshold: int, timeout_s: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        CircuitBreaker("bad", failure_threshold=threshold, reset_timeout_s=timeout_s)


def test_token_bucket_allows_the_burst_then_refuses_with_retry_after() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_s=2, burst=5, clock=clock)
    decisions = [bucket.take("client-a") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[-1]
    assert (refused.limit, refused.retry_after_s, refused.reset_s) == (5, 1, 3)
    assert bucket.take("client-b").allowed  # keys are independent


def test_token_bucket_refills_at_its_rate_up_to_the_burst() -> None:
    clock = Clock()
    clock.now_s = 0.0  # 0.1 s x 10 tokens/s is exactly one token from here
    bucket = TokenBucket(rate_per_s=10, burst=3, clock=clock)
    for _ in range(3):
        bucket.take("k")
    assert not bucket.take("k").allowed
    clock.now_s += 0.1
    assert bucket.take("k").allowed
    assert not bucket.take("k").allowed
    clock.now_s += 60
    assert [bucket.take("k").allowed for _ in range(4)] == [True, True, True, False]


def test_token_bucket_memory_is_bounded() -> None:
    bucket = TokenBucket(rate_per_s=1, burst=1, max_keys=100)
    for n in range(1000):
        bucket.take(f"client-{n}")
        assert len(bucket._buckets) <= 100
    assert len(bucket._buckets) >= 90


def test_token_bucket_forgets_the_clients_seen_least_recently() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_s=0.001, burst=1, max_keys=100, clock=clock)
    assert bucket.take("regular").allowed
    for n in range(300):
        bucket.take(f"client-{n}")
        bucket.take("regular")  # seen all along: kept, its bucket still empty
    assert not bucket.take("regular").allowed
    assert "client-299" in bucket._buckets
    assert "client-0" not in bucket._buckets
    assert bucket.take("client-0").allowed  # forgotten: a full bucket again


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_token_bucket_rejects_nonsense_parameters(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        TokenBucket(rate_per_s=rate, burst=burst)
