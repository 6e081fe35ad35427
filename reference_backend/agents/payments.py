"""Payments agent: a simulated card processor with Stripe-like Idempotency-Key semantics.

The provider answers after a lognormal delay (median and p99 from the settings) and declines
`tok_decline` always and `tok_visa` / `tok_mastercard` at the configured decline rate.

Idempotency, as Stripe documents it: the first request with a key is recorded in the
database before the card is charged (a unique index on the key makes the claim atomic, also
across worker processes). A later request with the same key and the same body replays the
recorded response; with another body it is rejected with 422. A request that arrives while
the first is still running waits for it (up to `WAIT_FOR_FIRST_S`), then replays it or, if
it is still running, gets 409. So one key charges the card at most once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import random
import time
import uuid
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.agents.users import UserDirectory
from reference_backend.api import ApiError, error_body, json_response, read_model
from reference_backend.db import Database, PaymentClaim, PaymentRow
from reference_backend.messages import PaymentOutcome, PaymentRequest
from reference_backend.metrics import BackendMetrics
from reference_backend.settings import Settings

WAIT_FOR_FIRST_S = 5.0
POLL_INTERVAL_S = 0.02
MAX_IDEMPOTENCY_KEY_CHARS = 255
_Z99 = 2.3263478740408408  # 0.99 quantile of the standard normal


class PaymentService:
    """Charges cards through the simulated provider, at most once per idempotency key."""

    def __init__(
        self, db: Database, users: UserDirectory, settings: Settings, metrics: BackendMetrics
    ) -> None:
        self._db = db
        self._users = users
        self._median_s = settings.payment_latency_ms / 1000.0
        p99_s = max(settings.payment_latency_p99_ms / 1000.0, self._median_s)
        self._sigma = math.log(p99_s / self._median_s) / _Z99 if self._median_s > 0 else 0.0
        self._decline_rate = settings.payment_decline_rate
        self._rng = random.Random()
        self._running: dict[str, asyncio.Event] = {}
        self._approved = metrics.payments_total.labels("approved").inc
        self._declined = metrics.payments_total.labels("declined").inc
        self._declines = metrics.payment_declines_total.inc

    async def charge(self, request: PaymentRequest, idempotency_key: str | None) -> PaymentOutcome:
        """Charges once per key; replays, waits, or rejects a reused key as documented above."""
        await self._users.require(request.user_id)
        body_hash = hashlib.sha256(
            orjson.dumps(request.model_dump(), option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        claim = PaymentClaim(
            payment_id=f"pay_{uuid.uuid4().hex}",
            idempotency_key=idempotency_key,
            request_hash=body_hash,
            amount_cents=request.amount_cents,
            currency=request.currency,
            user_id=request.user_id,
            order_id=request.order_id,
            created_at_s=time.time(),
        )
        if idempotency_key is None:
            await self._db.claim_payment(claim)
            return await self._execute(claim, request)
        done = asyncio.Event()
        self._running.setdefault(idempotency_key, done)
        try:
            existing = await self._db.claim_payment(claim)
            if existing is None:
                self._running[idempotency_key] = done
                return await self._execute(claim, request)
        finally:
            if self._running.get(idempotency_key) is done:
                del self._running[idempotency_key]
                done.set()
        return await self._replay(existing, body_hash, idempotency_key)

    async def _execute(self, claim: PaymentClaim, request: PaymentRequest) -> PaymentOutcome:
        try:
            await asyncio.sleep(self._latency_s())
            declined = request.card_token == "tok_decline" or (
                self._rng.random() < self._decline_rate
            )
            if declined:
                status, body = 402, self._declined_body(claim, request)
                self._declined()
                self._declines()
            else:
                status, body = 201, _approved_body(claim, request)
                self._approved()
        except BaseException:
            # Record the failure so that a retry with the key is answered, not left pending.
            body = error_body("payment_failed", "the payment provider failed; use a new key")
            await asyncio.shield(self._db.complete_payment(claim.payment_id, "failed", 503, body))
            raise
        await self._db.complete_payment(claim.payment_id, body["status"], status, body)
        return PaymentOutcome(status, body, replayed=False)

    async def _replay(
        self, existing: PaymentRow | None, body_hash: str, key: str
    ) -> PaymentOutcome:
        deadline = time.monotonic() + WAIT_FOR_FIRST_S
        while True:
            if existing is not None:
                if existing["request_hash"] != body_hash:
                    raise ApiError(
                        422,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used with a different request body",
                    )
                if existing["status"] != "pending" and existing["response"] is not None:
                    return PaymentOutcome(
                        existing["response_status"] or 200, existing["response"], replayed=True
                    )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ApiError(
                    409,
                    "idempotency_key_in_use",
                    "a request with this Idempotency-Key is still being processed; retry later",
                )
            running = self._running.get(key)
            if running is not None:  # the first request runs in this process: wait for it
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(running.wait(), remaining)
            else:  # it runs in another worker process: poll its record
                await asyncio.sleep(min(POLL_INTERVAL_S, remaining))
            existing = await self._db.get_payment(key)

    def _latency_s(self) -> float:
        if self._median_s <= 0:
            return 0.0
        return self._median_s * math.exp(self._sigma * self._rng.gauss(0.0, 1.0))

    def _declined_body(self, claim: PaymentClaim, request: PaymentRequest) -> dict[str, Any]:
        reason = "card_declined" if request.card_token == "tok_decline" else "do_not_honor"
        return {
            **error_body("card_declined", f"the card was declined ({reason})"),
            **_approved_body(claim, request),
            "status": "declined",
            "decline_code": reason,
        }


def _approved_body(claim: PaymentClaim, request: PaymentRequest) -> dict[str, Any]:
    return {
        "payment_id": claim.payment_id,
        "status": "approved",
        "amount_cents": request.amount_cents,
        "currency": request.currency,
        "user_id": request.user_id,
        "order_id": request.order_id,
    }


def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header, checked; None when absent."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise ApiError(
            422,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1..{MAX_IDEMPOTENCY_KEY_CHARS} characters",
        )
    return key


def _service(request: Request) -> PaymentService:
    return cast(PaymentService, request.app.state.payments)


async def payment_processing(request: Request) -> Response:
    """Charge a card (201 approved, 402 declined); Idempotency-Key makes retries safe."""
    key = idempotency_key(request)
    body = await read_model(request, PaymentRequest)
    outcome = await _service(request).charge(body, key)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return json_response(outcome.body, outcome.status, headers)


ROUTES = [Route("/api/payments", payment_processing, methods=["POST"], name="payment_processing")]
