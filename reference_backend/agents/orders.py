"""Orders agent: checkout, order status and order history.

Checkout turns the user's cart into an order in one consistent flow: reserve every line
(inventory agent), price it (pricing agent), charge the card (payments agent, with an
idempotency key so a retry never charges twice), then persist the order, its lines, the
reservation's commit and the cart's clean-up in one transaction. When anything fails after
the reservation (a declined card, a failing agent), the reservation is released exactly once.

One checkout per user runs at a time, so a double-clicked checkout does not order (and
charge) the same cart twice: a second one waits for the first, then finds the cart ordered
(422 `empty_cart`). In a process an asyncio lock per user queues them. With Redis a
`SharedLock` behind it holds across worker processes: the asyncio lock's holder alone polls
Redis, so same-process waiters cost Redis nothing. Its TTL is `CHECKOUT_LOCK_TTL_TIMEOUTS`
request timeouts (30 s by default): a live checkout holds the lock at most one request
timeout, since the gateway cancels the request then and the lock is released on the way
out; the margin covers a stalled event loop and the release itself. So a lock whose process
died frees itself within 30 s. A checkout waits up to `CHECKOUT_WAIT_S` for another process's
checkout of the same user (the payments agent waits as long for a running charge), then
gets 409 `checkout_in_progress`.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.agents.auth import authenticated_user, path_user, require_same_user
from reference_backend.agents.payments import idempotency_key
from reference_backend.agents.users import UserDirectory
from reference_backend.api import MAX_ID, ApiError, json_response, path_id, query_int, read_model
from reference_backend.clients import AgentClients
from reference_backend.coordination import Coordination, LockBusyError, Primitive, SharedLock
from reference_backend.db import Database, NewOrder, OrderRow
from reference_backend.messages import MAX_AMOUNT_CENTS, CardToken, PaymentRequest
from reference_backend.metrics import BackendMetrics
from reference_backend.settings import Settings

MAX_HISTORY = 100
CHECKOUT_WAIT_S = 5.0
CHECKOUT_LOCK_TTL_TIMEOUTS = 3.0


class CheckoutRequest(BaseModel):
    """The body of POST /api/orders."""

    model_config = ConfigDict(extra="forbid", strict=True)

    user_id: int = Field(ge=1, le=MAX_ID)
    card_token: CardToken


class OrderService:
    """Checkout and order reads; other agents are reached through their clients."""

    def __init__(
        self,
        db: Database,
        users: UserDirectory,
        clients: AgentClients,
        metrics: BackendMetrics,
        settings: Settings,
        coordination: Coordination | None = None,
    ) -> None:
        self._db = db
        self._users = users
        self._clients = clients
        self._orders_total = metrics.orders_total.inc
        self._revenue = metrics.revenue_cents_total.inc
        self._checkouts: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self._shared_lock = (
            None
            if coordination is None
            else SharedLock(
                coordination,
                Primitive.CHECKOUT_LOCK,
                ttl_s=CHECKOUT_LOCK_TTL_TIMEOUTS * settings.request_timeout_s,
                wait_s=CHECKOUT_WAIT_S,
            )
        )

    async def checkout(
        self, user_id: int, card_token: CardToken, key: str | None
    ) -> tuple[OrderRow, bool]:
        """Places the order for the user's cart; returns it and whether it was replayed.

        One checkout per user at a time, in this process and (with Redis) in every other:
        a second one waits and then finds the cart already ordered.
        """
        lock, users = self._checkouts.setdefault(user_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                if self._shared_lock is None:
                    return await self._checkout(user_id, card_token, key)
                try:
                    async with self._shared_lock.hold(str(user_id)):
                        return await self._checkout(user_id, card_token, key)
                except LockBusyError as busy:
                    raise ApiError(
                        409,
                        "checkout_in_progress",
                        f"another checkout of user {user_id} is still running after "
                        f"{busy.waited_s:g} s; retry in a moment",
                        headers={"Retry-After": "1"},
                    ) from None
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._checkouts[user_id]

    async def _checkout(
        self, user_id: int, card_token: CardToken, key: str | None
    ) -> tuple[OrderRow, bool]:
        await self._users.require(user_id)
        clients = self._clients
        if key is not None:
            replayed = await self._replay(user_id, key)
            if replayed is not None:
                return replayed, True
        cart = await clients.cart.view(user_id)
        lines = [(item["product_id"], item["quantity"]) for item in cart["items"]]
        if not lines:
            raise ApiError(422, "empty_cart", f"user {user_id} has an empty cart")
        reservation_id = await clients.inventory.reserve(lines)
        released = False

        async def release_once() -> None:
            nonlocal released
            if not released:
                released = True
                await asyncio.shield(clients.inventory.release(reservation_id))

        try:
            quotes = await asyncio.gather(*(clients.pricing.quote(p) for p, _ in lines))
            priced = tuple(
                (p, q, int(quote["price_cents"]))
                for (p, q), quote in zip(lines, quotes, strict=True)
            )
            total = sum(q * price for _, q, price in priced)
            if total > MAX_AMOUNT_CENTS:
                raise ApiError(
                    422,
                    "order_too_large",
                    f"the order totals {total} cents; one charge is at most {MAX_AMOUNT_CENTS}",
                )
            payment_key = f"order:{user_id}:{key}" if key else f"checkout:{reservation_id}"
            charge = PaymentRequest(
                amount_cents=total, currency="USD", user_id=user_id, card_token=card_token
            )
            outcome = await clients.payments.charge(charge, payment_key)
            if outcome.status != 201:
                await release_once()
                decline = outcome.body.get("decline_code", "card_declined")
                raise ApiError(402, "payment_declined", f"the card was declined ({decline})")
            payment_id = str(outcome.body["payment_id"])
            order = NewOrder(user_id, reservation_id, payment_id, total, priced, time.time())
            result, order_id = await self._db.create_order(order)
        except BaseException:
            await release_once()
            raise
        if result == "duplicate_payment":
            # A concurrent retry with the same key placed the order with this very payment.
            await release_once()
            return await self.order(order_id or 0), True
        if result == "reservation_not_held":
            raise ApiError(
                409, "reservation_expired", "the stock reservation expired before payment"
            )
        self._orders_total()
        self._revenue(total)
        return await self.order(order_id or 0), False

    async def _replay(self, user_id: int, key: str) -> OrderRow | None:
        payment = await self._db.get_payment(f"order:{user_id}:{key}")
        if payment is None or payment["response"] is None:
            return None
        if payment["status"] == "declined":
            raise ApiError(402, "payment_declined", "the card was declined (replayed)")
        if payment["status"] == "approved":
            rows = await self._db.user_orders(user_id, MAX_HISTORY)
            for row in rows:
                if row["payment_id"] == payment["payment_id"]:
                    return row
        return None

    async def order(self, order_id: int) -> OrderRow:
        """One order with its lines, or 404."""
        row = await self._db.get_order(order_id)
        if row is None:
            raise ApiError(404, "unknown_order", f"no order {order_id}")
        return row

    async def user_orders(self, user_id: int, limit: int) -> list[OrderRow]:
        """A user's most recent orders, newest first; 404 for an unknown user."""
        await self._users.require(user_id)
        return await self._db.user_orders(user_id, limit)


def _service(request: Request) -> OrderService:
    return cast(OrderService, request.app.state.orders)


async def order_processing(request: Request) -> Response:
    """Check out the logged-in user's cart: 201 order, 402 declined, 409 out of stock, 422
    empty cart."""
    authenticated = await authenticated_user(request)
    key = idempotency_key(request)
    body = await read_model(request, CheckoutRequest)
    require_same_user(authenticated, body.user_id)
    order, replayed = await _service(request).checkout(body.user_id, body.card_token, key)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return json_response(order, 201, headers)


async def order_status(request: Request) -> Response:
    """Show one of the logged-in user's orders with its lines and status."""
    authenticated = await authenticated_user(request)
    order = await _service(request).order(path_id(request, "order_id"))
    require_same_user(authenticated, order["user_id"])
    return json_response(order)


async def order_history(request: Request) -> Response:
    """List the logged-in user's most recent orders, newest first."""
    user_id = await path_user(request)
    limit = query_int(request, "limit", 20, 1, MAX_HISTORY)
    items = await _service(request).user_orders(user_id, limit)
    return json_response({"user_id": user_id, "items": items})


ROUTES = [
    Route("/api/orders", order_processing, methods=["POST"], name="order_processing"),
    Route("/api/orders/{order_id}", order_status, methods=["GET"], name="order_status"),
    Route("/api/users/{user_id}/orders", order_history, methods=["GET"], name="order_history"),
]
