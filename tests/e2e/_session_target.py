"""A target that remembers what each client session did, for the team-locustfile tests.

`POST /login` opens a session (cookie `sid`); `GET /browse`, `GET /buy`, `GET /read/{n}`,
`GET /items` and `POST /logout` are noted under the session of the request's cookie
(`-` without one); `GET /sessions` returns {sid: [what it did, in order]}.
Run with `python tests/e2e/_session_target.py PORT`.
"""

from __future__ import annotations

import itertools
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_ids = itertools.count(1)
_sessions: dict[str, list[str]] = {}


def _note(request: Request, what: str) -> None:
    _sessions.setdefault(request.cookies.get("sid", "-"), []).append(what)


async def login(request: Request) -> JSONResponse:
    sid = f"s{next(_ids)}"
    _sessions[sid] = ["login"]
    response = JSONResponse({"sid": sid})
    response.set_cookie("sid", sid)
    return response


async def noted(request: Request) -> JSONResponse:
    _note(request, request.url.path.strip("/"))
    return JSONResponse({"items": [{"id": 7}]})


async def sessions(request: Request) -> JSONResponse:
    return JSONResponse(_sessions)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/login", login, methods=["POST"]),
        Route("/logout", noted, methods=["POST"]),
        Route("/browse", noted),
        Route("/buy", noted),
        Route("/read/{n}", noted),
        Route("/items", noted),
        Route("/sessions", sessions),
        Route("/health", health),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
