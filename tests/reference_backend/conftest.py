"""Fixtures of the reference backend tests: seeded databases (SQLite and PostgreSQL) and apps."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.testclient import TestClient

from reference_backend.app import create_app
from reference_backend.settings import Settings

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_COORDINATION_URL = "redis://127.0.0.1:6379/13"
"""The Redis database of the coordination tests: their keys never meet the cache tests'."""
# Small but real: every agent has data to find, and seeding takes a few milliseconds.
TEST_SETTINGS = Settings(
    catalog_size=400,
    users=60,
    seed=7,
    payment_latency_ms=1.0,
    payment_latency_p99_ms=3.0,
    payment_decline_rate=0.0,
    rate_limit_per_s=0.0,
)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database (perfctl_test_<random>), dropped afterwards."""
    name = f"perfctl_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f"CREATE DATABASE {name}"))
    except (OSError, asyncpg.PostgresError) as error:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not usable: {error}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def unlink_redis_keys(url: str, pattern: str) -> int:
    """Unlink every key matching `pattern` (SCAN, never KEYS); return how many."""
    client = redis.Redis.from_url(url)
    try:
        doomed = list(client.scan_iter(match=pattern, count=500))
        return int(client.unlink(*doomed)) if doomed else 0
    finally:
        client.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test alone in REDIS_COORDINATION_URL, unlinked afterwards."""
    key_prefix = f"perfctl-test:{uuid.uuid4().hex[:12]}:"
    yield key_prefix
    unlink_redis_keys(REDIS_COORDINATION_URL, f"{key_prefix}*")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """Test settings on a fresh SQLite file."""
    return dataclasses.replace(TEST_SETTINGS, sqlite_path=str(tmp_path / "shop.db"))


@pytest.fixture
def postgres_settings() -> Iterator[Settings]:
    """Test settings on a fresh PostgreSQL database."""
    with postgres_database() as url:
        yield dataclasses.replace(TEST_SETTINGS, database_url=url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Test settings on each database in turn."""
    if request.param == "sqlite":
        yield dataclasses.replace(TEST_SETTINGS, sqlite_path=str(tmp_path / "shop.db"))
        return
    with postgres_database() as url:
        yield dataclasses.replace(TEST_SETTINGS, database_url=url)


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    """The whole backend on SQLite, lifespan running."""
    with TestClient(create_app(sqlite_settings)) as test_client:
        yield test_client


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The app with its lifespan running and an async client on the same event loop.

    Requests sent with `asyncio.gather` really run concurrently, which TestClient (one
    request at a time from the test thread) cannot show.
    """
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://backend") as http:
            yield app, http


def error_code(response: Any) -> str:
    """The `error.code` of a JSON error response."""
    return str(response.json()["error"]["code"])


def sellable_products(client: TestClient, count: int, min_stock: int = 20) -> list[int]:
    """Ids of `count` active products with at least `min_stock` units, least popular first."""
    found: list[int] = []
    page = 1
    while len(found) < count:
        body = client.get("/api/products/search", params={"page_size": 100, "page": page}).json()
        for item in reversed(body["items"]):
            stock = client.get(f"/api/inventory/{item['product_id']}").json()["stock"]
            if stock >= min_stock:
                found.append(item["product_id"])
                if len(found) == count:
                    break
        if not body["has_more"]:
            break
        page += 1
    assert len(found) == count, "the seeded catalog has enough sellable products"
    return found
