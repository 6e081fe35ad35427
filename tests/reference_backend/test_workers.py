"""Two worker processes behind one port share one rate limit, one checkout lock, one claim.

Each test runs a real server with `--workers 2 --redis-url` (Redis database 13; the keys
of the server's data set are unlinked afterwards), sends its requests on fresh connections
so the kernel spreads them over both workers, and checks from the `X-Request-ID` prefix
(the worker's pid) that both answered: the point is what one worker cannot see alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from reference_backend.agents.payments import request_hash
from reference_backend.cache import dataset_key_prefix
from reference_backend.messages import PaymentRequest
from reference_backend.passwords import DEMO_PASSWORD, username_of
from reference_backend.settings import Settings, settings_to_json
from tests.reference_backend._infra import ServeProcess
from tests.reference_backend.conftest import (
    REDIS_COORDINATION_URL,
    postgres_database,
    unlink_redis_keys,
)

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.timeout(240)]

CATALOG_SIZE = 200
CHARGE = {"amount_cents": 1999, "currency": "USD", "user_id": 1, "card_token": "tok_visa"}

# `serve_backend` (what `perfctl serve` runs) with settings the CLI has no option for.
_SERVE_WITH_SETTINGS = (
    "import sys\n"
    "from dataclasses import replace\n"
    "from reference_backend.server import serve_backend\n"
    "from reference_backend.settings import settings_from_json\n"
    "serve_backend(replace(settings_from_json(sys.argv[1]), port=int(sys.argv[3])))\n"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    worker: str
    """The pid part of X-Request-ID: which worker answered."""


async def send_many(
    url: str, method: str, path: str, count: int, **request: Any
) -> tuple[list[Answer], float]:
    """`count` concurrent requests, each on a new connection; the answers and the span in s."""
    connector = aiohttp.TCPConnector(limit=40, force_close=True)
    async with aiohttp.ClientSession(url, connector=connector) as http:

        async def one() -> Answer:
            async with http.request(method, path, **request) as response:
                body = await response.json(content_type=None)
                worker = response.headers["X-Request-ID"].split("-", 1)[0]
                return Answer(response.status, body, worker)

        started_s = time.monotonic()
        answers = await asyncio.gather(*(one() for _ in range(count)))
        return answers, time.monotonic() - started_s


def metric_sum(url: str, name: str) -> float:
    """The sum of every sample of `name` in the server's /metrics (merged over workers)."""

    async def scrape() -> str:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
            return await response.text()

    lines = asyncio.run(scrape()).splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name))


@pytest.fixture(scope="module")
def postgres_backend() -> Iterator[tuple[ServeProcess, str]]:
    """`perfctl serve --workers 2 --redis-url ... --database-url ...` and its database URL."""
    with postgres_database() as url:
        args = ("--workers", "2", "--redis-url", REDIS_COORDINATION_URL, "--database-url", url)
        try:
            with ServeProcess(*args, "--catalog-size", str(CATALOG_SIZE)) as served:
                yield served, url
        finally:
            settings = Settings(database_url=url, catalog_size=CATALOG_SIZE)
            unlink_redis_keys(REDIS_COORDINATION_URL, f"{dataset_key_prefix(settings)}*")


def test_one_client_key_gets_one_burst_across_both_workers(tmp_path: Path) -> None:
    settings = Settings(
        workers=2,
        redis_url=REDIS_COORDINATION_URL,
        sqlite_path=str(tmp_path / "shop.db"),
        catalog_size=CATALOG_SIZE,
        rate_limit_per_s=2.0,
        rate_limit_burst=60,
    )
    program = (sys.executable, "-c", _SERVE_WITH_SETTINGS, settings_to_json(settings))
    client_key = f"burst-{uuid.uuid4().hex[:8]}"
    try:
        with ServeProcess(program=program) as served:
            answers, span_s = asyncio.run(
                send_many(served.url, "GET", "/health", 240, headers={"X-Client-Key": client_key})
            )
            fallbacks = metric_sum(served.url, "coordination_fallbacks_total")
    finally:
        unlink_redis_keys(REDIS_COORDINATION_URL, f"{dataset_key_prefix(settings)}*")
    assert len({a.worker for a in answers}) == 2
    assert {a.status for a in answers} == {200, 429}
    allowed = sum(a.status == 200 for a in answers)
    # The burst, plus what 2 tokens/s refill while the requests were sent; two buckets (one
    # per worker) would allow up to twice the burst.
    assert 60 <= allowed <= 60 + math.floor(2.0 * span_s)
    assert fallbacks == 0


@pytest.mark.postgres
def test_concurrent_checkouts_of_one_user_across_workers_place_one_order(
    postgres_backend: tuple[ServeProcess, str],
) -> None:
    served, url = postgres_backend
    user_id = 7

    async def main() -> None:
        conn = await asyncpg.connect(url)
        try:
            product = await conn.fetchval(
                "SELECT product_id FROM products WHERE status = 'active' AND stock >= 10 "
                "ORDER BY product_id LIMIT 1"
            )
            orders_before = await conn.fetchval(
                "SELECT COUNT(*) FROM orders WHERE user_id = $1", user_id
            )
            async with aiohttp.ClientSession(served.url) as http:
                login = {"username": username_of(user_id), "password": DEMO_PASSWORD}
                async with http.post("/api/login", json=login) as logged_in:
                    token = (await logged_in.json())["token"]
                # one worker issued the token; every worker accepts it
                auth = {"Authorization": f"Bearer {token}"}
                cart = {"product_id": product, "quantity": 1}
                async with http.post(
                    f"/api/cart/{user_id}/items", json=cart, headers=auth
                ) as added:
                    assert added.status == 201
            body = {"user_id": user_id, "card_token": "tok_visa"}
            answers, _ = await send_many(
                served.url, "POST", "/api/orders", 40, json=body, headers=auth
            )
            assert len({a.worker for a in answers}) == 2
            codes = [a.status for a in answers]
            assert codes.count(201) == 1
            assert set(codes) <= {201, 402, 422}  # a 2 % decline leaves the cart to the next
            assert {a.body["error"]["code"] for a in answers if a.status == 422} == {"empty_cart"}
            orders_after = await conn.fetchval(
                "SELECT COUNT(*) FROM orders WHERE user_id = $1", user_id
            )
            assert orders_after == orders_before + 1
        finally:
            await conn.close()

    asyncio.run(main())
    assert metric_sum(served.url, "coordination_fallbacks_total") == 0


@pytest.mark.postgres
def test_a_claim_left_by_a_dead_worker_is_taken_over_and_charged_once(
    postgres_backend: tuple[ServeProcess, str],
) -> None:
    served, url = postgres_backend
    key = f"dead-worker-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "INSERT INTO payments (payment_id, idempotency_key, request_hash, status, "
                "amount_cents, currency, user_id, order_id, created_at) "
                "VALUES ('pay_of_a_dead_worker', $1, $2, 'pending', 1999, 'USD', 1, NULL, $3)",
                key,
                request_hash(PaymentRequest.model_validate(CHARGE)),
                time.time() - 3600,
            )
            headers = {"Idempotency-Key": key}
            answers, _ = await send_many(
                served.url, "POST", "/api/payments", 30, json=CHARGE, headers=headers
            )
            assert len({a.worker for a in answers}) == 2
            assert len({a.status for a in answers}) == 1  # one outcome, replayed to all
            assert {a.status for a in answers} <= {201, 402}
            payment_ids = {a.body["payment_id"] for a in answers}
            assert len(payment_ids) == 1
            assert payment_ids != {"pay_of_a_dead_worker"}
            row = await conn.fetchrow(
                "SELECT payment_id, status FROM payments WHERE idempotency_key = $1", key
            )
            assert row["payment_id"] in payment_ids
            assert row["status"] in ("approved", "declined")
        finally:
            await conn.close()

    charges_before = metric_sum(served.url, "payments_total")
    asyncio.run(main())
    assert metric_sum(served.url, "payments_total") - charges_before == 1
