"""The OpenAPI 3.1 document of the backend, built from one table of its operations.

Request schemas come from the agents' pydantic models and response schemas from the row
types the agents return, so the document cannot drift from what the code accepts and answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter
from typing_extensions import TypedDict

from reference_backend import __version__
from reference_backend.agents.auth import COOKIE_NAME, LoginRequest
from reference_backend.agents.cart import CartItemRequest
from reference_backend.agents.inventory import (
    MAX_LINE_QUANTITY,
    RESERVATION_TTL_S,
    ReservationRequest,
)
from reference_backend.agents.orders import MAX_HISTORY, CheckoutRequest
from reference_backend.agents.payments import MAX_IDEMPOTENCY_KEY_CHARS
from reference_backend.agents.preferences import Preferences
from reference_backend.agents.recommendations import MAX_LIMIT
from reference_backend.agents.search import MAX_PAGE, MAX_PAGE_SIZE, MAX_QUERY_CHARS
from reference_backend.agents.support import SupportMessage
from reference_backend.api import MAX_ID
from reference_backend.db import (
    CartRow,
    CategoryRow,
    OrderRow,
    ProductRow,
    ProductSummaryRow,
    StockRow,
)
from reference_backend.messages import PaymentRequest, PriceQuote


class ErrorDetail(TypedDict):
    code: str
    message: str


class Error(TypedDict):
    error: ErrorDetail


class CategoryList(TypedDict):
    items: list[CategoryRow]


class SearchPage(TypedDict):
    page: int
    page_size: int
    items: list[ProductSummaryRow]
    has_more: bool


class Recommendation(TypedDict):
    product_id: int
    name: str
    price_cents: int
    image_url: str
    reason: str
    score: float


class RecommendationList(TypedDict):
    user_id: int
    items: list[Recommendation]


class ReservationLineOut(TypedDict):
    product_id: int
    quantity: int


class Reservation(TypedDict):
    reservation_id: str
    status: str
    items: list[ReservationLineOut]
    expires_in_s: float


class CartLine(CartRow):
    line_total_cents: int


class CartView(TypedDict):
    user_id: int
    items: list[CartLine]
    item_count: int
    subtotal_cents: int


class OrderHistory(TypedDict):
    user_id: int
    items: list[OrderRow]


class Payment(TypedDict):
    payment_id: str
    status: str
    amount_cents: int
    currency: str
    user_id: int
    order_id: int | None


class PaymentDeclined(Payment):
    error: ErrorDetail
    decline_code: str


class UserPreferences(TypedDict):
    user_id: int
    currency: str
    language: str
    favourite_categories: list[str]
    newsletter: bool
    max_price_cents: int | None


class SupportAnswer(TypedDict):
    user_id: int
    intent: str
    confidence: float
    answer: str
    references: dict[str, int]
    handoff: bool


class LoginAnswer(TypedDict):
    token: str
    user_id: int
    expires_in: int


class Health(TypedDict):
    status: str


class Readiness(TypedDict):
    status: str
    database: bool
    cache: bool


@dataclass(frozen=True, slots=True)
class Operation:
    """One route as the document describes it."""

    name: str
    """operationId; also the operation name perfctl reports."""
    method: str
    """HTTP method, lower case."""
    path: str
    """Route template."""
    summary: str
    """One line for people."""
    responses: dict[int, tuple[str, Any]]
    """Status -> (description, response type or None for no body)."""
    body: type[BaseModel] | None = None
    """Request body model."""
    parameters: tuple[dict[str, Any], ...] = field(default=())
    """Path, query and header parameters."""
    secured: bool = False
    """Needs a login (bearer token or session cookie) of the user it is about."""


def _id(name: str, where: str = "path") -> dict[str, Any]:
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    return {"name": name, "in": where, "required": where == "path", "schema": schema}


def _int_query(name: str, low: int, high: int) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": low, "maximum": high}
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _price(name: str) -> dict[str, Any]:
    schema = {"type": "number", "minimum": 0, "maximum": 10_000_000}
    return {"name": name, "in": "query", "required": False, "schema": schema}


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_CHARS},
    "description": "Same key + same body replays the first answer; another body is 422.",
}
_BAD = {422: ("Invalid path or query parameter", Error)}
_BODY_ERRORS = {
    400: ("Body is not JSON", Error),
    413: ("Body larger than 64 KiB", Error),
    422: ("Body or parameter fails validation", Error),
}
_UNKNOWN = "Unknown id"

_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]
_SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "The token POST /api/login answers (opaque, valid `expires_in` s).",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE_NAME,
        "description": "The HttpOnly cookie POST /api/login sets (the same token).",
    },
}
_AUTH_ERRORS = {
    401: ("No token, or an unknown or expired one (WWW-Authenticate: Bearer)", Error),
    403: ("Logged in as another user than the one the request is about", Error),
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "login",
        "post",
        "/api/login",
        "Log in: a bearer token, also set as the HttpOnly session cookie",
        {
            200: ("Logged in", LoginAnswer),
            401: ("Unknown username or wrong password", Error),
            **_BODY_ERRORS,
        },
        body=LoginRequest,
    ),
    Operation(
        "logout",
        "post",
        "/api/logout",
        "Log out: the token stops working and the cookie is cleared",
        {204: ("Logged out", None)},
    ),
    Operation(
        "category_list",
        "get",
        "/api/categories",
        "List categories",
        {200: ("Categories", CategoryList)},
    ),
    Operation(
        "product_search",
        "get",
        "/api/products/search",
        "Search active products, most popular then cheapest first",
        {200: ("One page of products", SearchPage), 404: ("Unknown category", Error), **_BAD},
        parameters=(
            {
                "name": "q",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS},
            },
            {
                "name": "category",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Category slug or id",
            },
            _price("min_price"),
            _price("max_price"),
            _int_query("page", 1, MAX_PAGE),
            _int_query("page_size", 1, MAX_PAGE_SIZE),
        ),
    ),
    Operation(
        "product_detail",
        "get",
        "/api/products/{product_id}",
        "Show a product",
        {200: ("The product", ProductRow), 404: (_UNKNOWN, Error), **_BAD},
        parameters=(_id("product_id"),),
    ),
    Operation(
        "recommendations",
        "get",
        "/api/recommendations/{user_id}",
        "Recommend products",
        {200: ("Recommendations", RecommendationList), 404: (_UNKNOWN, Error), **_BAD},
        parameters=(_id("user_id"), _int_query("limit", 1, MAX_LIMIT)),
    ),
    Operation(
        "inventory_check",
        "get",
        "/api/inventory/{product_id}",
        "Show stock",
        {200: ("Stock", StockRow), 404: (_UNKNOWN, Error), **_BAD},
        parameters=(_id("product_id"),),
    ),
    Operation(
        "inventory_reserve",
        "post",
        "/api/inventory/reservations",
        f"Hold stock for every line or none (lines up to {MAX_LINE_QUANTITY}, "
        f"held {RESERVATION_TTL_S:.0f} s)",
        {
            201: ("Held", Reservation),
            404: ("Unknown product", Error),
            409: ("Insufficient stock", Error),
            **_BODY_ERRORS,
        },
        body=ReservationRequest,
    ),
    Operation(
        "inventory_release",
        "delete",
        "/api/inventory/reservations/{reservation_id}",
        "Release a held reservation",
        {
            204: ("Released", None),
            404: ("Unknown reservation", Error),
            409: ("Already released or committed", Error),
            **_BAD,
        },
        parameters=(
            {
                "name": "reservation_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            },
        ),
    ),
    Operation(
        "price_lookup",
        "get",
        "/api/pricing/{product_id}",
        "Quote the dynamic price",
        {200: ("Quote", PriceQuote), 404: (_UNKNOWN, Error), **_BAD},
        parameters=(_id("product_id"),),
    ),
    Operation(
        "cart_view",
        "get",
        "/api/cart/{user_id}",
        "Show a cart",
        {200: ("Cart", CartView), 404: (_UNKNOWN, Error), **_BAD},
        parameters=(_id("user_id"),),
        secured=True,
    ),
    Operation(
        "cart_add",
        "post",
        "/api/cart/{user_id}/items",
        "Add a product to a cart",
        {
            201: ("Cart", CartView),
            404: ("Unknown user or product", Error),
            409: ("Cart full (50 products, 100 of each)", Error),
            **_BODY_ERRORS,
        },
        body=CartItemRequest,
        parameters=(_id("user_id"),),
        secured=True,
    ),
    Operation(
        "cart_remove",
        "delete",
        "/api/cart/{user_id}/items/{product_id}",
        "Remove a product from a cart",
        {204: ("Removed", None), 404: ("Unknown user, or not in the cart", Error), **_BAD},
        parameters=(_id("user_id"), _id("product_id")),
        secured=True,
    ),
    Operation(
        "order_processing",
        "post",
        "/api/orders",
        "Check out the user's cart",
        {
            201: ("Order placed", OrderRow),
            402: ("Payment declined; the reservation was released", Error),
            404: ("Unknown user or product", Error),
            409: ("Out of stock, or another checkout of the user still running", Error),
            **_BODY_ERRORS,
        },
        body=CheckoutRequest,
        parameters=(_IDEMPOTENCY_KEY,),
        secured=True,
    ),
    Operation(
        "order_status",
        "get",
        "/api/orders/{order_id}",
        "Show an order",
        {200: ("Order", OrderRow), 404: (_UNKNOWN, Error), **_BAD},
        parameters=(_id("order_id"),),
        secured=True,
    ),
    Operation(
        "order_history",
        "get",
        "/api/users/{user_id}/orders",
        "List a user's orders",
        {200: ("Orders, newest first", OrderHistory), 404: (_UNKNOWN, Error), **_BAD},
        parameters=(_id("user_id"), _int_query("limit", 1, MAX_HISTORY)),
        secured=True,
    ),
    Operation(
        "payment_processing",
        "post",
        "/api/payments",
        "Charge a card",
        {
            201: ("Approved (or replayed)", Payment),
            402: ("Declined", PaymentDeclined),
            404: ("Unknown user", Error),
            409: ("A request with this key is still running", Error),
            **_BODY_ERRORS,
        },
        body=PaymentRequest,
        parameters=(_IDEMPOTENCY_KEY,),
    ),
    Operation(
        "preferences_get",
        "get",
        "/api/users/{user_id}/preferences",
        "Show preferences",
        {200: ("Preferences", UserPreferences), 404: (_UNKNOWN, Error), **_BAD},
        parameters=(_id("user_id"),),
        secured=True,
    ),
    Operation(
        "preferences_put",
        "put",
        "/api/users/{user_id}/preferences",
        "Replace preferences",
        {200: ("Preferences", UserPreferences), 404: (_UNKNOWN, Error), **_BODY_ERRORS},
        body=Preferences,
        parameters=(_id("user_id"),),
        secured=True,
    ),
    Operation(
        "customer_support",
        "post",
        "/api/support/messages",
        "Answer a support message",
        {200: ("Answer", SupportAnswer), 404: ("Unknown user", Error), **_BODY_ERRORS},
        body=SupportMessage,
    ),
    Operation("health", "get", "/health", "Liveness", {200: ("Alive", Health)}),
    Operation(
        "ready",
        "get",
        "/ready",
        "Readiness: database and cache reachable",
        {200: ("Ready", Readiness), 503: ("Not ready", Readiness)},
    ),
)


def build_openapi() -> dict[str, Any]:
    """The whole OpenAPI document."""
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        entry: dict[str, Any] = {
            "operationId": op.name,
            "summary": op.summary,
            "responses": {
                str(status): _response(description, kind, components)
                for status, (description, kind) in op.responses.items()
            },
        }
        if op.parameters:
            entry["parameters"] = list(op.parameters)
        if op.secured:
            entry["security"] = _SECURITY
            for status, (description, kind) in _AUTH_ERRORS.items():
                entry["responses"][str(status)] = _response(description, kind, components)
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(op.body, components)}},
            }
        for status, description in ((429, "Rate limited"), (504, "Timed out at the gateway")):
            entry["responses"][str(status)] = _response(description, Error, components)
        paths.setdefault(op.path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "perfctl reference backend",
            "version": __version__,
            "description": "The e-commerce agents of the seed platform behind one gateway.",
        },
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": _SECURITY_SCHEMES},
    }


def _response(description: str, kind: Any, components: dict[str, Any]) -> dict[str, Any]:
    if kind is None:
        return {"description": description}
    return {
        "description": description,
        "content": {"application/json": {"schema": _schema(kind, components)}},
    }


def _schema(kind: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(kind).json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    name = schema.get("title", getattr(kind, "__name__", "Body"))
    components[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}
