"""The gateway middleware on a tiny Starlette app: ids, rate limits, gzip, timeouts, metrics, faults."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import gzip
import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from reference_backend.app import create_app
from reference_backend.faults import FaultInjector, FaultSpec
from reference_backend.gateway import Watchdog, gateway_middleware
from reference_backend.metrics import get_metrics, metrics_endpoint
from reference_backend.settings import Settings
from tests.reference_backend._infra import running_uvicorn

slow_started = threading.Event()


async def hello(request: Request) -> Response:
    return JSONResponse({"hello": "world"})


async def big(request: Request) -> Response:
    return JSONResponse({"text": "lorem ipsum " * 200})


async def slow(request: Request) -> Response:
    slow_started.set()
    await asyncio.sleep(float(request.query_params.get("s", "0.3")))
    return JSONResponse({"slept": True})


async def broken(request: Request) -> Response:
    raise RuntimeError("handler bug")


async def product(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["product_id"]})


def tiny_app(settings: Settings, injector: FaultInjector | None = None) -> Starlette:
    return Starlette(
        routes=[
            Route("/hello", hello),
            Route("/big", big),
            Route("/slow", slow),
            Route("/broken", broken),
            Mount("/api/products", routes=[Route("/{product_id:int}", product)]),
            Route("/metrics", metrics_endpoint),
        ],
        middleware=gateway_middleware(settings, get_metrics(), injector or FaultInjector()),
    )


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(tiny_app(Settings(request_timeout_s=0.2)), raise_server_exceptions=False) as c:
        yield c


def sample(name: str, **labels: str) -> float:
    return get_metrics().registry.get_sample_value(name, labels) or 0.0


def test_every_response_carries_a_fresh_request_id(client: TestClient) -> None:
    ids = {client.get("/hello").headers["x-request-id"] for _ in range(20)}
    ids.add(client.get("/nowhere").headers["x-request-id"])
    assert len(ids) == 21


@pytest.mark.parametrize(
    ("given", "echoed"),
    [("abc-123", True), ("f" * 128, True), ("f" * 129, False), ("has space", False), ("", False)],
)
def test_a_sane_client_request_id_is_echoed(client: TestClient, given: str, echoed: bool) -> None:
    answered = client.get("/hello", headers={"X-Request-ID": given}).headers["x-request-id"]
    assert (answered == given) is echoed
    assert answered


def test_rate_limit_answers_429_with_retry_after_and_ratelimit_headers() -> None:
    app = tiny_app(Settings(rate_limit_per_s=1, rate_limit_burst=3))
    refused_before = sample("rate_limited_total")
    with TestClient(app) as client:
        answers = [client.get("/hello", headers={"X-Client-Key": "alice"}) for _ in range(4)]
        other = client.get("/hello", headers={"X-Client-Key": "bob"})
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    refused = answers[-1]
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["ratelimit-limit"] == "3"
    assert int(refused.headers["ratelimit-reset"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["x-request-id"]
    assert other.status_code == 200
    assert sample("rate_limited_total") - refused_before == 1


def test_the_client_ip_is_the_key_without_a_header() -> None:
    app = tiny_app(Settings(rate_limit_per_s=1, rate_limit_burst=2))
    with TestClient(app) as client:
        codes = [client.get("/hello").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_large_bodies_are_gzipped_small_ones_are_not(client: TestClient) -> None:
    large = client.get("/big", headers={"Accept-Encoding": "gzip"})
    small = client.get("/hello", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/big", headers={"Accept-Encoding": "identity"})
    assert large.headers["content-encoding"] == "gzip"
    assert int(large.headers["content-length"]) < len(large.content) // 5
    assert "content-encoding" not in small.headers
    assert "content-encoding" not in plain.headers
    assert large.headers["x-request-id"]


def test_gzip_bytes_on_the_wire_decode_to_the_body() -> None:
    with (
        running_uvicorn(tiny_app(Settings())) as url,
        httpx.stream("GET", f"{url}/big", headers={"Accept-Encoding": "gzip"}) as raw,
    ):
        wire = b"".join(raw.iter_raw())
    assert raw.headers["content-encoding"] == "gzip"
    assert orjson.loads(gzip.decompress(wire))["text"].startswith("lorem")


def test_a_slow_handler_gets_a_504_json(client: TestClient) -> None:
    response = client.get("/slow?s=2")
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
    assert response.headers["x-request-id"]


def test_a_handler_bug_is_a_500_json_with_the_request_id(client: TestClient) -> None:
    response = client.get("/broken", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "the server failed this request"}
    }
    assert response.headers["x-request-id"] == "bug-1"


def test_latency_is_recorded_per_agent_route_template_and_status_class(
    client: TestClient,
) -> None:
    labels = {"agent": "test_gateway", "method": "GET"}
    template = {**labels, "route": "/api/products/{product_id:int}", "status_class": "2xx"}
    before = sample("http_request_duration_seconds_count", **template)
    missing_before = sample(
        "http_request_duration_seconds_count",
        agent="none",
        route="unmatched",
        method="GET",
        status_class="4xx",
    )
    for product_id in (1, 2, 3):
        assert client.get(f"/api/products/{product_id}").status_code == 200
    client.get("/nowhere/at/all")
    scrape = client.get("/metrics").text
    assert sample("http_request_duration_seconds_count", **template) - before == 3
    assert (
        sample(
            "http_request_duration_seconds_count",
            agent="none",
            route="unmatched",
            method="GET",
            status_class="4xx",
        )
        - missing_before
        == 1
    )
    assert 'route="/metrics"' not in scrape
    assert "/api/products/1" not in scrape


def test_in_flight_counts_requests_being_served() -> None:
    with running_uvicorn(tiny_app(Settings())) as url:
        slow_started.clear()
        baseline = sample("http_requests_in_flight")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(httpx.get, f"{url}/slow?s=0.4")
            assert slow_started.wait(5)
            during = sample("http_requests_in_flight")
            assert pending.result().status_code == 200
        after = sample("http_requests_in_flight")
    assert (during - baseline, after - baseline) == (1, 0)


def test_injected_latency_and_errors_reach_the_client() -> None:
    injector = FaultInjector()
    injector.replace(
        [
            FaultSpec.model_validate(
                {"route": "/api/products/*", "latency": {"kind": "fixed", "ms": 40}}
            ),
            FaultSpec(route="/hello", error_rate=1.0, error_status=503),
        ]
    )
    with running_uvicorn(tiny_app(Settings(), injector)) as url, httpx.Client() as http:
        http.get(f"{url}/big")  # warm the connection
        elapsed_ms = []
        for _ in range(10):
            started = time.perf_counter()
            assert http.get(f"{url}/api/products/5").status_code == 200
            elapsed_ms.append((time.perf_counter() - started) * 1000)
        failed = http.get(f"{url}/hello")
        untouched = http.get(f"{url}/big")
    assert min(elapsed_ms) >= 40
    assert sorted(elapsed_ms)[5] < 40 + 20
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "injected_fault"
    assert untouched.status_code == 200


def test_a_stall_releases_every_waiting_request_together() -> None:
    injector = FaultInjector()
    stall = {"route": "/hello", "latency": {"kind": "stall", "duration_ms": 300, "every_s": 60}}
    with running_uvicorn(tiny_app(Settings(), injector)) as url:
        injector.replace([FaultSpec.model_validate(stall)])

        def finish_time() -> float:
            httpx.get(f"{url}/hello")
            return time.time()

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = []
            for _ in range(4):
                futures.append(pool.submit(finish_time))
                time.sleep(0.03)
            finished = [f.result() for f in futures]
    stall_end = injector.faults[0].set_at_s + 0.3
    assert all(stall_end <= t < stall_end + 0.1 for t in finished)


# -- the real backend ---------------------------------------------------------------------


def test_the_real_app_labels_latency_by_agent_and_route_template(sqlite_settings: Settings) -> None:
    search = {"agent": "search", "method": "GET", "status_class": "2xx"}
    detail = {**search, "route": "/api/products/{product_id}"}
    listing = {**search, "route": "/api/products/search"}
    before = [
        sample("http_request_duration_seconds_count", **labels) for labels in (detail, listing)
    ]
    with TestClient(create_app(sqlite_settings)) as real:
        for product_id in (1, 2, 3):
            assert real.get(f"/api/products/{product_id}").status_code == 200
        assert real.get("/api/products/search", params={"q": "lamp"}).status_code == 200
    after = [
        sample("http_request_duration_seconds_count", **labels) for labels in (detail, listing)
    ]
    assert [b - a for a, b in zip(before, after, strict=True)] == [3, 1]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/categories", 200),
        ("GET", "/api/products/999999", 404),
        ("GET", "/api/products/search?page=-1", 422),
        ("POST", "/api/login", 400),
        ("GET", "/no/such/route", 404),
    ],
)
def test_every_real_response_carries_a_request_id(
    sqlite_settings: Settings, method: str, path: str, status: int
) -> None:
    with TestClient(create_app(sqlite_settings)) as real:
        response = real.request(method, path, headers={"X-Request-ID": "trace-42"})
    assert response.status_code == status
    assert response.headers["x-request-id"] == "trace-42"


def test_the_real_app_injects_faults_by_operation_name(sqlite_settings: Settings) -> None:
    settings = dataclasses.replace(sqlite_settings, admin_token="calibrate")
    auth = {"Authorization": "Bearer calibrate"}
    fault_body = {"route": "product_detail", "error_rate": 1.0, "error_status": 503}
    with TestClient(create_app(settings)) as real:
        assert real.post("/admin/faults", json=fault_body, headers=auth).status_code == 201
        detail = real.get("/api/products/3")
        listing = real.get("/api/products/search")
        metrics_page = real.get("/metrics")
    assert detail.status_code == 503
    assert detail.json()["error"]["code"] == "injected_fault"
    assert listing.status_code == 200
    assert metrics_page.status_code == 200


def test_the_watchdog_cancels_only_overdue_requests_and_knows_which() -> None:
    async def scenario() -> None:
        watchdog = Watchdog(timeout_s=0.1)
        outcomes: dict[str, tuple[str, float]] = {}

        async def request(name: str, work_s: float) -> None:
            started = time.perf_counter()
            task = watchdog.watch()
            try:
                await asyncio.sleep(work_s)
                outcomes[name] = ("done", time.perf_counter() - started)
            except asyncio.CancelledError:
                verdict = "timed out" if watchdog.expired(task) else "cancelled"
                outcomes[name] = (verdict, time.perf_counter() - started)
            finally:
                watchdog.forget(task)

        quick = asyncio.create_task(request("quick", 0.02))
        slow = asyncio.create_task(request("slow", 5))
        other = asyncio.create_task(request("other", 5))
        await asyncio.sleep(0.05)
        other.cancel()
        await asyncio.gather(quick, slow, other)
        assert outcomes["quick"][0] == "done"
        assert outcomes["other"][0] == "cancelled"
        verdict, elapsed_s = outcomes["slow"]
        assert verdict == "timed out"
        assert 0.1 <= elapsed_s < 0.1 + watchdog.tick_s + 0.1
        assert watchdog._deadlines == {}

    asyncio.run(scenario())
