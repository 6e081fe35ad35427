"""The users every agent checks ids against; known ids are remembered (users are never deleted)."""

from __future__ import annotations

from reference_backend.api import ApiError
from reference_backend.db import Database

MAX_REMEMBERED = 1_000_000


class UserDirectory:
    """Answers 404 for unknown users; a known user costs one database read per process."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: set[int] = set()

    async def require(self, user_id: int) -> None:
        """Returns when the user exists, else raises a 404 ApiError."""
        if user_id in self._known:
            return
        if not await self._db.user_exists(user_id):
            raise ApiError(404, "unknown_user", f"no user {user_id}")
        if len(self._known) < MAX_REMEMBERED:
            self._known.add(user_id)
