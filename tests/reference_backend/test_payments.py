"""Payments agent: approvals, declines, and Stripe-like Idempotency-Key semantics."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from starlette.testclient import TestClient

from reference_backend.app import create_app
from reference_backend.settings import Settings
from tests.reference_backend.conftest import error_code, running_app

CHARGE = {"amount_cents": 1999, "currency": "USD", "user_id": 1, "card_token": "tok_visa"}


def test_approved_charge(client: TestClient) -> None:
    response = client.post("/api/payments", json=CHARGE)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "approved"
    assert body["amount_cents"] == 1999
    assert body["payment_id"].startswith("pay_")


def test_tok_decline_is_always_declined(client: TestClient) -> None:
    response = client.post("/api/payments", json={**CHARGE, "card_token": "tok_decline"})
    assert response.status_code == 402
    assert response.json()["status"] == "declined"
    assert error_code(response) == "card_declined"


def test_same_key_same_body_replays_the_first_answer(client: TestClient) -> None:
    headers = {"Idempotency-Key": "replay-1"}
    first = client.post("/api/payments", json=CHARGE, headers=headers)
    second = client.post("/api/payments", json=CHARGE, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_replayed_decline_stays_a_decline(client: TestClient) -> None:
    headers = {"Idempotency-Key": "replay-decline"}
    body = {**CHARGE, "card_token": "tok_decline"}
    first = client.post("/api/payments", json=body, headers=headers)
    second = client.post("/api/payments", json=body, headers=headers)
    assert first.status_code == second.status_code == 402
    assert first.json()["payment_id"] == second.json()["payment_id"]


def test_same_key_other_body_is_rejected(client: TestClient) -> None:
    headers = {"Idempotency-Key": "reuse-1"}
    assert client.post("/api/payments", json=CHARGE, headers=headers).status_code == 201
    other = client.post("/api/payments", json={**CHARGE, "amount_cents": 2999}, headers=headers)
    assert other.status_code == 422
    assert error_code(other) == "idempotency_key_reused"


def test_decline_rate_is_applied(sqlite_settings: Settings) -> None:
    settings = dataclasses.replace(sqlite_settings, payment_decline_rate=1.0)
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/payments", json=CHARGE).status_code == 402


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({**CHARGE, "amount_cents": 0}, {}, 422),
        ({**CHARGE, "amount_cents": -100}, {}, 422),
        ({**CHARGE, "amount_cents": 10**15}, {}, 422),
        ({**CHARGE, "currency": "XYZ"}, {}, 422),
        ({**CHARGE, "card_token": "tok_unknown"}, {}, 422),
        ({**CHARGE, "user_id": 424242}, {}, 404),
        (CHARGE, {"Idempotency-Key": "k" * 256}, 422),
    ],
)
def test_bad_payments_are_4xx(
    client: TestClient, body: object, headers: dict[str, str], status: int
) -> None:
    assert client.post("/api/payments", json=body, headers=headers).status_code == status


def _concurrent_payments(settings: Settings) -> None:
    async def main() -> None:
        async with running_app(settings) as (app, http):
            headers = {"Idempotency-Key": "fifty-at-once"}
            responses = await asyncio.gather(
                *(http.post("/api/payments", json=CHARGE, headers=headers) for _ in range(50))
            )
            statuses = {r.status_code for r in responses}
            assert statuses <= {201, 409}
            approved = [r.json()["payment_id"] for r in responses if r.status_code == 201]
            assert approved
            assert len(set(approved)) == 1
            assert await app.state.db.count_payments("fifty-at-once") == 1

    asyncio.run(main())


def test_fifty_concurrent_payments_with_one_key_charge_once(any_settings: Settings) -> None:
    # A slow provider, so that the other 49 arrive while the first charge is running.
    slow = dataclasses.replace(any_settings, payment_latency_ms=100.0, payment_latency_p99_ms=150.0)
    _concurrent_payments(slow)
