"""Payments agent: a simulated card processor with Stripe-like Idempotency-Key semantics.

The provider answers after a lognormal delay (median and p99 from the settings) and declines
`tok_decline` always and `tok_visa` / `tok_mastercard` at the configured decline rate.

Idempotency, as Stripe documents it: the first request with a key is recorded in the
database before the card is charged (a unique index on the key makes the claim atomic, also
across worker processes). A later request with the same key and the same body replays the
recorded response; with another body it is rejected with 422. A request that arrives while
the first is still running waits for it (up to `WAIT_FOR_FIRST_S`), then replays it or, if
it is still running, gets 409. So one key charges the card at most once.

A claim stays pending only while its charge runs, and a live process never runs one longer
than a request timeout: the gateway cancels the request then and the claim is recorded as
failed on the way out. A claim still pending after `CLAIM_LEASE_TIMEOUTS` request timeouts
(30 s by default; the provider answers in 40 ms median, 200 ms p99) was left by a process
that died, and its key would answer 409 forever. So the next request with that key and body
takes the claim over (one conditional UPDATE on the claim being pending and that old: of
concurrent takers one wins, the others wait for its charge) and charges under a new payment
id, which fences off the old claimer should it wake up. The simulated provider keeps no
record of the dead process's charge; a real one would be asked for it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Iterator
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

log = logging.getLogger(__name__)

WAIT_FOR_FIRST_S = 5.0
POLL_INTERVAL_S = 0.02
CLAIM_LEASE_TIMEOUTS = 3.0
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
        self.claim_lease_s = CLAIM_LEASE_TIMEOUTS * settings.request_timeout_s
        self._rng = random.Random()
        self._running: dict[str, asyncio.Event] = {}
        self._approved = metrics.payments_total.labels("approved").inc
        self._declined = metrics.payments_total.labels("declined").inc
        self._declines = metrics.payment_declines_total.inc

    async def charge(self, request: PaymentRequest, idempotency_key: str | None) -> PaymentOutcome:
        """Charges once per key; replays, waits, or rejects a reused key as documented above."""
        await self._users.require(request.user_id)
        claim = PaymentClaim(
            payment_id=f"pay_{uuid.uuid4().hex}",
            idempotency_key=idempotency_key,
            request_hash=request_hash(request),
            amount_cents=request.amount_cents,
            currency=request.currency,
            user_id=request.user_id,
            order_id=request.order_id,
            created_at_s=time.time(),
        )
        if idempotency_key is None:
            await self._db.claim_payment(claim)
            return await self._execute(claim, request)
        with self._announcing(idempotency_key) as own:
            existing = await self._db.claim_payment(claim)
            if existing is None:
                own()
                return await self._execute(claim, request)
        return await self._replay(existing, claim, request, idempotency_key)

    @contextlib.contextmanager
    def _announcing(self, key: str) -> Iterator[Callable[[], None]]:
        """Lets requests with `key` in this process wait on this one instead of polling.

        The event is offered before the claim is written (a request arriving meanwhile
        waits on it rather than polling), kept if another request here already offered
        one, and made this key's by calling the yielded function once the claim is ours.
        """
        done = asyncio.Event()
        self._running.setdefault(key, done)

        def own() -> None:
            self._running[key] = done

        try:
            yield own
        finally:
            if self._running.get(key) is done:
                del self._running[key]
                done.set()

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
        self, existing: PaymentRow | None, claim: PaymentClaim, request: PaymentRequest, key: str
    ) -> PaymentOutcome:
        deadline = time.monotonic() + WAIT_FOR_FIRST_S
        while True:
            if existing is not None:
                if existing["request_hash"] != claim.request_hash:
                    raise ApiError(
                        422,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used with a different request body",
                    )
                if existing["status"] != "pending" and existing["response"] is not None:
                    return PaymentOutcome(
                        existing["response_status"] or 200, existing["response"], replayed=True
                    )
                if existing["status"] == "pending":
                    outcome = await self._take_over_if_stale(existing, claim, request, key)
                    if outcome is not None:
                        return outcome
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

    async def _take_over_if_stale(
        self, existing: PaymentRow, claim: PaymentClaim, request: PaymentRequest, key: str
    ) -> PaymentOutcome | None:
        """Charges under a claim whose lease ran out; None when it is live or another took it."""
        now_s = time.time()
        claimed_before_s = now_s - self.claim_lease_s
        if existing["created_at_s"] >= claimed_before_s:
            return None
        taken = dataclasses.replace(claim, created_at_s=now_s)
        with self._announcing(key) as own:
            if not await self._db.take_over_payment(taken, claimed_before_s):
                return None  # another request took it over first: wait for its charge
            own()
            log.warning(
                "payment %s for Idempotency-Key %r was pending for %.0f s (lease %g s): "
                "its process died; charging again as %s",
                existing["payment_id"],
                key,
                now_s - existing["created_at_s"],
                self.claim_lease_s,
                taken.payment_id,
            )
            return await self._execute(taken, request)

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


def request_hash(request: PaymentRequest) -> str:
    """SHA-256 of the canonical body: the same key with another body is a misuse (422)."""
    canonical = orjson.dumps(request.model_dump(), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


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
