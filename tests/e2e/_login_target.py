"""A small aiohttp service with logins, for the session tests: cookies, stale tokens, logout.

- `POST /login {"user": U}` answers `{"token": T}` and sets cookie `sid`: the session of U.
  A token is good for `TOKEN_USES` requests, then `/cart` answers 401 (it went stale).
- `GET /me?as=U` needs the `sid` cookie: 401 without it; counts `me mismatch` when the
  cookie is another user's (two users, or two arrivals, shared a cookie jar).
- `GET /cart` needs `Authorization: Bearer T` of a live token: 200, else 401.
- `POST /logout` ends the cookie's session.
- `GET /_counts` answers the counters (`login`, `logout`, `me ok`, `me mismatch`, `me 401`,
  `cart ok`, `cart 401`, `logout unknown`).
Run with `python tests/e2e/_login_target.py PORT`.
"""

from __future__ import annotations

import itertools
import secrets
import sys
from collections import Counter

from aiohttp import web

TOKEN_USES = 3
"""Requests a token serves before it goes stale."""

_counts: Counter[str] = Counter()
_sessions: dict[str, str] = {}
"""sid -> user."""
_tokens: dict[str, int] = {}
"""token -> uses left."""
_serial = itertools.count(1)


async def _login(request: web.Request) -> web.Response:
    user = str((await request.json())["user"])
    sid = secrets.token_hex(8)
    token = f"tok-{next(_serial)}"
    _sessions[sid] = user
    _tokens[token] = TOKEN_USES
    _counts["login"] += 1
    response = web.json_response({"token": token, "user": user})
    response.set_cookie("sid", sid, httponly=True)
    return response


async def _me(request: web.Request) -> web.Response:
    user = _sessions.get(request.cookies.get("sid", ""))
    if user is None:
        _counts["me 401"] += 1
        return web.json_response({"error": "no session"}, status=401)
    _counts["me ok" if user == request.query.get("as") else "me mismatch"] += 1
    return web.json_response({"user": user})


async def _cart(request: web.Request) -> web.Response:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if _tokens.get(token, 0) <= 0:
        _counts["cart 401"] += 1
        return web.json_response({"error": "stale token"}, status=401)
    _tokens[token] -= 1
    _counts["cart ok"] += 1
    return web.json_response({"items": []})


async def _logout(request: web.Request) -> web.Response:
    user = _sessions.pop(request.cookies.get("sid", ""), None)
    _counts["logout" if user is not None else "logout unknown"] += 1
    return web.Response(status=204)


async def _counts_view(_: web.Request) -> web.Response:
    return web.json_response(dict(_counts))


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/login", _login)
    app.router.add_get("/me", _me)
    app.router.add_get("/cart", _cart)
    app.router.add_post("/logout", _logout)
    app.router.add_get("/_counts", _counts_view)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
