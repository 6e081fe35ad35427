"""Where the backend's CPU goes per operation of peak's mix: the app alone, without sockets.

`peak_bench.py` measures what a request of the peak mix costs the backend's whole process
(server, kernel, app, database). This splits the app's share by operation: it calls the
backend's ASGI app in this process, one request at a time, with the peak journeys' operations
in their measured shares of a peak run's requests (product_detail 39 %, product_search 25 %,
cart_add 14 %, checkout 6 % ...), the same random ids, users and search terms as the
journeys, and `Accept-Encoding: gzip` like Locust's users. CPU is this process's CPU time
(`time.process_time`, every thread: the SQLite threads included) around each request; a
checkout's own cart_add is timed as a cart_add. Beside it, a hello-world Starlette app
through the same ASGI call is the floor of the framework, and the HTTP stack's own cost per
request (uvicorn, uvloop, the kernel's loopback TCP) is what `backend_bench.py`'s
hello-world costs on top of that.

The database is a fresh SQLite file seeded like `perfctl serve`'s; the first quarter of the
requests warms the caches and is not counted. The simulated payment provider answers at once
(its wait costs no CPU, and with the default 40 ms the CPU of the backend's background
threads during that wait would be charged to the checkout) and the supplier restocks every
200 requests, as the backend's 30-second maintenance would over a run of the same length.

    .venv/bin/python benchmarks/app_cost_bench.py [--requests 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from harness.engine._journeys import SEARCH_TERMS, SUPPORT_MESSAGES, USERS
from reference_backend.app import create_app
from reference_backend.passwords import DEMO_PASSWORD, username_of
from reference_backend.settings import Settings

CATALOG_SIZE = Settings().catalog_size
WARM_SHARE = 0.25
RESTOCK_EVERY = 200
"""Requests between two supplier deliveries (without them, a checkout finds the product sold
out more and more often, and a sold-out checkout is cheaper)."""
UNLIMITED = 10**9
"""A rate limit no benchmark reaches: the limiter still runs, it never refuses."""


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request to the app."""

    method: str
    path: str
    query: bytes = b""
    body: Any = None
    headers: tuple[tuple[bytes, bytes], ...] = ()


Make = Callable[[random.Random], list[Call]]
TOKENS: dict[int, bytes] = {}
"""User id -> `Bearer <token>`: every user logs in once before the measured requests (a
closed-model user logs in once, so at peak the logins are a negligible share)."""


def _auth(user: int) -> tuple[bytes, bytes]:
    return (b"authorization", TOKENS[user])


def _cart_add(rng: random.Random, user: int) -> Call:
    body = {"product_id": rng.randint(1, CATALOG_SIZE), "quantity": 1}
    return Call("POST", f"/api/cart/{user}/items", body=body, headers=(_auth(user),))


def _checkout(rng: random.Random) -> list[Call]:
    user = rng.randint(1, USERS)
    key = (b"idempotency-key", uuid.uuid4().hex.encode())
    order = Call("POST", "/api/orders", body={"user_id": user, "card_token": "tok_visa"})
    headers = (key, _auth(user))
    return [_cart_add(rng, user), Call(order.method, order.path, body=order.body, headers=headers)]


MIX: tuple[tuple[str, float, Make], ...] = (
    (
        "product_detail",
        38.8,
        lambda rng: [Call("GET", f"/api/products/{rng.randint(1, CATALOG_SIZE)}")],
    ),
    (
        "product_search",
        24.6,
        lambda rng: [
            Call(
                "GET",
                "/api/products/search",
                f"q={rng.choice(SEARCH_TERMS)}&page=1&page_size=20".encode(),
            )
        ],
    ),
    ("cart_add", 14.3, lambda rng: [_cart_add(rng, rng.randint(1, USERS))]),
    ("checkout", 6.1, _checkout),
    ("category_list", 6.1, lambda rng: [Call("GET", "/api/categories")]),
    (
        "recommendations",
        4.0,
        lambda rng: [Call("GET", f"/api/recommendations/{rng.randint(1, USERS)}", b"limit=10")],
    ),
    (
        "inventory_check",
        2.0,
        lambda rng: [Call("GET", f"/api/inventory/{rng.randint(1, CATALOG_SIZE)}")],
    ),
    (
        "customer_support",
        1.6,
        lambda rng: [
            Call(
                "POST",
                "/api/support/messages",
                body={"user_id": rng.randint(1, USERS), "message": rng.choice(SUPPORT_MESSAGES)},
            )
        ],
    ),
    (
        "price_lookup",
        1.2,
        lambda rng: [Call("GET", f"/api/pricing/{rng.randint(1, CATALOG_SIZE)}")],
    ),
    (
        "payment",
        1.2,
        lambda rng: [
            Call(
                "POST",
                "/api/payments",
                body={
                    "amount_cents": rng.randint(500, 20000),
                    "currency": "USD",
                    "user_id": rng.randint(1, USERS),
                    "card_token": "tok_visa",
                    "order_id": None,
                },
                headers=((b"idempotency-key", uuid.uuid4().hex.encode()),),
            )
        ],
    ),
)
"""(operation, share of a peak run's requests in %, the requests it sends)."""


async def send_call(app: ASGIApp, call: Call) -> int:
    """Runs one request through `app`; its status."""
    raw = orjson.dumps(call.body) if call.body is not None else b""
    headers = [(b"host", b"bench"), (b"accept", b"application/json")]
    headers.append((b"accept-encoding", b"gzip, deflate"))
    if call.body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(raw))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": call.method,
        "scheme": "http",
        "path": call.path,
        "raw_path": call.path.encode(),
        "query_string": call.query,
        "root_path": "",
        "headers": headers + list(call.headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope, receive, send)
    return status


async def _hello(request: Request) -> Response:
    return JSONResponse({"hello": "world"})


async def measure(requests: int, seed: int, db_dir: Path) -> None:
    rng = random.Random(seed)
    settings = Settings(
        sqlite_path=str(db_dir / "shop.db"),
        rate_limit_per_s=UNLIMITED,
        rate_limit_burst=UNLIMITED,
        # the simulated payment provider's wait costs no CPU: shortened, so that one request
        # at a time runs in seconds rather than minutes
        payment_latency_ms=0.1,
        payment_latency_p99_ms=0.2,
    )
    app = create_app(settings)
    names = [name for name, _, _ in MIX]
    weights = [share for _, share, _ in MIX]
    makers = {name: make for name, _, make in MIX}
    cpu_s: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    warm = int(requests * WARM_SHARE)
    async with app.router.lifespan_context(app):
        for user in range(1, USERS + 1):
            token, _ = await app.state.sessions.login(username_of(user), DEMO_PASSWORD)
            TOKENS[user] = f"Bearer {token}".encode()
        for n in range(warm + requests):
            if n % RESTOCK_EVERY == 0:
                # the backend restocks every 30 s of wall time; this run is seconds long
                await app.state.inventory.restock()
            name = rng.choices(names, weights)[0]
            for call in makers[name](rng):
                operation = "cart_add" if call.path.startswith("/api/cart/") else name
                started = time.process_time()
                status = await send_call(app, call)
                if n >= warm:
                    cpu_s[operation] += time.process_time() - started
                    counts[operation] += 1
                    statuses[operation][status] += 1
    hello = Starlette(routes=[Route("/hello", _hello)])
    started = time.process_time()
    for _ in range(requests):
        await send_call(hello, Call("GET", "/hello"))
    hello_us = (time.process_time() - started) / requests * 1e6

    total_s = sum(cpu_s.values())
    total = sum(counts.values())
    print(f"{total:,} requests of peak's mix through the app in this process (no sockets):")
    print(
        f"{total_s / total * 1e6:,.0f} µs of CPU per request on average; hello-world {hello_us:.1f}"
    )
    print()
    print(f"{'operation':20} {'requests':>9} {'µs each':>8} {'share of CPU':>13}  statuses")
    for name in sorted(cpu_s, key=lambda op: cpu_s[op], reverse=True):
        each_us = cpu_s[name] / counts[name] * 1e6
        share = cpu_s[name] / total_s * 100
        answered = ", ".join(f"{s}: {c}" for s, c in sorted(statuses[name].items()))
        print(f"{name:20} {counts[name]:9,} {each_us:8,.0f} {share:12.1f} %  {answered}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="counted (plus 25 %% warm-up)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    uvloop.install()
    with tempfile.TemporaryDirectory(prefix="perfctl-app-cost-") as db_dir:
        asyncio.run(measure(args.requests, args.seed, Path(db_dir)))


if __name__ == "__main__":
    main()
