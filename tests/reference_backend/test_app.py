"""The app: health, readiness, OpenAPI document, error shape, settings from the environment."""

from __future__ import annotations

import dataclasses
import json

import pytest
from starlette.testclient import TestClient

from reference_backend.app import AGENT_ROUTES, create_app, create_app_from_env
from reference_backend.faults import OPERATIONS as FAULT_OPERATIONS
from reference_backend.openapi import OPERATIONS, build_openapi
from reference_backend.settings import SETTINGS_ENV, Settings, settings_to_json
from tests.reference_backend.conftest import error_code, sellable_products


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "database": True, "cache": True}


def test_openapi_documents_every_route(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document == json.loads(json.dumps(build_openapi()))
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    routed = {
        (method, route.path)  # type: ignore[attr-defined]
        for route in AGENT_ROUTES
        for method in route.methods or ()  # type: ignore[attr-defined]
        if method != "HEAD"
    }
    assert routed <= documented
    names = {op.name for op in OPERATIONS}
    assert set(FAULT_OPERATIONS) <= names  # the contract's operation names are operationIds


def test_every_route_is_named_after_its_operation() -> None:
    names = {route.name for route in AGENT_ROUTES}  # type: ignore[attr-defined]
    assert names == set(FAULT_OPERATIONS)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/route", 404, "not_found"),
        ("DELETE", "/api/categories", 405, "method_not_allowed"),
        ("POST", "/api/login", 400, "invalid_json"),
    ],
)
def test_errors_have_one_shape(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert error_code(response) == code
    assert response.json()["error"]["message"]


def test_malformed_json_says_so(client: TestClient) -> None:
    response = client.post("/api/support/messages", content=b'{"user_id": 1, "message": ')
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("malformed JSON")


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    assert client.get("/api/products/1").headers["x-request-id"]


def test_app_from_env(sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTINGS_ENV, settings_to_json(dataclasses.replace(sqlite_settings, seed=3)))
    with TestClient(create_app_from_env()) as client:
        assert client.app.state.settings.seed == 3  # type: ignore[attr-defined]
        assert client.get("/api/categories").status_code == 200


@pytest.mark.redis
def test_two_tier_cache_serves_and_invalidates(sqlite_settings: Settings) -> None:
    settings = dataclasses.replace(sqlite_settings, redis_url="redis://127.0.0.1:6379/0")
    with TestClient(create_app(settings)) as client:
        assert client.get("/ready").json()["cache"] is True
        first = client.get("/api/products/search", params={"q": "kettle"}).json()
        assert client.get("/api/products/search", params={"q": "kettle"}).json() == first
        (product,) = sellable_products(client, 1)
        before = client.get(f"/api/products/{product}").json()["stock"]
        lines = [{"product_id": product, "quantity": 2}]
        assert client.post("/api/inventory/reservations", json={"items": lines}).status_code == 201
        assert client.get(f"/api/products/{product}").json()["stock"] == before - 2
