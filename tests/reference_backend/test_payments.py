"""Payments agent: approvals, declines, and Stripe-like Idempotency-Key semantics."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from reference_backend.agents import payments
from reference_backend.agents.payments import request_hash
from reference_backend.app import create_app
from reference_backend.db import PaymentClaim
from reference_backend.messages import PaymentRequest
from reference_backend.metrics import get_metrics
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


async def _claim_left_by_a_dead_process(
    app: Starlette, key: str, age_s: float, body: dict[str, Any] = CHARGE
) -> None:
    stale = PaymentClaim(
        payment_id="pay_of_a_dead_process",
        idempotency_key=key,
        request_hash=request_hash(PaymentRequest.model_validate(body)),
        amount_cents=body["amount_cents"],
        currency=body["currency"],
        user_id=body["user_id"],
        order_id=None,
        created_at_s=time.time() - age_s,
    )
    assert await app.state.db.claim_payment(stale) is None


def _approved_charges() -> float:
    labels = {"outcome": "approved"}
    return get_metrics().registry.get_sample_value("payments_total", labels) or 0.0


def test_a_claim_pending_past_its_lease_is_taken_over_and_charged_once(
    any_settings: Settings,
) -> None:
    async def main() -> None:
        async with running_app(any_settings) as (app, http):
            lease_s = app.state.payments.claim_lease_s
            assert lease_s == 3 * any_settings.request_timeout_s == 30.0
            await _claim_left_by_a_dead_process(app, "died-mid-charge", 2 * lease_s)
            charged_before = _approved_charges()
            headers = {"Idempotency-Key": "died-mid-charge"}
            responses = await asyncio.gather(
                *(http.post("/api/payments", json=CHARGE, headers=headers) for _ in range(20))
            )
            assert {r.status_code for r in responses} == {201}
            payment_ids = {r.json()["payment_id"] for r in responses}
            assert len(payment_ids) == 1
            assert payment_ids != {"pay_of_a_dead_process"}
            assert _approved_charges() - charged_before == 1
            assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
            assert await app.state.db.count_payments("died-mid-charge") == 1
            again = await http.post("/api/payments", json=CHARGE, headers=headers)
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json()["payment_id"] in payment_ids

    asyncio.run(main())


def test_a_claim_pending_within_its_lease_still_answers_409(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payments, "WAIT_FOR_FIRST_S", 0.2)

    async def main() -> None:
        async with running_app(sqlite_settings) as (app, http):
            await _claim_left_by_a_dead_process(app, "still-running", 1.0)
            headers = {"Idempotency-Key": "still-running"}
            answer = await http.post("/api/payments", json=CHARGE, headers=headers)
            assert answer.status_code == 409
            assert error_code(answer) == "idempotency_key_in_use"
            row = await app.state.db.get_payment("still-running")
            assert row["payment_id"] == "pay_of_a_dead_process"

    asyncio.run(main())


def test_a_stale_claim_is_not_taken_over_with_another_body(sqlite_settings: Settings) -> None:
    async def main() -> None:
        async with running_app(sqlite_settings) as (app, http):
            await _claim_left_by_a_dead_process(app, "stale-other-body", 3600.0)
            headers = {"Idempotency-Key": "stale-other-body"}
            other = {**CHARGE, "amount_cents": 2999}
            answer = await http.post("/api/payments", json=other, headers=headers)
            assert answer.status_code == 422
            assert error_code(answer) == "idempotency_key_reused"
            row = await app.state.db.get_payment("stale-other-body")
            assert (row["payment_id"], row["status"]) == ("pay_of_a_dead_process", "pending")

    asyncio.run(main())
