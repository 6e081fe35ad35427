"""Customer support agent: detects what a message asks and answers it from real data.

Intent detection is a weighted keyword match (order status, returns, shipping, product
question, other); no external model. Answers quote the user's own orders (through the orders
agent), product facts (through the catalog) and the shop's policies below.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.agents.auth import credentials
from reference_backend.agents.search import search_terms
from reference_backend.agents.users import UserDirectory
from reference_backend.api import MAX_ID, ApiError, json_response, read_model
from reference_backend.clients import AgentClients, forward_credentials
from reference_backend.db import OrderRow, ProductQuery

MAX_MESSAGE_CHARS = 2000
RETURN_WINDOW_DAYS = 30
FREE_SHIPPING_CENTS = 5000

FAQ = {
    "returns": (
        f"You can return most items within {RETURN_WINDOW_DAYS} days of purchase for a full "
        "refund to the original card; start a return from your order page and we email a "
        "prepaid label. Refunds reach your card 5-10 business days after we receive the item."
    ),
    "shipping": (
        "Standard shipping takes 3-5 business days and is free on orders over "
        f"${FREE_SHIPPING_CENTS // 100}; express shipping takes 1-2 business days for $9.99. "
        "Orders placed before 2 pm ship the same day."
    ),
    "payments": (
        "A declined payment is never charged. Cards are declined by the issuing bank, most "
        "often for insufficient funds or a security check; try the checkout again or use "
        "another card. Your cart is kept until the order goes through."
    ),
    "other": (
        "I can help with the status of your orders, returns and refunds, shipping, and "
        "questions about our products. A member of our team will follow up on anything else."
    ),
}
_STATUS_DETAIL = {
    "confirmed": "it is being prepared and should ship within 2 business days",
    "shipped": "it is on its way; standard delivery takes 3-5 business days",
    "delivered": "it has been delivered",
}
# Intent -> (pattern, weight); a message scores the sum of the weights of its matches.
_SIGNALS: dict[str, tuple[tuple[re.Pattern[str], float], ...]] = {
    "order_status": (
        (re.compile(r"\bwhere(?:'s| is)? (?:is )?my (?:order|package|parcel|stuff)\b"), 3.0),
        (re.compile(r"\b(?:order status|track(?:ing)?|status of)\b"), 2.0),
        (re.compile(r"\border\s*#?\s*\d+"), 1.5),
        (re.compile(r"\b(?:my order|not (?:yet )?arrived|hasn't arrived|late)\b"), 1.0),
    ),
    "returns": (
        (re.compile(r"\b(?:return|refund|exchange|money back|send (?:it )?back)\w*"), 3.0),
        (re.compile(r"\b(?:broken|damaged|defective|wrong (?:item|size)|doesn't fit)\b"), 1.5),
    ),
    "shipping": (
        (re.compile(r"\b(?:shipping|ship|deliver(?:y|ed)?|courier|postage|express)\b"), 2.0),
        (re.compile(r"\b(?:how long|when will|arrive|international)\b"), 1.0),
    ),
    "product_question": (
        (re.compile(r"\bproduct\s*#?\s*\d+"), 3.0),
        (re.compile(r"\b(?:in stock|available|do you (?:have|sell)|how much|price|cost)\b"), 2.0),
        (re.compile(r"\b(?:does|is|are) (?:the|this|it)\b|\b(?:warranty|size|colou?r|spec)"), 1.0),
    ),
}
_PAYMENT = re.compile(r"\b(?:payment|card|charged?|declined|billing|paid)\b")
_ORDER_REF = re.compile(r"\border\s*(?:number|no\.?)?\s*#?\s*(\d{1,10})\b|#(\d{1,10})\b")
_PRODUCT_REF = re.compile(r"\bproduct\s*(?:number|no\.?)?\s*#?\s*(\d{1,10})\b")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "can",
        "do",
        "does",
        "for",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "much",
        "my",
        "of",
        "on",
        "or",
        "price",
        "cost",
        "sell",
        "stock",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "with",
        "you",
        "your",
        "available",
    ]
)


class SupportMessage(BaseModel):
    """The body of POST /api/support/messages."""

    model_config = ConfigDict(extra="forbid", strict=True)

    user_id: int = Field(ge=1, le=MAX_ID)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


def detect_intent(message: str) -> tuple[str, float]:
    """Returns the intent of a message and a 0-1 confidence."""
    text = message.lower()
    scores = {
        intent: sum(weight for pattern, weight in signals if pattern.search(text))
        for intent, signals in _SIGNALS.items()
    }
    best = max(scores, key=lambda intent: scores[intent])  # ties keep the table's order
    total = sum(scores.values())
    if scores[best] == 0:
        return "other", 1.0
    return best, round(scores[best] / total, 2)


class SupportService:
    """Answers support messages from the user's orders, the catalog and the FAQ."""

    def __init__(self, users: UserDirectory, clients: AgentClients) -> None:
        self._users = users
        self._clients = clients

    async def answer(self, user_id: int, message: str) -> dict[str, Any]:
        """The intent, the answer text and the records it quotes."""
        await self._users.require(user_id)
        intent, confidence = detect_intent(message)
        references: dict[str, Any] = {}
        if intent == "order_status":
            text = await self._order_status(user_id, message, references)
        elif intent == "returns":
            text = FAQ["returns"] + await self._return_window(user_id, references)
        elif intent == "shipping":
            text = FAQ["shipping"] + await self._latest_status(user_id, references)
        elif intent == "product_question":
            text = await self._product_answer(message, references)
        elif _PAYMENT.search(message.lower()):
            text = FAQ["payments"] + " " + FAQ["other"]
        else:
            text = FAQ["other"]
        return {
            "user_id": user_id,
            "intent": intent,
            "confidence": confidence,
            "answer": text,
            "references": references,
            "handoff": intent == "other",
        }

    async def _orders(self, user_id: int) -> list[OrderRow]:
        try:
            return await self._clients.require_orders().user_orders(user_id, 5)
        except ApiError as error:
            # a remote orders agent shows a user's orders only to that user, logged in
            if error.status in (401, 403):
                return []
            raise

    async def _order_status(self, user_id: int, message: str, refs: dict[str, Any]) -> str:
        match = _ORDER_REF.search(message.lower())
        if match is not None:
            order_id = int(match.group(1) or match.group(2))
            order = await self._owned_order(user_id, order_id)
            if order is None:
                return f"I can't find order #{order_id} on your account. Please check the number."
        else:
            orders = await self._orders(user_id)
            if not orders:
                return "I can't see any orders on your account yet."
            order = orders[0]
        refs["order_id"] = order["order_id"]
        return _describe(order)

    async def _owned_order(self, user_id: int, order_id: int) -> OrderRow | None:
        if order_id > MAX_ID:
            return None
        try:
            order = await self._clients.require_orders().order(order_id)
        except ApiError as error:
            if error.status in (401, 403, 404):
                return None
            raise
        return order if order["user_id"] == user_id else None

    async def _return_window(self, user_id: int, refs: dict[str, Any]) -> str:
        orders = await self._orders(user_id)
        if not orders:
            return ""
        order = orders[0]
        refs["order_id"] = order["order_id"]
        age_days = (datetime.now(UTC) - datetime.fromisoformat(order["created_at"])).days
        inside = age_days <= RETURN_WINDOW_DAYS
        return (
            f" Your latest order #{order['order_id']} was placed {age_days} days ago, "
            f"{'within' if inside else 'outside'} the {RETURN_WINDOW_DAYS}-day return window."
        )

    async def _latest_status(self, user_id: int, refs: dict[str, Any]) -> str:
        orders = await self._orders(user_id)
        if not orders:
            return ""
        refs["order_id"] = orders[0]["order_id"]
        return " " + _describe(orders[0])

    async def _product_answer(self, message: str, refs: dict[str, Any]) -> str:
        catalog = self._clients.catalog
        match = _PRODUCT_REF.search(message.lower())
        product: Any = None
        if match is not None and int(match.group(1)) <= MAX_ID:
            try:
                product = await catalog.product(int(match.group(1)))
            except ApiError as error:
                if error.status != 404:
                    raise
                return f"I can't find product #{match.group(1)} in our catalog."
        else:
            terms = tuple(t for t in search_terms(message) if t not in _STOPWORDS)
            if terms:
                query = ProductQuery(terms[:4], None, 0, 1_000_000_000, 1, 0)
                found = (await catalog.search(query))["items"]
                if found:
                    product = await catalog.product(found[0]["product_id"])
        if product is None:
            return "I couldn't find a product matching your question. " + FAQ["other"]
        refs["product_id"] = product["product_id"]
        stock = (
            f"in stock ({product['stock']} available)"
            if product["stock"] > 0 and product["status"] == "active"
            else "currently not available"
        )
        return (
            f"{product['name']} ({product['category']}) costs "
            f"${product['price_cents'] / 100:.2f} and is {stock}. {product['description']}"
        )


def _describe(order: OrderRow) -> str:
    placed = order["created_at"][:10]
    count = sum(item["quantity"] for item in order["items"])
    detail = _STATUS_DETAIL.get(order["status"], f"its status is {order['status']}")
    return (
        f"Your order #{order['order_id']} from {placed} ({count} item{'s' if count != 1 else ''}, "
        f"${order['total_cents'] / 100:.2f}) is {order['status']}: {detail}."
    )


def _service(request: Request) -> SupportService:
    return cast(SupportService, request.app.state.support)


async def customer_support(request: Request) -> Response:
    """Answer a customer's message: order status, returns, shipping or a product question."""
    forward_credentials(credentials(request))  # a remote orders agent needs the user's login
    body = await read_model(request, SupportMessage)
    return json_response(await _service(request).answer(body.user_id, body.message))


ROUTES = [
    Route("/api/support/messages", customer_support, methods=["POST"], name="customer_support")
]
