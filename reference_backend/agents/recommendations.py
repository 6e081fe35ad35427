"""Recommendations agent: what to show a user next.

Blends three sources, in this order, without repeats: the user's most-purchased products of
the last 30 days (the seed's second query, "buy again"), products bought together with them
by other customers ("bought together"), then the most popular products in stock (the
fallback for users without history). Cached 15 minutes per user and size (the seed's TTL).
"""

from __future__ import annotations

import time
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.agents.users import UserDirectory
from reference_backend.api import json_response, path_id, query_int
from reference_backend.cache import Cache, CacheType
from reference_backend.db import Database

HISTORY_WINDOW_S = 30 * 86_400
MAX_LIMIT = 50
DEFAULT_LIMIT = 10


class RecommendationService:
    """Computes and caches each user's recommendations."""

    def __init__(self, db: Database, cache: Cache, users: UserDirectory) -> None:
        self._db = db
        self._cache = cache
        self._users = users

    async def recommend(self, user_id: int, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` products for the user, each with the reason it was chosen."""
        await self._users.require(user_id)
        return await self._cache.get_or_load(
            CacheType.RECOMMENDATIONS, f"{user_id}:{limit}", lambda: self._compute(user_id, limit)
        )

    async def _compute(self, user_id: int, limit: int) -> list[dict[str, Any]]:
        since_s = time.time() - HISTORY_WINDOW_S
        picked: dict[int, dict[str, Any]] = {}

        def take(rows: list[Any], reason: str, score_key: str | None) -> None:
            for row in rows:
                if len(picked) >= limit:
                    return
                if row["product_id"] in picked:
                    continue
                picked[row["product_id"]] = {
                    "product_id": row["product_id"],
                    "name": row["name"],
                    "price_cents": row["price_cents"],
                    "image_url": row["image_url"],
                    "reason": reason,
                    "score": float(row[score_key]) if score_key else 0.0,
                }

        # Half the list from the user's own history at most, so that discovery has room.
        own = await self._db.top_purchased(user_id, since_s, max(1, limit // 2))
        take(own, "purchased_recently", "total_purchased")
        if len(picked) < limit:
            together = await self._db.co_purchased(user_id, since_s, limit)
            take(together, "bought_together", "total_purchased")
        if len(picked) < limit:
            popular = await self._db.popular_products(limit + len(picked))
            take(popular, "popular", "popularity_score")
        return list(picked.values())


def _service(request: Request) -> RecommendationService:
    return cast(RecommendationService, request.app.state.recommendations)


async def recommendations(request: Request) -> Response:
    """Recommend products for a user: recent purchases, bought together, then popular."""
    user_id = path_id(request, "user_id")
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    items = await _service(request).recommend(user_id, limit)
    return json_response({"user_id": user_id, "items": items})


ROUTES = [
    Route(
        "/api/recommendations/{user_id}", recommendations, methods=["GET"], name="recommendations"
    )
]
