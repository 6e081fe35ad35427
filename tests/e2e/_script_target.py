"""A small aiohttp shop that a scripted flow must log in to, for the extraction tests.

`POST /login` answers a token in JSON, a `session` cookie and an `X-Request-Id` header;
`GET /form` an HTML page with a CSRF token for that session; `POST /orders` places an order
only with all four sent back (`Authorization: Bearer <token>`, the cookie, `X-CSRF`,
`X-Request-Id`), else 401; `GET /orders/{id}` shows one; any other path answers
`{"path": ...}`. `GET /_counts` returns how often each (method, path, status) was answered.
Run with `python tests/e2e/_script_target.py PORT`.
"""

from __future__ import annotations

import collections
import itertools
import sys

from aiohttp import web

_counts: collections.Counter[str] = collections.Counter()
_logins = itertools.count(1)
_sessions: dict[str, dict[str, str]] = {}
"""session cookie -> what that login handed out."""


@web.middleware
async def _count(request: web.Request, handler: object) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)  # type: ignore[operator]
    if request.path != "/_counts":
        _counts[f"{request.method} {request.path} {response.status}"] += 1
    return response


async def login(request: web.Request) -> web.Response:
    n = next(_logins)
    session = f"s{n}"
    _sessions[session] = {"token": f"tok-{n}", "csrf": f"c{n}x", "request_id": f"r-{n}"}
    response = web.json_response({"access_token": f"tok-{n}", "user": {"id": n}})
    response.set_cookie("session", session, path="/")
    response.headers["X-Request-Id"] = f"r-{n}"
    return response


async def form(request: web.Request) -> web.Response:
    handed = _sessions.get(request.cookies.get("session", ""))
    csrf = handed["csrf"] if handed else "none"
    html = f'<html><form><input type="hidden" name="csrf" value="{csrf}"></form></html>'
    return web.Response(text=html, content_type="text/html")


async def place_order(request: web.Request) -> web.Response:
    handed = _sessions.get(request.cookies.get("session", ""))
    if (
        handed is None
        or request.headers.get("Authorization") != f"Bearer {handed['token']}"
        or request.headers.get("X-CSRF") != handed["csrf"]
        or request.headers.get("X-Request-Id") != handed["request_id"]
    ):
        return web.json_response({"error": "unauthorized"}, status=401)
    return web.json_response({"order_id": 7, "status": "placed", "items": [1, 2]}, status=201)


async def order(request: web.Request) -> web.Response:
    return web.json_response({"order_id": int(request.match_info["id"]), "status": "placed"})


async def anything(request: web.Request) -> web.Response:
    return web.json_response({"path": request.path})


async def counts(request: web.Request) -> web.Response:
    return web.json_response(dict(_counts))


def app() -> web.Application:
    application = web.Application(middlewares=[_count])
    application.add_routes(
        [
            web.post("/login", login),
            web.get("/form", form),
            web.post("/orders", place_order),
            web.get("/orders/{id}", order),
            web.get("/_counts", counts),
            web.route("*", "/{tail:.*}", anything),
        ]
    )
    return application


if __name__ == "__main__":
    web.run_app(app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
