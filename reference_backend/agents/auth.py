"""Auth agent: logging in and out, and the check the cart, orders and preferences routes make.

`POST /api/login` with `{"username", "password"}` answers `{"token", "user_id", "expires_in"}`
and sets the same token as an HttpOnly `session` cookie. A protected route accepts either
`Authorization: Bearer <token>` or that cookie; without a valid one it answers 401 with
`WWW-Authenticate: Bearer`, and with one of another user than the route's it answers 403.
`POST /api/logout` ends the session. Seeded users log in as `user{N}` with the demo password
(`reference_backend.passwords`).

Tokens are opaque (32 random bytes, URL-safe base64) and live server side, in the database's
`sessions` table under their SHA-256, for `settings.session_ttl_s`. The database rather than
a process's memory: every worker of `perfctl serve --workers N` and every agent process that
shares the database must accept a token another one issued (a client's next request may land
on any worker, and an agent forwards the caller's token to the agents it calls). A login is
one insert; a token is read from the database once per process and then checked against
an in-process copy, trusted for `RECHECK_S` at most, so a request pays a hash and a dict
lookup, and a logout reaches the other processes within `RECHECK_S`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import cast

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.api import ApiError, json_response, path_id, read_model
from reference_backend.clients import forward_credentials
from reference_backend.db import Database
from reference_backend.passwords import DEMO_PASSWORD, hash_password, verify_password

COOKIE_NAME = "session"
"""The cookie that carries the session token."""
RECHECK_S = 30.0
"""A process trusts its copy of a session this long before reading it again."""
MAX_CACHED = 100_000
"""Sessions a process keeps a copy of; the copy is cleared when it grows past this."""
_UNKNOWN_USER_HASH = hash_password(DEMO_PASSWORD, b"\x00" * 16)
"""Checked against for an unknown username, so that it costs as much as a wrong password."""
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="perfctl"'}


class LoginRequest(BaseModel):
    """The body of POST /api/login."""

    model_config = ConfigDict(extra="forbid", strict=True)

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class SessionStore:
    """Issues, resolves and ends login sessions (see the module docstring)."""

    def __init__(self, db: Database, ttl_s: float) -> None:
        self._db = db
        self.ttl_s = ttl_s
        self._known: dict[str, tuple[int, float, float]] = {}
        """token hash -> (user id, expiry, trusted until)."""

    async def login(self, username: str, password: str) -> tuple[str, int]:
        """A new token and its user; 401 when the credentials are wrong."""
        found = await self._db.user_credentials(username)
        stored = found[1] if found is not None else _UNKNOWN_USER_HASH
        if not verify_password(password, stored) or found is None:
            raise ApiError(401, "invalid_credentials", "unknown username or wrong password")
        token = secrets.token_urlsafe(32)
        expires_at = time.time() + self.ttl_s
        await self._db.create_session(_digest(token), found[0], expires_at)
        self._remember(_digest(token), found[0], expires_at)
        return token, found[0]

    async def user_of(self, token: str) -> int | None:
        """The user a live token belongs to, None for an unknown or expired one."""
        digest = _digest(token)
        now = time.time()
        known = self._known.get(digest)
        if known is None or known[2] < now:
            found = await self._db.session_user(digest)
            if found is None:
                self._known.pop(digest, None)
                return None
            known = self._remember(digest, found[0], found[1])
        if known[1] <= now:
            return None
        return known[0]

    async def logout(self, token: str) -> None:
        """Ends the session of a token (unknown tokens are ignored)."""
        digest = _digest(token)
        self._known.pop(digest, None)
        await self._db.delete_session(digest)

    async def purge(self) -> int:
        """Deletes expired sessions from the database and this process's copy."""
        now = time.time()
        self._known = {k: v for k, v in self._known.items() if v[1] > now}
        return await self._db.purge_sessions(now)

    def _remember(self, digest: str, user_id: int, expires_at: float) -> tuple[int, float, float]:
        if len(self._known) >= MAX_CACHED:
            self._known.clear()
        entry = (user_id, expires_at, min(expires_at, time.time() + RECHECK_S))
        self._known[digest] = entry
        return entry


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def credentials(request: Request) -> str | None:
    """The token a request carries: its bearer token, else its session cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return request.cookies.get(COOKIE_NAME) or None


async def authenticated_user(request: Request) -> int:
    """The user whose live token the request carries, or 401 with a Bearer challenge.

    The token is then forwarded on the calls this request makes to other agents."""
    token = credentials(request)
    user_id = None if token is None else await _store(request).user_of(token)
    if token is None or user_id is None:
        message = "log in first" if token is None else "the token is unknown or expired"
        raise ApiError(401, "unauthorized", message, headers=_CHALLENGE)
    forward_credentials(token)
    return user_id


def require_same_user(authenticated: int, user_id: int) -> None:
    """403 when the logged-in user is not the one the request is about."""
    if authenticated != user_id:
        raise ApiError(
            403, "forbidden", f"logged in as user {authenticated}, not as user {user_id}"
        )


async def path_user(request: Request, name: str = "user_id") -> int:
    """The `{user_id}` of the path, which must be the logged-in user (401, 422, 403)."""
    authenticated = await authenticated_user(request)
    user_id = path_id(request, name)
    require_same_user(authenticated, user_id)
    return user_id


def _store(request: Request) -> SessionStore:
    return cast(SessionStore, request.app.state.sessions)


async def login(request: Request) -> Response:
    """Log in: a bearer token in the body and the same token as the `session` cookie."""
    body = await read_model(request, LoginRequest)
    store = _store(request)
    token, user_id = await store.login(body.username, body.password)
    ttl_s = round(store.ttl_s)
    response = json_response({"token": token, "user_id": user_id, "expires_in": ttl_s})
    response.set_cookie(COOKIE_NAME, token, max_age=ttl_s, httponly=True, samesite="lax")
    return response


async def logout(request: Request) -> Response:
    """Log out: the token (bearer or cookie) stops working and the cookie is cleared."""
    token = credentials(request)
    if token is not None:
        await _store(request).logout(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, httponly=True, samesite="lax")
    return response


ROUTES = [
    Route("/api/login", login, methods=["POST"], name="login"),
    Route("/api/logout", logout, methods=["POST"], name="logout"),
]
