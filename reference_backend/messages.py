"""The values one agent sends another and gets back, the same in process and over HTTP.

Both sides read them here: the agent that answers (payments, pricing), the agents that ask
(orders, support through `clients`), the HTTP clients that carry them, and the OpenAPI
document that describes them. So `clients` never imports an agent module.

    PaymentRequest   the body of POST /api/payments (orders charges the card with it)
    PaymentOutcome   the status and body the payments agent answers, fresh or replayed
    PriceQuote       the body of GET /api/pricing/{product_id}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from reference_backend.api import MAX_ID

MAX_AMOUNT_CENTS = 100_000_000
CardToken = Literal["tok_visa", "tok_mastercard", "tok_decline"]


class PaymentRequest(BaseModel):
    """The body of POST /api/payments."""

    model_config = ConfigDict(extra="forbid", strict=True)

    amount_cents: int = Field(ge=1, le=MAX_AMOUNT_CENTS)
    currency: Literal["USD", "EUR", "GBP"] = "USD"
    user_id: int = Field(ge=1, le=MAX_ID)
    card_token: CardToken
    order_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class PaymentOutcome:
    """A status and body to answer, fresh or replayed."""

    __slots__ = ("body", "replayed", "status")

    def __init__(self, status: int, body: dict[str, Any], replayed: bool) -> None:
        self.status = status
        self.body = body
        self.replayed = replayed


# No docstring: pydantic would put it in /openapi.json as the schema's description.
class PriceQuote(TypedDict):
    product_id: int
    currency: str
    base_price_cents: int
    price_cents: int
    demand_factor: float
    stock_factor: float
    units_sold_7d: int
    stock: int
    valid_for_s: int
