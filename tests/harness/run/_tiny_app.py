"""A tiny Starlette target for the runner's tests (run with uvicorn in a subprocess)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def _root(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def _ready(request: Request) -> JSONResponse:
    return JSONResponse({"ready": True})


app = Starlette(routes=[Route("/", _root), Route("/health", _ready), Route("/ready", _ready)])
