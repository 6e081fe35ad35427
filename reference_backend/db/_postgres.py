"""PostgreSQL through an asyncpg pool: same schema and queries as SQLite, tsvector search.

asyncpg prepares each statement once per connection and keeps it in its statement cache, so
the fixed SQL strings below are parsed and planned once, then only bound and executed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import orjson

from reference_backend.db._types import (
    PARTNERS_PER_PRODUCT,
    RECENT_PRODUCTS,
    CartAdd,
    CartRow,
    CategoryRow,
    NewOrder,
    OrderItemRow,
    OrderOutcome,
    OrderRow,
    PaymentClaim,
    PaymentRow,
    PoolGauge,
    ProductQuery,
    ProductRow,
    ProductSummaryRow,
    PurchasedRow,
    ReleaseOutcome,
    ReserveOutcome,
    StockLevels,
    StockRow,
    availability,
    co_purchase_pairs,
    sales_day,
    sales_rows,
    user_purchase_rows,
)

_PRODUCT_COLUMNS = """
    p.product_id, p.category_id, c.name AS category, p.name, p.description, p.price_cents,
    p.popularity_score, p.stock, p.status, p.image_url,
    CASE WHEN p.stock > 0 THEN 'in_stock' ELSE 'out_of_stock' END AS availability_status
"""


_SUMMARY_COLUMNS = """
    p.product_id, p.category_id, c.name AS category, p.name, p.price_cents, p.popularity_score,
    p.image_url, CASE WHEN p.stock > 0 THEN 'in_stock' ELSE 'out_of_stock' END AS availability_status
"""


def _search_sql(by_category: bool, by_text: bool) -> str:
    where = ["p.status = 'active'", "p.price_cents BETWEEN $1 AND $2"]
    args = 2
    if by_category:
        args += 1
        where.append(f"p.category_id = ${args}")
    if by_text:
        args += 1
        where.append(f"p.search_vector @@ to_tsquery('simple', ${args})")
    return (
        f"SELECT {_SUMMARY_COLUMNS} FROM products p "
        "JOIN categories c ON c.category_id = p.category_id "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY p.popularity_score DESC, p.price_cents ASC LIMIT ${args + 1} OFFSET ${args + 2}"
    )


_SEARCH_SQL = {
    (cat, text): _search_sql(cat, text) for cat in (False, True) for text in (False, True)
}

_TOP_PURCHASED_SQL = """
SELECT p.product_id, p.name, p.price_cents, p.image_url, SUM(up.units)::int AS total_purchased
FROM user_purchases up JOIN products p ON p.product_id = up.product_id
WHERE up.user_id = $1 AND up.day >= $2 AND p.status = 'active'
GROUP BY p.product_id, p.name, p.price_cents, p.image_url
ORDER BY total_purchased DESC, p.product_id
LIMIT $3
"""

_CO_PURCHASED_SQL = f"""
WITH mine AS (
    SELECT product_id, MAX(last_at) AS last_at FROM user_purchases
    WHERE user_id = $1 AND day >= $2
    GROUP BY product_id
),
recent AS (SELECT product_id FROM mine ORDER BY last_at DESC, product_id LIMIT {RECENT_PRODUCTS})
SELECT p.product_id, p.name, p.price_cents, p.image_url,
       SUM(cp.orders)::int AS total_purchased
FROM recent r
CROSS JOIN LATERAL (
    SELECT t.other_id, t.orders FROM co_purchases t WHERE t.product_id = r.product_id
    ORDER BY t.orders DESC, t.other_id LIMIT {PARTNERS_PER_PRODUCT}
) cp
JOIN products p ON p.product_id = cp.other_id
WHERE cp.other_id NOT IN (SELECT product_id FROM mine)
  AND p.status = 'active' AND p.stock > 0
GROUP BY p.product_id, p.name, p.price_cents, p.image_url, p.popularity_score
ORDER BY total_purchased DESC, p.popularity_score DESC
LIMIT $3
"""

_ORDER_ITEMS_SQL = """
SELECT oi.order_id, oi.product_id, p.name, oi.quantity, oi.unit_price_cents
FROM order_items oi JOIN products p ON p.product_id = oi.product_id
WHERE oi.order_id = ANY($1::int[]) ORDER BY oi.order_id, oi.product_id
"""


class PostgresDatabase:
    """`Database` on a PostgreSQL server through one asyncpg pool per process."""

    dialect: Literal["sqlite", "postgresql"] = "postgresql"

    def __init__(self, pool: asyncpg.Pool, pool_size: int, gauge: PoolGauge | None) -> None:
        self._pool = pool
        self.pool_size = pool_size
        self._gauge = gauge

    @classmethod
    async def connect(
        cls, url: str, *, pool_size: int = 10, gauge: PoolGauge | None = None
    ) -> PostgresDatabase:
        """Opens the pool; every connection decodes JSONB with orjson."""
        pool = await asyncpg.create_pool(
            url, min_size=2, max_size=pool_size, init=_init_connection, command_timeout=30
        )
        return cls(pool, pool_size, gauge)

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as conn:
            if self._gauge is not None:
                self._gauge.inc()
            try:
                yield conn
            finally:
                if self._gauge is not None:
                    self._gauge.dec()

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self._conn() as conn:
            return [dict(r) for r in await conn.fetch(sql, *args)]

    async def _fetchrow(self, sql: str, *args: Any) -> Any:
        async with self._conn() as conn:
            row = await conn.fetchrow(sql, *args)
        return None if row is None else dict(row)

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        async with self._conn() as conn:
            return await conn.fetchval(sql, *args)

    async def ping(self) -> bool:
        try:
            return bool(await self._fetchval("SELECT 1") == 1)
        except (OSError, asyncpg.PostgresError):
            return False

    async def close(self) -> None:
        await self._pool.close()

    # -- catalog -------------------------------------------------------------------------------

    async def list_categories(self) -> list[CategoryRow]:
        return await self._fetch(
            "SELECT c.category_id, c.slug, c.name, COUNT(p.product_id)::int AS product_count "
            "FROM categories c LEFT JOIN products p "
            "ON p.category_id = c.category_id AND p.status = 'active' "
            "GROUP BY c.category_id ORDER BY c.name"
        )

    async def search_products(self, query: ProductQuery) -> list[ProductSummaryRow]:
        args: list[Any] = [query.min_price_cents, query.max_price_cents]
        if query.category_id is not None:
            args.append(query.category_id)
        if query.terms:
            args.append(" & ".join(f"{term}:*" for term in query.terms))
        sql = _SEARCH_SQL[(query.category_id is not None, bool(query.terms))]
        return await self._fetch(sql, *args, query.limit, query.offset)

    async def get_product(self, product_id: int) -> ProductRow | None:
        return await self._fetchrow(  # type: ignore[no-any-return]
            f"SELECT {_PRODUCT_COLUMNS} FROM products p "
            "JOIN categories c ON c.category_id = p.category_id WHERE p.product_id = $1",
            product_id,
        )

    async def user_exists(self, user_id: int) -> bool:
        return await self._fetchval("SELECT 1 FROM users WHERE user_id = $1", user_id) is not None

    # -- sessions --------------------------------------------------------------------------------

    async def user_credentials(self, username: str) -> tuple[int, str] | None:
        sql = "SELECT user_id, password_hash FROM users WHERE username = $1"
        row = await self._fetchrow(sql, username)
        return None if row is None else (int(row["user_id"]), str(row["password_hash"]))

    async def create_session(self, token_hash: str, user_id: int, expires_at_s: float) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO sessions VALUES ($1, $2, $3)", token_hash, user_id, expires_at_s
            )

    async def session_user(self, token_hash: str) -> tuple[int, float] | None:
        sql = "SELECT user_id, expires_at FROM sessions WHERE token_hash = $1"
        row = await self._fetchrow(sql, token_hash)
        return None if row is None else (int(row["user_id"]), float(row["expires_at"]))

    async def delete_session(self, token_hash: str) -> None:
        async with self._conn() as conn:
            await conn.execute("DELETE FROM sessions WHERE token_hash = $1", token_hash)

    async def purge_sessions(self, expired_before_s: float) -> int:
        async with self._conn() as conn:
            status = await conn.execute(
                "DELETE FROM sessions WHERE expires_at < $1", expired_before_s
            )
        return int(status.rsplit(" ", 1)[-1])

    # -- recommendations -----------------------------------------------------------------------

    async def top_purchased(self, user_id: int, since_s: float, limit: int) -> list[PurchasedRow]:
        return await self._fetch(_TOP_PURCHASED_SQL, user_id, sales_day(since_s), limit)

    async def co_purchased(self, user_id: int, since_s: float, limit: int) -> list[PurchasedRow]:
        return await self._fetch(_CO_PURCHASED_SQL, user_id, sales_day(since_s), limit)

    async def popular_products(self, limit: int) -> list[ProductRow]:
        return await self._fetch(
            f"SELECT {_PRODUCT_COLUMNS} FROM products p "
            "JOIN categories c ON c.category_id = p.category_id "
            "WHERE p.status = 'active' AND p.stock > 0 "
            "ORDER BY p.popularity_score DESC, p.price_cents ASC LIMIT $1",
            limit,
        )

    # -- inventory -----------------------------------------------------------------------------

    async def get_stock(self, product_id: int) -> StockRow | None:
        row = await self._fetchrow(
            "SELECT p.product_id, p.stock, p.status, "
            "(SELECT COALESCE(SUM(ri.quantity), 0)::int FROM reservation_items ri "
            " JOIN reservations r ON r.reservation_id = ri.reservation_id "
            " WHERE ri.product_id = p.product_id AND r.status = 'held') AS reserved "
            "FROM products p WHERE p.product_id = $1",
            product_id,
        )
        if row is None:
            return None
        row["availability_status"] = availability(row["stock"])
        return row  # type: ignore[no-any-return]

    async def reserve(
        self, reservation_id: str, lines: list[tuple[int, int]], created_at_s: float
    ) -> ReserveOutcome:
        try:
            stock_after: list[tuple[int, int, int]] = []
            async with self._conn() as conn, conn.transaction():
                # Rows are locked in product order, so two reservations can never deadlock.
                for product_id, quantity in sorted(lines):
                    # The guard `stock >= $1` is re-checked on the newest row version after a
                    # concurrent update commits (READ COMMITTED): stock never goes negative.
                    left = await conn.fetchval(
                        "UPDATE products SET stock = stock - $1 "
                        "WHERE product_id = $2 AND status = 'active' AND stock >= $1 "
                        "RETURNING stock",
                        quantity,
                        product_id,
                    )
                    if left is None:
                        raise _Rollback(await _failure(conn, product_id))
                    stock_after.append((product_id, int(left) + quantity, int(left)))
                await conn.execute(
                    "INSERT INTO reservations VALUES ($1, 'held', $2)",
                    reservation_id,
                    created_at_s,
                )
                await conn.executemany(
                    "INSERT INTO reservation_items VALUES ($1, $2, $3)",
                    [(reservation_id, p, q) for p, q in lines],
                )
        except _Rollback as failed:
            return failed.outcome
        return ReserveOutcome(reserved=True, stock_after=tuple(stock_after))

    async def release(self, reservation_id: str) -> tuple[ReleaseOutcome, StockLevels]:
        async with self._conn() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE reservations SET status = 'released' "
                "WHERE reservation_id = $1 AND status = 'held'",
                reservation_id,
            )
            if status != "UPDATE 1":
                exists = await conn.fetchval(
                    "SELECT 1 FROM reservations WHERE reservation_id = $1", reservation_id
                )
                return ("not_held" if exists else "not_found"), []
            return "released", await _restore_stock(conn, [reservation_id])

    async def release_expired(self, older_than_s: float) -> StockLevels:
        async with self._conn() as conn, conn.transaction():
            rows = await conn.fetch(
                "UPDATE reservations SET status = 'released' "
                "WHERE status = 'held' AND created_at < $1 RETURNING reservation_id",
                older_than_s,
            )
            ids = [r[0] for r in rows]
            return await _restore_stock(conn, ids) if ids else []

    async def restock(self, below: int, quantity: int) -> StockLevels:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "UPDATE products SET stock = stock + $1 "
                "WHERE status = 'active' AND stock < $2 RETURNING product_id, stock",
                quantity,
                below,
            )
        return [(int(r[0]), int(r[1]) - quantity, int(r[1])) for r in rows]

    async def units_sold_since(self, product_id: int, since_s: float) -> int:
        return int(
            await self._fetchval(
                "SELECT COALESCE(SUM(units), 0) FROM product_sales "
                "WHERE product_id = $1 AND day >= $2",
                product_id,
                sales_day(since_s),
            )
        )

    # -- cart ----------------------------------------------------------------------------------

    async def cart_items(self, user_id: int) -> list[CartRow]:
        return await self._fetch(
            "SELECT ci.product_id, p.name, ci.quantity, p.price_cents, p.stock, p.status "
            "FROM cart_items ci JOIN products p ON p.product_id = ci.product_id "
            "WHERE ci.user_id = $1 ORDER BY ci.product_id",
            user_id,
        )

    async def add_cart_item(
        self, user_id: int, product_id: int, quantity: int, max_quantity: int, max_lines: int
    ) -> CartAdd:
        # one statement: the line count, the insert and why nothing was inserted, without
        # reading the cart back row by row
        row = await self._fetchrow(
            "WITH present AS (SELECT 1 FROM cart_items WHERE user_id = $1 AND product_id = $2), "
            "added AS (INSERT INTO cart_items AS ci SELECT $1, $2, $3 "
            "WHERE EXISTS (SELECT 1 FROM present) "
            "OR (SELECT COUNT(*) FROM cart_items WHERE user_id = $1) < $5 "
            "ON CONFLICT (user_id, product_id) DO UPDATE "
            "SET quantity = ci.quantity + excluded.quantity "
            "WHERE ci.quantity + excluded.quantity <= $4 RETURNING quantity) "
            "SELECT (SELECT quantity FROM added) AS quantity, "
            "EXISTS (SELECT 1 FROM present) AS present",
            user_id,
            product_id,
            quantity,
            max_quantity,
            max_lines,
        )
        assert row is not None
        if row["quantity"] is not None:
            return int(row["quantity"])
        return "quantity_limit" if row["present"] else "cart_full"

    async def remove_cart_item(self, user_id: int, product_id: int) -> bool:
        async with self._conn() as conn:
            status = await conn.execute(
                "DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2", user_id, product_id
            )
        return bool(status == "DELETE 1")

    # -- orders --------------------------------------------------------------------------------

    async def create_order(self, order: NewOrder) -> OrderOutcome:
        async with self._conn() as conn, conn.transaction():
            paid = await conn.fetchval(
                "SELECT order_id FROM orders WHERE payment_id = $1", order.payment_id
            )
            if paid is not None:
                return "duplicate_payment", int(paid)
            status = await conn.execute(
                "UPDATE reservations SET status = 'committed' "
                "WHERE reservation_id = $1 AND status = 'held'",
                order.reservation_id,
            )
            if status != "UPDATE 1":
                return "reservation_not_held", None  # expired: its stock is no longer ours
            order_id = int(
                await conn.fetchval(
                    "INSERT INTO orders (user_id, status, total_cents, payment_id, "
                    "reservation_id, created_at) VALUES ($1, 'confirmed', $2, $3, $4, $5) "
                    "RETURNING order_id",
                    order.user_id,
                    order.total_cents,
                    order.payment_id,
                    order.reservation_id,
                    _dt(order.created_at_s),
                )
            )
            await conn.executemany(
                "INSERT INTO order_items VALUES ($1, $2, $3, $4)",
                [(order_id, p, q, price) for p, q, price in order.lines],
            )
            # pairs in one sorted order: concurrent orders lock shared rows in the same order
            await conn.executemany(
                "INSERT INTO co_purchases VALUES ($1, $2, 1) ON CONFLICT (product_id, other_id) "
                "DO UPDATE SET orders = co_purchases.orders + 1",
                co_purchase_pairs(order),
            )
            await conn.executemany(
                "INSERT INTO product_sales VALUES ($1, $2, $3) ON CONFLICT (product_id, day) "
                "DO UPDATE SET units = product_sales.units + excluded.units",
                sales_rows(order),
            )
            await conn.executemany(
                "INSERT INTO user_purchases VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (user_id, day, product_id) DO UPDATE SET "
                "units = user_purchases.units + excluded.units, "
                "last_at = GREATEST(user_purchases.last_at, excluded.last_at)",
                [(*row, _dt(order.created_at_s)) for row in user_purchase_rows(order)],
            )
            await conn.execute(
                "DELETE FROM cart_items WHERE user_id = $1 AND product_id = ANY($2::int[])",
                order.user_id,
                [p for p, _, _ in order.lines],
            )
            await conn.execute(
                "UPDATE payments SET order_id = $1 WHERE payment_id = $2",
                order_id,
                order.payment_id,
            )
            return "created", order_id

    async def get_order(self, order_id: int) -> OrderRow | None:
        rows = await self._orders("o.order_id = $1", order_id, "o.order_id", 1)
        return rows[0] if rows else None

    async def user_orders(self, user_id: int, limit: int) -> list[OrderRow]:
        return await self._orders("o.user_id = $1", user_id, "o.created_at DESC", limit)

    async def _orders(self, where: str, arg: int, order_by: str, limit: int) -> list[OrderRow]:
        async with self._conn() as conn:
            heads = await conn.fetch(
                "SELECT o.order_id, o.user_id, o.status, o.total_cents, o.payment_id, "
                f"o.created_at FROM orders o WHERE {where} ORDER BY {order_by} LIMIT $2",
                arg,
                limit,
            )
            if not heads:
                return []
            lines = await conn.fetch(_ORDER_ITEMS_SQL, [h[0] for h in heads])
        items: dict[int, list[OrderItemRow]] = {h[0]: [] for h in heads}
        for r in lines:
            items[r[0]].append(
                OrderItemRow(product_id=r[1], name=r[2], quantity=r[3], unit_price_cents=r[4])
            )
        return [
            OrderRow(
                order_id=h[0],
                user_id=h[1],
                status=h[2],
                total_cents=h[3],
                payment_id=h[4],
                created_at=h[5].astimezone(UTC).isoformat(timespec="seconds"),
                items=items[h[0]],
            )
            for h in heads
        ]

    async def count_orders(self) -> int:
        return int(await self._fetchval("SELECT COUNT(*) FROM orders"))

    # -- payments ------------------------------------------------------------------------------

    async def claim_payment(self, claim: PaymentClaim) -> PaymentRow | None:
        async with self._conn() as conn:
            status = await conn.execute(
                "INSERT INTO payments (payment_id, idempotency_key, request_hash, status, "
                "amount_cents, currency, user_id, order_id, created_at) "
                "VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8) "
                "ON CONFLICT (idempotency_key) DO NOTHING",
                claim.payment_id,
                claim.idempotency_key,
                claim.request_hash,
                claim.amount_cents,
                claim.currency,
                claim.user_id,
                claim.order_id,
                claim.created_at_s,
            )
            if status == "INSERT 0 1":
                return None
            return await _payment(conn, claim.idempotency_key or "")

    async def take_over_payment(self, claim: PaymentClaim, claimed_before_s: float) -> bool:
        """Re-claims a pending claim made before `claimed_before_s` (its process died).

        Of concurrent takers, the first locks the row and refreshes its claim time; the
        others wait on the row lock, re-check the WHERE on the new row (READ COMMITTED) and
        match nothing. The new payment id fences off the old claimer, should it wake up.
        """
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE payments SET payment_id = $1, created_at = $2 "
                "WHERE idempotency_key = $3 AND request_hash = $4 AND status = 'pending' "
                "AND created_at < $5",
                claim.payment_id,
                claim.created_at_s,
                claim.idempotency_key,
                claim.request_hash,
                claimed_before_s,
            )
            return bool(status == "UPDATE 1")

    async def complete_payment(
        self, payment_id: str, status: str, response_status: int, response: dict[str, Any]
    ) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "UPDATE payments SET status = $1, response_status = $2, response = $3 "
                "WHERE payment_id = $4",
                status,
                response_status,
                response,
                payment_id,
            )

    async def get_payment(self, idempotency_key: str) -> PaymentRow | None:
        async with self._conn() as conn:
            return await _payment(conn, idempotency_key)

    async def count_payments(self, idempotency_key: str) -> int:
        return int(
            await self._fetchval(
                "SELECT COUNT(*) FROM payments WHERE idempotency_key = $1", idempotency_key
            )
        )

    # -- preferences ---------------------------------------------------------------------------

    async def get_preferences(self, user_id: int) -> dict[str, Any] | None:
        value = await self._fetchval("SELECT data FROM preferences WHERE user_id = $1", user_id)
        return None if value is None else dict(value)

    async def put_preferences(
        self, user_id: int, preferences: dict[str, Any], updated_at_s: float
    ) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO preferences VALUES ($1, $2, $3) ON CONFLICT (user_id) "
                "DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                user_id,
                preferences,
                updated_at_s,
            )


class _Rollback(Exception):
    def __init__(self, outcome: ReserveOutcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: orjson.dumps(value).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )


def _dt(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


async def _failure(conn: asyncpg.Connection, product_id: int) -> ReserveOutcome:
    row = await conn.fetchrow(
        "SELECT stock, status FROM products WHERE product_id = $1", product_id
    )
    if row is None:
        return ReserveOutcome(False, product_id, "unknown_product")
    if row["status"] != "active":
        return ReserveOutcome(False, product_id, "inactive_product")
    return ReserveOutcome(False, product_id, "insufficient_stock", int(row["stock"]))


async def _restore_stock(conn: asyncpg.Connection, reservation_ids: list[str]) -> StockLevels:
    lines = await conn.fetch(
        "SELECT product_id, SUM(quantity)::int AS quantity FROM reservation_items "
        "WHERE reservation_id = ANY($1::text[]) GROUP BY product_id ORDER BY product_id",
        reservation_ids,
    )
    levels: StockLevels = []
    for r in lines:
        after = int(
            await conn.fetchval(
                "UPDATE products SET stock = stock + $1 WHERE product_id = $2 RETURNING stock",
                r["quantity"],
                r["product_id"],
            )
        )
        levels.append((int(r["product_id"]), after - r["quantity"], after))
    return levels


async def _payment(conn: asyncpg.Connection, idempotency_key: str) -> PaymentRow | None:
    row = await conn.fetchrow(
        "SELECT payment_id, idempotency_key, request_hash, status, response_status, response, "
        "created_at AS created_at_s FROM payments WHERE idempotency_key = $1",
        idempotency_key,
    )
    return None if row is None else PaymentRow(**dict(row))  # type: ignore[typeddict-item]
