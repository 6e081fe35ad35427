"""A small aiohttp target that records every request it receives, for the secrets and data
feeder tests.

Every path answers 200 `{"ok": true}` and records method, path, query, Authorization header
and JSON body; `GET /_seen` returns the records. With `EXPECTED_TOKEN` set, a request
without `Authorization: Bearer <token>` answers 401 (the secret was not used).
Run with `python tests/e2e/_echo_target.py PORT`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from aiohttp import web

_seen: list[dict[str, Any]] = []


async def _record(request: web.Request) -> web.Response:
    body: Any = None
    if request.can_read_body:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            body = None
    _seen.append(
        {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "authorization": request.headers.get("Authorization"),
            "body": body,
        }
    )
    expected = os.environ.get("EXPECTED_TOKEN")
    if expected and request.headers.get("Authorization") != f"Bearer {expected}":
        return web.json_response({"error": "unauthorized"}, status=401)
    return web.json_response({"ok": True})


async def _seen_list(_: web.Request) -> web.Response:
    return web.Response(text=json.dumps(_seen), content_type="application/json")


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/_seen", _seen_list)
    app.router.add_get("/health", _health)
    app.router.add_route("*", "/{tail:.*}", _record)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
