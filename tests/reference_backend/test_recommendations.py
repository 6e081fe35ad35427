"""Recommendations agent: recent purchases first, then bought together, then popular."""

from __future__ import annotations

import asyncio
import time

from starlette.testclient import TestClient

from reference_backend.settings import Settings
from tests.reference_backend.conftest import running_app


def _buyers_and_newcomers(settings: Settings) -> tuple[int, int]:
    """A user with orders in the last 30 days, and one without."""

    async def main() -> tuple[int, int]:
        async with running_app(settings) as (app, _):
            db = app.state.db
            since = time.time() - 30 * 86_400
            buyer = newcomer = 0
            for user in range(1, settings.users + 1):
                if await db.top_purchased(user, since, 1):
                    buyer = buyer or user
                else:
                    newcomer = newcomer or user
            return buyer, newcomer

    return asyncio.run(main())


def test_recent_purchases_come_first(client: TestClient, sqlite_settings: Settings) -> None:
    buyer, _ = _buyers_and_newcomers(sqlite_settings)
    assert buyer, "the seeded history has recent buyers"
    items = client.get(f"/api/recommendations/{buyer}", params={"limit": 10}).json()["items"]
    assert len(items) == 10
    assert items[0]["reason"] == "purchased_recently"
    reasons = [i["reason"] for i in items]
    order = {"purchased_recently": 0, "bought_together": 1, "popular": 2}
    assert [order[r] for r in reasons] == sorted(order[r] for r in reasons)
    assert len({i["product_id"] for i in items}) == 10  # no repeats
    recent = [i for i in items if i["reason"] == "purchased_recently"]
    assert len(recent) <= 5  # at most half, to leave room for discovery


def test_users_without_recent_history_get_popular_products(
    client: TestClient, sqlite_settings: Settings
) -> None:
    _, newcomer = _buyers_and_newcomers(sqlite_settings)
    assert newcomer, "the seeded history leaves some users without recent orders"
    items = client.get(f"/api/recommendations/{newcomer}", params={"limit": 5}).json()["items"]
    assert [i["reason"] for i in items] == ["popular"] * 5
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)


def test_limits_and_unknown_users(client: TestClient) -> None:
    assert len(client.get("/api/recommendations/1", params={"limit": 3}).json()["items"]) == 3
    assert client.get("/api/recommendations/1", params={"limit": 0}).status_code == 422
    assert client.get("/api/recommendations/1", params={"limit": 51}).status_code == 422
    assert client.get("/api/recommendations/424242").status_code == 404
