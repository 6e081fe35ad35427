"""What the agents ask of a database: the `Database` protocol and the rows it returns.

Rows are TypedDicts so that they are JSON-ready for the cache and the responses without a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from typing_extensions import TypedDict


class CategoryRow(TypedDict):
    category_id: int
    slug: str
    name: str
    product_count: int


class ProductRow(TypedDict):
    product_id: int
    category_id: int
    category: str
    name: str
    description: str
    price_cents: int
    popularity_score: float
    stock: int
    status: str
    image_url: str
    availability_status: str


class ProductSummaryRow(TypedDict):
    product_id: int
    category_id: int
    category: str
    name: str
    price_cents: int
    popularity_score: float
    image_url: str
    availability_status: str


class PurchasedRow(TypedDict):
    product_id: int
    name: str
    price_cents: int
    image_url: str
    total_purchased: int


class StockRow(TypedDict):
    product_id: int
    stock: int
    reserved: int
    status: str
    availability_status: str


class CartRow(TypedDict):
    product_id: int
    name: str
    quantity: int
    price_cents: int
    stock: int
    status: str


class OrderItemRow(TypedDict):
    product_id: int
    name: str
    quantity: int
    unit_price_cents: int


class OrderRow(TypedDict):
    order_id: int
    user_id: int
    status: str
    total_cents: int
    payment_id: str | None
    created_at: str
    items: list[OrderItemRow]


class PaymentRow(TypedDict):
    payment_id: str
    idempotency_key: str | None
    request_hash: str
    status: str
    response_status: int | None
    response: dict[str, Any] | None
    created_at_s: float


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """One page of the product search (the seed's first query, plus full text)."""

    terms: tuple[str, ...]
    """Lower-case alphanumeric words that must all prefix-match; empty means no text filter."""
    category_id: int | None
    """Only this category; None means every category."""
    min_price_cents: int
    """Lowest price, inclusive."""
    max_price_cents: int
    """Highest price, inclusive."""
    limit: int
    """Rows to return."""
    offset: int
    """Rows to skip."""


@dataclass(frozen=True, slots=True)
class ReserveOutcome:
    """What a reservation attempt did; it either holds every line or none."""

    reserved: bool
    """True when every line is held."""
    product_id: int | None = None
    """The first line that could not be held."""
    reason: Literal["insufficient_stock", "unknown_product", "inactive_product"] | None = None
    """Why that line could not be held."""
    available: int = 0
    """Stock of that product when the attempt failed."""
    stock_after: tuple[tuple[int, int, int], ...] = ()
    """(product_id, stock before, stock after) per line once held."""


@dataclass(frozen=True, slots=True)
class NewOrder:
    """An order to persist together with its lines, its reservation and its payment."""

    user_id: int
    """Buyer."""
    reservation_id: str
    """The held reservation this order commits."""
    payment_id: str
    """The approved payment."""
    total_cents: int
    """Sum of the lines."""
    lines: tuple[tuple[int, int, int], ...]
    """(product_id, quantity, unit_price_cents) per line."""
    created_at_s: float
    """Unix time of the checkout."""


CartAdd = int | Literal["quantity_limit", "cart_full"]
"""The product's quantity in the cart after adding; or why nothing was added: the line would
pass `max_quantity`, or the product is new to a cart that already has `max_lines` lines."""


DAY_S = 86_400


def sales_day(at_s: float) -> int:
    """The UTC day (days since the epoch) of Unix time `at_s`: product_sales' bucket."""
    return int(at_s // DAY_S)


def sales_rows(order: NewOrder) -> list[tuple[int, int, int]]:
    """(product_id, day, units) the order adds to product_sales, sorted by product."""
    day = sales_day(order.created_at_s)
    return sorted((product_id, day, quantity) for product_id, quantity, _ in order.lines)


def user_purchase_rows(order: NewOrder) -> list[tuple[int, int, int, int]]:
    """(user_id, day, product_id, units) the order adds to user_purchases, sorted by product
    (both stores lock the rows in this order)."""
    day = sales_day(order.created_at_s)
    return sorted(
        (order.user_id, day, product_id, quantity) for product_id, quantity, _ in order.lines
    )


def co_purchase_pairs(order: NewOrder) -> list[tuple[int, int]]:
    """Every ordered pair of distinct products of the order, sorted: the co_purchases rows it
    adds one order to (both stores lock them in this order, so two orders never deadlock)."""
    products = sorted({product_id for product_id, _, _ in order.lines})
    return [(a, b) for a in products for b in products if a != b]


@dataclass(frozen=True, slots=True)
class PaymentClaim:
    """A charge that is about to be made, recorded first so that one key charges once."""

    payment_id: str
    """New payment id."""
    idempotency_key: str | None
    """Client's Idempotency-Key; None means the request is not idempotent."""
    request_hash: str
    """SHA-256 of the canonical request body, to reject a reused key with another body."""
    amount_cents: int
    """Amount to charge."""
    currency: str
    """ISO currency code."""
    user_id: int
    """Payer."""
    order_id: int | None
    """Order paid, when known."""
    created_at_s: float
    """Unix time of the claim; a pending claim older than a lease may be taken over."""


class PoolGauge(Protocol):
    """The part of a Prometheus gauge a database reports its connections in use to."""

    def inc(self, amount: float = 1) -> None: ...
    def dec(self, amount: float = 1) -> None: ...


RECENT_PRODUCTS = 10
"""A user's latest distinct products "bought together" starts from."""
PARTNERS_PER_PRODUCT = 20
"""Partners of each of them considered: its most frequent (the co_purchases_top index)."""

StockLevels = list[tuple[int, int, int]]
"""(product_id, stock before, stock after) of every product a change touched."""

OrderOutcome = tuple[Literal["created", "duplicate_payment", "reservation_not_held"], int | None]
"""What persisting an order did, and the order id it created or found."""

ReleaseOutcome = Literal["released", "not_found", "not_held"]


class Database(Protocol):
    """The storage every agent shares; SQLite and PostgreSQL implement the same methods."""

    dialect: Literal["sqlite", "postgresql"]
    pool_size: int

    async def ping(self) -> bool: ...
    async def close(self) -> None: ...

    async def list_categories(self) -> list[CategoryRow]: ...
    async def search_products(self, query: ProductQuery) -> list[ProductSummaryRow]: ...
    async def get_product(self, product_id: int) -> ProductRow | None: ...
    async def user_exists(self, user_id: int) -> bool: ...
    async def user_credentials(self, username: str) -> tuple[int, str] | None:
        """(user id, password hash) of a username, None when no user has it."""
        ...

    async def create_session(self, token_hash: str, user_id: int, expires_at_s: float) -> None: ...
    async def session_user(self, token_hash: str) -> tuple[int, float] | None:
        """(user id, expiry) of a session, None when there is none (expired ones included)."""
        ...

    async def delete_session(self, token_hash: str) -> None: ...
    async def purge_sessions(self, expired_before_s: float) -> int:
        """Deletes the sessions that expired before this time; returns how many."""
        ...

    async def top_purchased(self, user_id: int, since_s: float, limit: int) -> list[PurchasedRow]:
        """The active products the user bought the most units of from the UTC day of
        `since_s` on (whole days, as `units_sold_since`), most first."""
        ...

    async def co_purchased(self, user_id: int, since_s: float, limit: int) -> list[PurchasedRow]:
        """Products bought together with the user's RECENT_PRODUCTS latest products from the
        UTC day of `since_s` on, from each one's PARTNERS_PER_PRODUCT most frequent partners, scored by
        their summed pair counts; none the user bought in that window, only active ones in
        stock. Bounded on both sides so that its cost does not grow with the orders placed
        (all partners of all the user's products: 0.36 ms per call on the seeded catalog,
        12.8 ms after 20,000 more orders)."""
        ...

    async def popular_products(self, limit: int) -> list[ProductRow]: ...

    async def get_stock(self, product_id: int) -> StockRow | None: ...
    async def reserve(
        self, reservation_id: str, lines: list[tuple[int, int]], created_at_s: float
    ) -> ReserveOutcome: ...
    async def release(self, reservation_id: str) -> tuple[ReleaseOutcome, StockLevels]: ...
    async def release_expired(self, older_than_s: float) -> StockLevels: ...
    async def restock(self, below: int, quantity: int) -> StockLevels: ...
    async def units_sold_since(self, product_id: int, since_s: float) -> int:
        """Units of the product ordered from the UTC day of `since_s` on (whole days: a
        window of N days counts between N and N + 1 days of sales)."""
        ...

    async def cart_items(self, user_id: int) -> list[CartRow]: ...
    async def add_cart_item(
        self, user_id: int, product_id: int, quantity: int, max_quantity: int, max_lines: int
    ) -> CartAdd: ...
    async def remove_cart_item(self, user_id: int, product_id: int) -> bool: ...

    async def create_order(self, order: NewOrder) -> OrderOutcome: ...
    async def get_order(self, order_id: int) -> OrderRow | None: ...
    async def user_orders(self, user_id: int, limit: int) -> list[OrderRow]: ...
    async def count_orders(self) -> int: ...

    async def claim_payment(self, claim: PaymentClaim) -> PaymentRow | None: ...
    async def take_over_payment(self, claim: PaymentClaim, claimed_before_s: float) -> bool: ...
    async def complete_payment(
        self, payment_id: str, status: str, response_status: int, response: dict[str, Any]
    ) -> None: ...
    async def get_payment(self, idempotency_key: str) -> PaymentRow | None: ...
    async def count_payments(self, idempotency_key: str) -> int: ...

    async def get_preferences(self, user_id: int) -> dict[str, Any] | None: ...
    async def put_preferences(
        self, user_id: int, preferences: dict[str, Any], updated_at_s: float
    ) -> None: ...


def iso_from_epoch(epoch_s: float) -> str:
    """Formats a Unix time as an ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds")


def availability(stock: int) -> str:
    """The seed's availability status of a stock level."""
    return "in_stock" if stock > 0 else "out_of_stock"
