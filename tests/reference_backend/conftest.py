"""Fixtures of the reference backend tests: seeded databases (SQLite and PostgreSQL) and apps."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http.cookiejar
import re
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import redis
from starlette.applications import Starlette
from starlette.testclient import TestClient

from reference_backend.app import create_app
from reference_backend.passwords import DEMO_PASSWORD, username_of
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


_USER_PATH = re.compile(r"^/api/(?:cart|users)/(\d+)(?:/|$)")


class ActAsUser(httpx.Auth):
    """Logs in as the user a request is about and sends that user's bearer token.

    The user is the `{user_id}` of a user's route (`/api/cart/N`, `/api/users/N/...`), the
    `user_id` of a JSON body (`POST /api/orders`), else the user of the previous request
    (`GET /api/orders/N`). So the agents' tests act as the user they address, as a shop's
    client does after logging in; a user that cannot log in (unknown) sends no token. A
    request that sets its own Authorization header is left alone. The client it serves
    keeps no cookies (`no_cookies`), so only this token authenticates."""

    requires_request_body = True
    requires_response_body = True

    def __init__(self) -> None:
        self.tokens: dict[int, str | None] = {}
        self.last: int | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        user = None if "authorization" in request.headers else self._user_of(request)
        if user is not None:
            if user not in self.tokens:
                credentials = {"username": username_of(user), "password": DEMO_PASSWORD}
                login_url = request.url.copy_with(path="/api/login", query=None)
                answer = yield httpx.Request("POST", login_url, json=credentials)
                self.tokens[user] = answer.json()["token"] if answer.status_code == 200 else None
            token = self.tokens[user]
            if token is not None:
                request.headers["Authorization"] = f"Bearer {token}"
            self.last = user
        yield request

    def _user_of(self, request: httpx.Request) -> int | None:
        found = _USER_PATH.match(request.url.path)
        if found is not None:
            return int(found.group(1))
        if request.method == "POST" and request.url.path != "/api/login":
            try:
                user = orjson.loads(request.content).get("user_id")
            except (orjson.JSONDecodeError, AttributeError):
                return None
            return user if isinstance(user, int) else None
        return self.last if request.url.path.startswith("/api/orders/") else None


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def act_as_user(test_client: TestClient) -> TestClient:
    """Makes a client act as the user each request is about (`ActAsUser`), with no cookies."""
    test_client.cookies.jar.set_policy(_NoCookies())
    test_client.auth = ActAsUser()
    return test_client


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    """The whole backend on SQLite, lifespan running, acting as the user each request is
    about (`ActAsUser`)."""
    with TestClient(create_app(sqlite_settings)) as test_client:
        yield act_as_user(test_client)


@pytest.fixture
def anonymous(sqlite_settings: Settings) -> Iterator[TestClient]:
    """The whole backend on SQLite, lifespan running, with no login."""
    with TestClient(create_app(sqlite_settings)) as test_client:
        yield test_client


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The app with its lifespan running and an async client on the same event loop, acting
    as the user each request is about (`ActAsUser`).

    Requests sent with `asyncio.gather` really run concurrently, which TestClient (one
    request at a time from the test thread) cannot show.
    """
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://backend", auth=ActAsUser()
        ) as http:
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
