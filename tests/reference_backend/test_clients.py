"""Agent clients over HTTP: a checkout whose inventory, pricing, cart and payments are remote."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from starlette.testclient import TestClient

from reference_backend.api import ApiError
from reference_backend.app import create_app
from reference_backend.clients import AgentHttp
from reference_backend.db import prepare_database
from reference_backend.metrics import get_metrics
from reference_backend.settings import Settings
from tests.reference_backend._infra import free_port, running_uvicorn
from tests.reference_backend.conftest import act_as_user, error_code, sellable_products


def test_checkout_through_remote_agents(sqlite_settings: Settings) -> None:
    shared = prepare_database(sqlite_settings)  # both processes use one database file
    with running_uvicorn(create_app(shared)) as remote_url:
        agents = tuple(
            (name, remote_url)
            for name in ("inventory", "pricing", "cart", "payments", "orders", "catalog")
        )
        front = dataclasses.replace(shared, agent_urls=agents)
        with TestClient(create_app(front)) as client:
            act_as_user(client)  # the user's token reaches the remote cart and orders agents
            (product,) = sellable_products(client, 1)
            client.post("/api/cart/6/items", json={"product_id": product, "quantity": 2})
            placed = client.post("/api/orders", json={"user_id": 6, "card_token": "tok_visa"})
            assert placed.status_code == 201
            declined = client.post("/api/cart/6/items", json={"product_id": product})
            assert declined.status_code == 201
            refused = client.post("/api/orders", json={"user_id": 6, "card_token": "tok_decline"})
            assert refused.status_code == 402
            assert error_code(refused) == "payment_declined"
            answer = client.post(
                "/api/support/messages", json={"user_id": 6, "message": "where is my order?"}
            ).json()
            assert answer["references"] == {"order_id": placed.json()["order_id"]}


def test_remote_business_errors_come_back_as_the_same_error(sqlite_settings: Settings) -> None:
    shared = prepare_database(sqlite_settings)
    with running_uvicorn(create_app(shared)) as remote_url:

        async def main() -> None:
            http = AgentHttp("inventory", remote_url, 5.0, get_metrics())
            try:
                with pytest.raises(ApiError) as caught:
                    await http.request("GET", "/api/inventory/999999")
                assert caught.value.status == 404
                assert caught.value.code == "unknown_product"
                assert http.breaker.state == "closed"  # a 4xx is an answer, not a failure
            finally:
                await http.aclose()

        asyncio.run(main())


def test_a_dead_agent_opens_the_breaker() -> None:
    async def main() -> None:
        http = AgentHttp("pricing", f"http://127.0.0.1:{free_port()}", 1.0, get_metrics())
        try:
            for _ in range(http.breaker.failure_threshold):
                with pytest.raises(ApiError) as failed:
                    await http.request("GET", "/api/pricing/1")
                assert failed.value.status == 502
            with pytest.raises(ApiError) as refused:
                await http.request("GET", "/api/pricing/1")
            assert refused.value.status == 503
            assert refused.value.code == "dependency_unavailable"
            assert http.breaker.state == "open"
        finally:
            await http.aclose()

    asyncio.run(main())
