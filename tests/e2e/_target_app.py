"""A tiny target with a known latency for the engine's real-process tests.

`GET /fixed/{ms}` answers after exactly `ms` milliseconds; `GET /lognormal/{p50}/{p99}`
after a lognormal delay (the delays it applied are kept, `GET /truth` returns them);
`GET /items` and `GET /items/{id}` (only id 7 exists) serve flow journeys;
`GET /stall/{duration_ms}/{every_s}` holds every request that arrives in the first
`duration_ms` of each `every_s`-second period (wall clock) until that stall ends.
Run with `python tests/e2e/_target_app.py PORT`.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

Z99 = 2.3263478740408408
_rng = random.Random(1234)
_applied_ms: list[float] = []


async def _sleep_exactly(start: float, delay_ms: float) -> None:
    deadline = start + delay_ms / 1000.0
    # timers may wake early: sleep again until the exact deadline
    while (remaining := deadline - time.perf_counter()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(remaining)


async def fixed(request: Request) -> JSONResponse:
    start = time.perf_counter()
    await _sleep_exactly(start, float(request.path_params["ms"]))
    return JSONResponse({"ok": True})


async def lognormal(request: Request) -> JSONResponse:
    start = time.perf_counter()
    p50 = float(request.path_params["p50"])
    p99 = float(request.path_params["p99"])
    delay = p50 * math.exp(math.log(p99 / p50) / Z99 * _rng.gauss(0.0, 1.0))
    _applied_ms.append(delay)
    await _sleep_exactly(start, delay)
    return JSONResponse({"ok": True})


async def stall(request: Request) -> JSONResponse:
    start = time.perf_counter()
    duration_s = float(request.path_params["duration_ms"]) / 1000.0
    every_s = float(request.path_params["every_s"])
    into = time.time() % every_s
    if into < duration_s:
        await _sleep_exactly(start, (duration_s - into) * 1000.0)
    return JSONResponse({"ok": True})


async def truth(request: Request) -> JSONResponse:
    """The lognormal delays applied since the last call (and forgets them)."""
    applied = list(_applied_ms)
    _applied_ms.clear()
    return JSONResponse({"applied_ms": applied})


async def items(request: Request) -> JSONResponse:
    return JSONResponse({"items": [{"id": 7, "name": "kettle"}]})


async def item(request: Request) -> JSONResponse:
    if request.path_params["item_id"] == "7":
        return JSONResponse({"id": 7, "name": "kettle"})
    return JSONResponse({"error": "not found"}, status_code=404)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/fixed/{ms}", fixed),
        Route("/lognormal/{p50}/{p99}", lognormal),
        Route("/stall/{duration_ms}/{every_s}", stall),
        Route("/truth", truth),
        Route("/items", items),
        Route("/items/{item_id}", item),
        Route("/health", health),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
