"""User preferences agent: read and write a user's shopping preferences, cached 24 hours."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.agents.auth import path_user
from reference_backend.agents.users import UserDirectory
from reference_backend.api import json_response, read_model
from reference_backend.cache import Cache, CacheType
from reference_backend.db import Database


class Preferences(BaseModel):
    """A user's preferences; PUT replaces them as a whole."""

    model_config = ConfigDict(extra="forbid", strict=True)

    currency: Literal["USD", "EUR", "GBP"] = "USD"
    language: Literal["en", "de", "fr", "es", "it"] = "en"
    favourite_categories: list[Annotated[str, Field(pattern=r"^[^\x00-\x1f]{1,64}$")]] = Field(
        default_factory=list, max_length=20
    )
    newsletter: bool = False
    max_price_cents: int | None = Field(default=None, ge=0, le=100_000_000)


_DEFAULTS: dict[str, Any] = Preferences().model_dump()


class PreferencesService:
    """Preferences through the cache; a write replaces the cached copy."""

    def __init__(self, db: Database, cache: Cache, users: UserDirectory) -> None:
        self._db = db
        self._cache = cache
        self._users = users

    async def get(self, user_id: int) -> dict[str, Any]:
        """The stored preferences, or the defaults for a user who never set any."""
        await self._users.require(user_id)

        async def load() -> dict[str, Any]:
            stored = await self._db.get_preferences(user_id)
            return {**_DEFAULTS, **(stored or {})}

        return await self._cache.get_or_load(CacheType.PREFERENCES, str(user_id), load)

    async def put(self, user_id: int, preferences: Preferences) -> dict[str, Any]:
        """Stores the preferences and refreshes the cache."""
        await self._users.require(user_id)
        value = preferences.model_dump()
        await self._db.put_preferences(user_id, value, time.time())
        await self._cache.set(CacheType.PREFERENCES, str(user_id), value)
        return value


def _service(request: Request) -> PreferencesService:
    return cast(PreferencesService, request.app.state.preferences)


async def preferences_get(request: Request) -> Response:
    """Show the logged-in user's preferences (defaults when never set)."""
    user_id = await path_user(request)
    return json_response({"user_id": user_id, **await _service(request).get(user_id)})


async def preferences_put(request: Request) -> Response:
    """Replace the logged-in user's preferences."""
    user_id = await path_user(request)
    body = await read_model(request, Preferences)
    return json_response({"user_id": user_id, **await _service(request).put(user_id, body)})


ROUTES = [
    Route(
        "/api/users/{user_id}/preferences", preferences_get, methods=["GET"], name="preferences_get"
    ),
    Route(
        "/api/users/{user_id}/preferences", preferences_put, methods=["PUT"], name="preferences_put"
    ),
]
