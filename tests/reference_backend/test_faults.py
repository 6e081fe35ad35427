"""Fault injection: latency models, matching, sharing through the file, the admin API."""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import statistics
import time
from pathlib import Path

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from reference_backend.app import AGENT_ROUTES
from reference_backend.faults import (
    FAULTS_FILE_ENV,
    OPERATIONS,
    Z99,
    ActiveFault,
    ArrivalRate,
    FaultInjector,
    FaultSpec,
    admin_routes,
    parse_fault,
)
from reference_backend.settings import Settings
from tests.reference_backend._infra import ServeProcess

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


RATE_FAULT = {"kind": "rate", "ms_per_rps": 0.5, "base_ms": 2}


def fault(**fields: object) -> ActiveFault:
    return ActiveFault(FaultSpec.model_validate({"route": "*", **fields}), set_at_s=1000.0)


def test_lognormal_delays_have_the_requested_median_and_p99() -> None:
    lognormal = fault(latency={"kind": "lognormal", "p50_ms": 20, "p99_ms": 200})
    rng = random.Random(7)
    samples_ms = sorted(lognormal.delay_s(rng, 0.0) * 1000 for _ in range(50_000))
    p50 = samples_ms[len(samples_ms) // 2]
    p99 = samples_ms[int(len(samples_ms) * 0.99)]
    assert p50 == pytest.approx(20, rel=0.03)
    assert p99 == pytest.approx(200, rel=0.06)
    assert lognormal.spec.latency.sigma == pytest.approx(math.log(10) / Z99)  # type: ignore[union-attr]


def test_a_fixed_delay_is_exact() -> None:
    fixed = fault(latency={"kind": "fixed", "ms": 37.5})
    assert fixed.delay_s(random.Random(), 0.0) == 0.0375


@pytest.mark.parametrize(
    ("seconds_after_set", "expected_delay_s"),
    [(0.0, 0.5), (0.2, 0.3), (0.4999, 0.0001), (0.5, 0.0), (4.9, 0.0), (5.1, 0.4), (50.25, 0.25)],
)
def test_a_stall_holds_requests_until_it_ends(
    seconds_after_set: float, expected_delay_s: float
) -> None:
    stall = fault(latency={"kind": "stall", "duration_ms": 500, "every_s": 5})
    delay_s = stall.delay_s(random.Random(), 1000.0 + seconds_after_set)
    assert delay_s == pytest.approx(expected_delay_s, abs=1e-6)


def test_rate_latency_adds_its_base_and_slope_times_the_rate() -> None:
    rate = fault(latency={"kind": "rate", "ms_per_rps": 0.2, "base_ms": 3})
    assert rate.delay_s(random.Random(), 0.0, rate_per_s=250.0) == pytest.approx(0.053)
    assert rate.delay_s(random.Random(), 0.0) == pytest.approx(0.003)


def test_the_arrival_rate_counts_the_last_second_this_arrival_included() -> None:
    window = ArrivalRate()
    assert window.record(10.0) == 1.0
    assert window.record(10.5) == 2.0
    assert window.record(10.999) == 3.0
    assert window.record(11.0) == 3.0  # the arrival at 10.0 is one second old: out
    assert window.record(20.0) == 1.0  # after a pause the rate starts again from one


def test_a_rate_fault_delays_by_the_rate_this_worker_received() -> None:
    # arrival times are the injector's clock: a steady 200 requests/s, then a pause
    injector = FaultInjector()
    injector.replace([FaultSpec.model_validate({"route": "*", "latency": RATE_FAULT})])
    (rate,) = injector.faults
    delays_ms = [injector.delay_s(rate, 100.0 + n / 200) * 1000 for n in range(600)]
    assert delays_ms[0] == pytest.approx(2 + 0.5 * 1)
    assert delays_ms[99] == pytest.approx(2 + 0.5 * 100)  # half a second in: 100 arrivals
    # a full second in, the window holds 200 arrivals: 2 + 0.5 x 200 ms from then on
    assert delays_ms[200:] == pytest.approx([102.0] * 400)
    assert injector.delay_s(rate, 200.0) * 1000 == pytest.approx(2.5)


def test_a_rate_fault_counts_only_the_requests_it_matches() -> None:
    injector = FaultInjector()
    injector.replace(
        [
            FaultSpec.model_validate({"route": "product_search", "latency": RATE_FAULT}),
            FaultSpec.model_validate({"route": "*", "latency": RATE_FAULT}),
        ]
    )
    for n in range(300):  # 300 searches in a second, all on the first fault
        search = injector.match("GET", "/api/products/search")
        assert search is not None
        injector.delay_s(search, 50.0 + n / 300)
    other = injector.match("GET", "/api/categories")
    assert other is not None
    assert other.spec.route == "*"
    assert injector.delay_s(other, 51.0) * 1000 == pytest.approx(2 + 0.5 * 1)


def test_replacing_a_rate_fault_starts_its_count_again() -> None:
    injector = FaultInjector()
    spec = FaultSpec.model_validate({"route": "*", "latency": RATE_FAULT})
    injector.replace([spec])
    (first,) = injector.faults
    for n in range(100):
        injector.delay_s(first, 10.0 + n / 1000)
    injector.replace([spec])
    (second,) = injector.faults
    assert injector.delay_s(second, 10.2) * 1000 == pytest.approx(2.5)


def test_a_rate_fault_through_the_shared_file_keeps_its_count(tmp_path: Path) -> None:
    # a worker re-reads the file into new, equal faults: the count must survive the re-read
    path = tmp_path / "faults.json"
    injector = FaultInjector(str(path), refresh_interval_s=0.0)
    injector.replace([FaultSpec.model_validate({"route": "*", "latency": RATE_FAULT})])
    delay_s = 0.0
    for n in range(50):
        os.utime(path, ns=(n, n))  # a new stamp: the next look re-reads the file
        (rate,) = injector.faults
        delay_s = injector.delay_s(rate, 5.0 + n / 100)
    assert delay_s * 1000 == pytest.approx(2 + 0.5 * 50)


def test_a_rate_fault_sleeps_the_delay_it_computed() -> None:
    injector = FaultInjector()
    injector.replace([FaultSpec.model_validate({"route": "*", "latency": RATE_FAULT})])
    (rate,) = injector.faults

    async def last_elapsed_ms() -> float:
        arrival = time.perf_counter()
        for _ in range(39):  # 39 earlier requests within the second
            injector.delay_s(rate, arrival)
        await injector.inflict(rate, arrival)
        return (time.perf_counter() - arrival) * 1000

    elapsed_ms = asyncio.run(last_elapsed_ms())
    assert 2 + 0.5 * 40 <= elapsed_ms < 2 + 0.5 * 40 + 10


@pytest.mark.parametrize(
    ("route", "method", "path", "applies"),
    [
        ("*", "GET", "/api/categories", True),
        ("/api/products/*", "GET", "/api/products/12", True),
        ("/api/products/*", "GET", "/api/cart/1", False),
        ("product_search", "GET", "/api/products/search", True),
        ("product_search", "POST", "/api/products/search", False),
        ("product_detail", "GET", "/api/products/12", True),
        ("product_detail", "GET", "/api/products/search", False),
        ("inventory_check", "GET", "/api/inventory/4", True),
        ("inventory_release", "DELETE", "/api/inventory/reservations/ab12", True),
        ("order_history", "GET", "/api/users/3/orders", True),
        ("cart_remove", "DELETE", "/api/cart/3/items/9", True),
        ("*", "GET", "/metrics", False),
        ("*", "GET", "/health", False),
        ("*", "PUT", "/admin/faults", False),
    ],
)
def test_routes_match_by_path_glob_or_operation(
    route: str, method: str, path: str, applies: bool
) -> None:
    injector = FaultInjector()
    injector.replace([FaultSpec(route=route)])
    assert (injector.match(method, path) is not None) is applies


def test_the_method_narrows_a_path_glob() -> None:
    injector = FaultInjector()
    injector.replace([FaultSpec(route="/api/cart/*", method="post")])
    assert injector.match("GET", "/api/cart/1") is None
    assert injector.match("POST", "/api/cart/1") is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"route": "no_such_op"}, "route must be"),
        ({"route": "*", "latency": {"kind": "lognormal", "p50_ms": 50, "p99_ms": 10}}, "p99_ms"),
        (
            {"route": "*", "latency": {"kind": "stall", "duration_ms": 5000, "every_s": 5}},
            "shorter",
        ),
        ({"route": "*", "latency": {"kind": "gamma"}}, "latency"),
        ({"route": "*", "latency": {"kind": "rate", "ms_per_rps": 0}}, "ms_per_rps"),
        ({"route": "*", "latency": {"kind": "rate", "base_ms": 5}}, "ms_per_rps"),
        ({"route": "*", "latency": {"kind": "rate", "ms_per_rps": 1, "base_ms": -1}}, "base_ms"),
        ({"route": "*", "error_rate": 1.5}, "error_rate"),
        ({"route": "*", "error_status": 200}, "error_status"),
        ({"route": "*", "latency_ms": 5}, "latency_ms"),
    ],
)
def test_invalid_faults_are_refused_with_one_line(body: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        parse_fault(orjson.dumps(body))
    assert "\n" not in str(refused.value)


def test_error_rate_answers_that_fraction_with_the_status() -> None:
    injector = FaultInjector(rng=random.Random(3))
    flaky = fault(error_rate=0.3, error_status=502)

    async def outcomes() -> list[int | None]:
        return [await injector.inflict(flaky, time.perf_counter()) for _ in range(4000)]

    results = asyncio.run(outcomes())
    assert set(results) == {None, 502}
    assert results.count(502) / len(results) == pytest.approx(0.3, abs=0.03)


def test_injected_latency_is_never_shorter_than_asked() -> None:
    injector = FaultInjector()
    fixed = fault(latency={"kind": "fixed", "ms": 7.3})

    async def measure() -> list[float]:
        elapsed_ms = []
        for _ in range(30):
            arrival = time.perf_counter()
            await injector.inflict(fixed, arrival)
            elapsed_ms.append((time.perf_counter() - arrival) * 1000)
        return elapsed_ms

    elapsed_ms = asyncio.run(measure())
    assert min(elapsed_ms) >= 7.3
    assert statistics.median(elapsed_ms) < 7.3 + 3


def test_cpu_burn_spends_cpu_time() -> None:
    injector = FaultInjector()
    burner = fault(cpu_burn_ms=40)
    before = time.process_time()
    asyncio.run(injector.inflict(burner, time.perf_counter()))
    assert time.process_time() - before >= 0.04


def test_workers_sharing_the_file_see_each_others_changes(tmp_path: Path) -> None:
    path = str(tmp_path / "faults.json")
    worker_a = FaultInjector(path, refresh_interval_s=0.0)
    worker_b = FaultInjector(path, refresh_interval_s=0.0)
    worker_a.add(FaultSpec(route="product_search", error_rate=1.0))
    worker_b.add(
        FaultSpec.model_validate({"route": "/api/cart/*", "latency": {"kind": "fixed", "ms": 5}})
    )
    assert [f.spec.route for f in worker_a.faults] == ["product_search", "/api/cart/*"]
    assert worker_b.match("GET", "/api/products/search") is not None
    assert worker_a.remove("product_search") == 1
    assert [f.spec.route for f in worker_b.faults] == ["/api/cart/*"]
    assert worker_b.remove() == 1
    assert worker_a.faults == ()


def test_the_file_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULTS_FILE_ENV, str(tmp_path / "shared.json"))
    assert FaultInjector().path == str(tmp_path / "shared.json")


def test_a_worker_rechecks_the_file_at_most_every_interval(tmp_path: Path) -> None:
    path = str(tmp_path / "faults.json")
    writer = FaultInjector(path, refresh_interval_s=0.0)
    reader = FaultInjector(path, refresh_interval_s=0.05)
    assert reader.faults == ()
    writer.add(FaultSpec(route="*"))
    assert reader.faults == ()  # inside the interval: not re-read yet
    time.sleep(0.06)
    assert len(reader.faults) == 1


def admin_client(token: str | None, injector: FaultInjector) -> TestClient:
    app = Starlette(routes=admin_routes(Settings(admin_token=token), injector))
    return TestClient(app)


def test_without_a_token_the_admin_routes_do_not_exist() -> None:
    assert admin_routes(Settings(), FaultInjector()) == []


@pytest.mark.parametrize("token", ["", "   "])
def test_a_blank_token_does_not_open_the_admin_routes(token: str) -> None:
    assert admin_routes(Settings(admin_token=token), FaultInjector()) == []
    with admin_client(None, FaultInjector()) as client:
        assert client.get("/admin/faults").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_the_admin_routes_need_the_token(header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    with admin_client(TOKEN, FaultInjector()) as client:
        response = client.put("/admin/faults", json={"faults": []}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_admin_api_sets_lists_and_clears_faults() -> None:
    injector = FaultInjector()
    search = {"route": "product_search", "latency": {"kind": "fixed", "ms": 25}}
    loaded = {"route": "/api/pricing/*", "latency": RATE_FAULT}
    with admin_client(TOKEN, injector) as client:
        put = client.put("/admin/faults", json={"faults": [search, loaded]}, headers=AUTH)
        assert put.json()["faults"][1]["latency"] == RATE_FAULT
        put = client.put("/admin/faults", json={"faults": [search]}, headers=AUTH)
        assert put.status_code == 200
        post = client.post(
            "/admin/faults", json={"route": "/api/cart/*", "error_rate": 0.5}, headers=AUTH
        )
        assert post.status_code == 201
        listed = client.get("/admin/faults", headers=AUTH).json()["faults"]
        assert [f["route"] for f in listed] == ["product_search", "/api/cart/*"]
        assert listed[0]["latency"] == {"kind": "fixed", "ms": 25.0}
        assert client.delete("/admin/faults?route=nope", headers=AUTH).status_code == 404
        one = client.delete("/admin/faults?route=/api/cart/*", headers=AUTH)
        assert [f["route"] for f in one.json()["faults"]] == ["product_search"]
        assert client.delete("/admin/faults", headers=AUTH).json() == {"faults": []}
    assert injector.faults == ()


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"faults": [{"route": 3}]}', b'{"faults": "all"}', b"[]"]
)
def test_admin_api_refuses_bad_bodies_with_422(body: bytes) -> None:
    with admin_client(TOKEN, FaultInjector()) as client:
        response = client.put("/admin/faults", content=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_fault"


@pytest.mark.slow
def test_faults_set_through_one_worker_apply_in_every_worker() -> None:
    auth = {"Authorization": "Bearer calibrate"}
    with ServeProcess(
        "--workers", "2", "--catalog-size", "200", "--admin-token", "calibrate"
    ) as server:
        assert httpx.get(f"{server.url}/admin/faults").status_code == 401
        fault_body = {"route": "category_list", "error_rate": 1.0, "error_status": 599}
        assert (
            httpx.post(f"{server.url}/admin/faults", json=fault_body, headers=auth).status_code
            == 201
        )
        # fresh connections, so the kernel hands them to both workers
        faulted = {httpx.get(f"{server.url}/api/categories").status_code for _ in range(60)}
        assert httpx.delete(f"{server.url}/admin/faults", headers=auth).status_code == 200
        healed = {httpx.get(f"{server.url}/api/categories").status_code for _ in range(60)}
    assert faulted == {599}
    assert healed == {200}


@pytest.mark.slow
def test_without_an_admin_token_the_server_has_no_admin_routes() -> None:
    with ServeProcess("--catalog-size", "200") as server:
        response = httpx.get(f"{server.url}/admin/faults", headers=AUTH)
    assert response.status_code == 404


def test_every_operation_of_the_contract_matches_its_route_in_the_app() -> None:
    routes = {route.name: route for route in AGENT_ROUTES if isinstance(route, Route)}
    assert set(OPERATIONS) <= set(routes)
    for name in OPERATIONS:
        route = routes[name]
        path = re.sub(r"\{[^}]+\}", "7", route.path)
        injector = FaultInjector()
        injector.replace([FaultSpec(route=name)])
        methods = route.methods or set()
        assert all(injector.match(m, path) is not None for m in methods - {"HEAD"}), name
        others = [other for other in OPERATIONS if other != name]
        for other in others:
            injector.replace([FaultSpec(route=other)])
            for method in methods - {"HEAD"}:
                assert injector.match(method, path) is None, (name, other)
