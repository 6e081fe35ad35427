"""The embedded SQLite database: WAL, indexed queries, FTS5 search, one writer thread.

sqlite3 blocks, so statements are placed by what they cost. Point reads (a primary-key or
index lookup of a few rows: a product's stock, a cart, an order) run inline on the event
loop: in WAL mode a reader never waits for a lock, the query takes tens of microseconds,
and a hop to a thread would cost more than the query and make threads fight the loop for
the GIL (measured with wrk on one core: inline inventory checks had a p99 of 21 ms against
123 ms through two reader threads). Scans and aggregates (search, recommendations,
demand) run on a small reader pool with a connection per thread.

Every write runs inside `BEGIN IMMEDIATE`, so a guarded UPDATE never interleaves with another
write. Where several worker processes share the file, writes run on one writer thread: a
process may have to wait for another's transaction (`busy_timeout`), and that wait must not
stop the loop. A process that owns the file alone (`inline_writes`, one worker) never waits
for the lock, and a write transaction of a request is a few rows: it runs inline like a
point read, sparing the hop to the thread and back (under peak's mix at 1,000 users, the
executor's submit and the writer thread's wake-ups and GIL hand-offs were ~10 % of the
backend's samples, py-spy). The cost that can be long, the WAL checkpoint (copying the log
into the database and syncing it), is then taken off the loop: automatic checkpoints are
off, and a checkpoint thread runs a PASSIVE one every CHECKPOINT_INTERVAL_S.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

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
    iso_from_epoch,
    sales_day,
    sales_rows,
    user_purchase_rows,
)

T = TypeVar("T")

CHECKPOINT_INTERVAL_S = 5.0
"""Seconds between two WAL checkpoints of the checkpoint thread (inline writes only). A
checkpoint copies the latest version of each page the log holds: the hot pages (stock, cart
and sales rows, their indexes' upper levels) change many times in a second, so a longer
interval copies each of them once for many commits (app_cost_bench: 146-152 µs per request
with 1 s, 138-140 with 5 s), at the price of a longer log (tens of MB at a peak's write
rate)."""

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
    # Four fixed statements instead of `(? IS NULL OR ...)`, so that the planner can use the
    # category index and sqlite3's statement cache keeps each one prepared.
    where = ["p.status = 'active'", "p.price_cents BETWEEN :min_price AND :max_price"]
    if by_category:
        where.append("p.category_id = :category_id")
    if by_text:
        where.append(
            "p.product_id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH :match)"
        )
    return (
        f"SELECT {_SUMMARY_COLUMNS} FROM products p "
        "JOIN categories c ON c.category_id = p.category_id "
        f"WHERE {' AND '.join(where)} "
        "ORDER BY p.popularity_score DESC, p.price_cents ASC LIMIT :limit OFFSET :offset"
    )


_SEARCH_SQL = {
    (cat, text): _search_sql(cat, text) for cat in (False, True) for text in (False, True)
}

_TOP_PURCHASED_SQL = """
SELECT p.product_id, p.name, p.price_cents, p.image_url, SUM(up.units) AS total_purchased
FROM user_purchases up JOIN products p ON p.product_id = up.product_id
WHERE up.user_id = ? AND up.day >= ? AND p.status = 'active'
GROUP BY p.product_id, p.name, p.price_cents, p.image_url
ORDER BY total_purchased DESC, p.product_id
LIMIT ?
"""

_CO_PURCHASED_SQL = f"""
WITH mine AS (
    SELECT product_id, MAX(last_at) AS last_at FROM user_purchases
    WHERE user_id = ? AND day >= ?
    GROUP BY product_id
),
recent AS (SELECT product_id FROM mine ORDER BY last_at DESC, product_id LIMIT {RECENT_PRODUCTS})
SELECT p.product_id, p.name, p.price_cents, p.image_url,
       SUM(cp.orders) AS total_purchased
FROM recent r
JOIN co_purchases cp ON cp.product_id = r.product_id AND cp.other_id IN (
    SELECT t.other_id FROM co_purchases t WHERE t.product_id = r.product_id
    ORDER BY t.orders DESC, t.other_id LIMIT {PARTNERS_PER_PRODUCT}
)
JOIN products p ON p.product_id = cp.other_id
WHERE cp.other_id NOT IN (SELECT product_id FROM mine)
  AND p.status = 'active' AND p.stock > 0
GROUP BY p.product_id, p.name, p.price_cents, p.image_url
ORDER BY total_purchased DESC, p.popularity_score DESC
LIMIT ?
"""


class SqliteDatabase:
    """`Database` on one SQLite file in WAL mode."""

    dialect: Literal["sqlite", "postgresql"] = "sqlite"

    def __init__(
        self,
        path: str,
        *,
        readers: int = 2,
        gauge: PoolGauge | None = None,
        inline_writes: bool = False,
    ) -> None:
        """`inline_writes`: this process is the file's only writer (see the module docstring)."""
        self._path = path
        self._gauge = gauge
        self._inline_writes = inline_writes
        self._local = threading.local()
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-write")
        self.pool_size = readers + 2  # the readers, the writer and the loop's own connection
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        self._closing = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if inline_writes:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_forever, name="sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    # -- plumbing ------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect_sqlite(self._path)
            if self._inline_writes:
                conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpoint thread's job
            self._local.conn = conn
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs a scan or aggregate on the reader pool."""
        return await self._run(self._readers, lambda: fn(self._connection()))

    async def _lookup(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs a point read inline (see the module docstring for why)."""
        return fn(self._connection())

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `fn` in a write transaction: inline when this process is the only writer,
        else on the writer thread."""
        if self._inline_writes:
            return self._transaction(fn)
        return await self._run(self._writer, lambda: self._transaction(fn))

    def _transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _checkpoint_forever(self) -> None:
        conn = self._connection()
        while not self._closing.wait(CHECKPOINT_INTERVAL_S):
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                continue  # busy or locked this time: the next one copies what this one left

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        gauge = self._gauge
        if gauge is None:
            return await asyncio.get_running_loop().run_in_executor(pool, fn)

        def checked_out() -> T:
            # counted while a thread runs it on its connection, not while it waits in the
            # pool's queue: in use can never exceed the connections open
            gauge.inc()
            try:
                return fn()
            finally:
                gauge.dec()

        return await asyncio.get_running_loop().run_in_executor(pool, checked_out)

    async def ping(self) -> bool:
        try:
            return await self._lookup(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
        except sqlite3.Error:
            return False

    async def close(self) -> None:
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._opened_lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()

    # -- catalog -------------------------------------------------------------------------------

    async def list_categories(self) -> list[CategoryRow]:
        sql = (
            "SELECT c.category_id, c.slug, c.name, COUNT(p.product_id) AS product_count "
            "FROM categories c LEFT JOIN products p "
            "ON p.category_id = c.category_id AND p.status = 'active' "
            "GROUP BY c.category_id ORDER BY c.name"
        )
        return await self._read(lambda c: _dicts(c.execute(sql)))

    async def search_products(self, query: ProductQuery) -> list[ProductSummaryRow]:
        sql = _SEARCH_SQL[(query.category_id is not None, bool(query.terms))]
        params = {
            "min_price": query.min_price_cents,
            "max_price": query.max_price_cents,
            "category_id": query.category_id,
            "match": " ".join(f'"{term}"*' for term in query.terms),
            "limit": query.limit,
            "offset": query.offset,
        }
        if query.category_id is None:
            del params["category_id"]
        if not query.terms:
            del params["match"]
        return await self._read(lambda c: _dicts(c.execute(sql, params)))

    async def get_product(self, product_id: int) -> ProductRow | None:
        sql = (
            f"SELECT {_PRODUCT_COLUMNS} FROM products p "
            "JOIN categories c ON c.category_id = p.category_id WHERE p.product_id = ?"
        )
        return await self._lookup(lambda c: _one(c.execute(sql, (product_id,))))

    async def user_exists(self, user_id: int) -> bool:
        sql = "SELECT 1 FROM users WHERE user_id = ?"
        return await self._lookup(lambda c: c.execute(sql, (user_id,)).fetchone() is not None)

    # -- sessions --------------------------------------------------------------------------------

    async def user_credentials(self, username: str) -> tuple[int, str] | None:
        sql = "SELECT user_id, password_hash FROM users WHERE username = ?"
        row = await self._lookup(lambda c: c.execute(sql, (username,)).fetchone())
        return None if row is None else (int(row[0]), str(row[1]))

    async def create_session(self, token_hash: str, user_id: int, expires_at_s: float) -> None:
        sql = "INSERT INTO sessions VALUES (?, ?, ?)"
        await self._write(lambda c: c.execute(sql, (token_hash, user_id, expires_at_s)))

    async def session_user(self, token_hash: str) -> tuple[int, float] | None:
        sql = "SELECT user_id, expires_at FROM sessions WHERE token_hash = ?"
        row = await self._lookup(lambda c: c.execute(sql, (token_hash,)).fetchone())
        return None if row is None else (int(row[0]), float(row[1]))

    async def delete_session(self, token_hash: str) -> None:
        sql = "DELETE FROM sessions WHERE token_hash = ?"
        await self._write(lambda c: c.execute(sql, (token_hash,)))

    async def purge_sessions(self, expired_before_s: float) -> int:
        sql = "DELETE FROM sessions WHERE expires_at < ?"
        return await self._write(lambda c: c.execute(sql, (expired_before_s,)).rowcount)

    # -- recommendations -----------------------------------------------------------------------

    async def top_purchased(self, user_id: int, since_s: float, limit: int) -> list[PurchasedRow]:
        args = (user_id, sales_day(since_s), limit)
        return await self._read(lambda c: _dicts(c.execute(_TOP_PURCHASED_SQL, args)))

    async def co_purchased(self, user_id: int, since_s: float, limit: int) -> list[PurchasedRow]:
        args = (user_id, sales_day(since_s), limit)
        return await self._read(lambda c: _dicts(c.execute(_CO_PURCHASED_SQL, args)))

    async def popular_products(self, limit: int) -> list[ProductRow]:
        sql = (
            f"SELECT {_PRODUCT_COLUMNS} FROM products p "
            "JOIN categories c ON c.category_id = p.category_id "
            "WHERE p.status = 'active' AND p.stock > 0 "
            "ORDER BY p.popularity_score DESC, p.price_cents ASC LIMIT ?"
        )
        return await self._read(lambda c: _dicts(c.execute(sql, (limit,))))

    # -- inventory -----------------------------------------------------------------------------

    async def get_stock(self, product_id: int) -> StockRow | None:
        sql = (
            "SELECT p.product_id, p.stock, p.status, "
            "(SELECT COALESCE(SUM(ri.quantity), 0) FROM reservation_items ri "
            " JOIN reservations r ON r.reservation_id = ri.reservation_id "
            " WHERE ri.product_id = p.product_id AND r.status = 'held') AS reserved "
            "FROM products p WHERE p.product_id = ?"
        )

        def run(c: sqlite3.Connection) -> StockRow | None:
            row = c.execute(sql, (product_id,)).fetchone()
            if row is None:
                return None
            return StockRow(
                product_id=row[0],
                stock=row[1],
                status=row[2],
                reserved=row[3],
                availability_status=availability(row[1]),
            )

        return await self._lookup(run)

    async def reserve(
        self, reservation_id: str, lines: list[tuple[int, int]], created_at_s: float
    ) -> ReserveOutcome:
        def run(c: sqlite3.Connection) -> ReserveOutcome:
            # Lines in product order: the same lock order as PostgreSQL, and deterministic.
            stock_after: list[tuple[int, int, int]] = []
            for product_id, quantity in sorted(lines):
                # The guard `stock >= ?` is what makes overselling impossible.
                row = c.execute(
                    "UPDATE products SET stock = stock - ? "
                    "WHERE product_id = ? AND status = 'active' AND stock >= ? RETURNING stock",
                    (quantity, product_id, quantity),
                ).fetchone()
                if row is None:
                    raise _Rollback(_failure(c, product_id))
                stock_after.append((product_id, int(row[0]) + quantity, int(row[0])))
            c.execute(
                "INSERT INTO reservations VALUES (?, 'held', ?)", (reservation_id, created_at_s)
            )
            c.executemany(
                "INSERT INTO reservation_items VALUES (?, ?, ?)",
                [(reservation_id, p, q) for p, q in lines],
            )
            return ReserveOutcome(reserved=True, stock_after=tuple(stock_after))

        try:
            return await self._write(run)
        except _Rollback as failed:
            return failed.outcome

    async def release(self, reservation_id: str) -> tuple[ReleaseOutcome, StockLevels]:
        def run(c: sqlite3.Connection) -> tuple[ReleaseOutcome, StockLevels]:
            held = c.execute(
                "UPDATE reservations SET status = 'released' "
                "WHERE reservation_id = ? AND status = 'held'",
                (reservation_id,),
            ).rowcount
            if held != 1:
                exists = c.execute(
                    "SELECT 1 FROM reservations WHERE reservation_id = ?", (reservation_id,)
                ).fetchone()
                return ("not_held" if exists else "not_found"), []
            return "released", _restore_stock(c, [reservation_id])

        return await self._write(run)

    async def release_expired(self, older_than_s: float) -> StockLevels:
        def run(c: sqlite3.Connection) -> StockLevels:
            ids = [
                r[0]
                for r in c.execute(
                    "UPDATE reservations SET status = 'released' "
                    "WHERE status = 'held' AND created_at < ? RETURNING reservation_id",
                    (older_than_s,),
                )
            ]
            return _restore_stock(c, ids) if ids else []

        return await self._write(run)

    async def restock(self, below: int, quantity: int) -> StockLevels:
        def run(c: sqlite3.Connection) -> StockLevels:
            rows = c.execute(
                "UPDATE products SET stock = stock + ? "
                "WHERE status = 'active' AND stock < ? RETURNING product_id, stock",
                (quantity, below),
            ).fetchall()
            return [(int(p), int(after) - quantity, int(after)) for p, after in rows]

        return await self._write(run)

    async def units_sold_since(self, product_id: int, since_s: float) -> int:
        sql = "SELECT COALESCE(SUM(units), 0) FROM product_sales WHERE product_id = ? AND day >= ?"
        args = (product_id, sales_day(since_s))
        return await self._lookup(lambda c: int(c.execute(sql, args).fetchone()[0]))

    # -- cart ----------------------------------------------------------------------------------

    async def cart_items(self, user_id: int) -> list[CartRow]:
        sql = (
            "SELECT ci.product_id, p.name, ci.quantity, p.price_cents, p.stock, p.status "
            "FROM cart_items ci JOIN products p ON p.product_id = ci.product_id "
            "WHERE ci.user_id = ? ORDER BY ci.product_id"
        )
        return await self._lookup(lambda c: _dicts(c.execute(sql, (user_id,))))

    async def add_cart_item(
        self, user_id: int, product_id: int, quantity: int, max_quantity: int, max_lines: int
    ) -> CartAdd:
        # one write transaction: the line count and the insert cannot interleave with another
        # add to the same cart (the single writer), and the cart is not read back row by row
        def run(c: sqlite3.Connection) -> CartAdd:
            present = c.execute(
                "SELECT 1 FROM cart_items WHERE user_id = ? AND product_id = ?",
                (user_id, product_id),
            ).fetchone()
            if present is None:
                lines = c.execute(
                    "SELECT COUNT(*) FROM cart_items WHERE user_id = ?", (user_id,)
                ).fetchone()[0]
                if lines >= max_lines:
                    return "cart_full"
            row = c.execute(
                "INSERT INTO cart_items VALUES (?, ?, ?) "
                "ON CONFLICT (user_id, product_id) DO UPDATE "
                "SET quantity = quantity + excluded.quantity "
                "WHERE quantity + excluded.quantity <= ? RETURNING quantity",
                (user_id, product_id, quantity, max_quantity),
            ).fetchone()
            return "quantity_limit" if row is None else int(row[0])

        return await self._write(run)

    async def remove_cart_item(self, user_id: int, product_id: int) -> bool:
        sql = "DELETE FROM cart_items WHERE user_id = ? AND product_id = ?"
        return await self._write(lambda c: c.execute(sql, (user_id, product_id)).rowcount == 1)

    # -- orders --------------------------------------------------------------------------------

    async def create_order(self, order: NewOrder) -> OrderOutcome:
        def run(c: sqlite3.Connection) -> OrderOutcome:
            paid = c.execute(
                "SELECT order_id FROM orders WHERE payment_id = ?", (order.payment_id,)
            ).fetchone()
            if paid is not None:
                return "duplicate_payment", int(paid[0])
            committed = c.execute(
                "UPDATE reservations SET status = 'committed' "
                "WHERE reservation_id = ? AND status = 'held'",
                (order.reservation_id,),
            ).rowcount
            if committed != 1:
                return "reservation_not_held", None  # expired: its stock is no longer ours
            order_id = int(
                c.execute(
                    "INSERT INTO orders (user_id, status, total_cents, payment_id, "
                    "reservation_id, created_at) VALUES (?, 'confirmed', ?, ?, ?, ?) "
                    "RETURNING order_id",
                    (
                        order.user_id,
                        order.total_cents,
                        order.payment_id,
                        order.reservation_id,
                        order.created_at_s,
                    ),
                ).fetchone()[0]
            )
            c.executemany(
                "INSERT INTO order_items VALUES (?, ?, ?, ?)",
                [(order_id, p, q, price) for p, q, price in order.lines],
            )
            c.executemany(
                "INSERT INTO co_purchases VALUES (?, ?, 1) ON CONFLICT (product_id, other_id) "
                "DO UPDATE SET orders = orders + 1",
                co_purchase_pairs(order),
            )
            c.executemany(
                "INSERT INTO product_sales VALUES (?, ?, ?) ON CONFLICT (product_id, day) "
                "DO UPDATE SET units = units + excluded.units",
                sales_rows(order),
            )
            c.executemany(
                "INSERT INTO user_purchases VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id, day, product_id) DO UPDATE SET "
                "units = units + excluded.units, last_at = MAX(last_at, excluded.last_at)",
                [(*row, order.created_at_s) for row in user_purchase_rows(order)],
            )
            c.executemany(
                "DELETE FROM cart_items WHERE user_id = ? AND product_id = ?",
                [(order.user_id, p) for p, _, _ in order.lines],
            )
            c.execute(
                "UPDATE payments SET order_id = ? WHERE payment_id = ?",
                (order_id, order.payment_id),
            )
            return "created", order_id

        return await self._write(run)

    async def get_order(self, order_id: int) -> OrderRow | None:
        def run(c: sqlite3.Connection) -> OrderRow | None:
            rows = _orders(c, "o.order_id = ?", (order_id,))
            return rows[0] if rows else None

        return await self._lookup(run)

    async def user_orders(self, user_id: int, limit: int) -> list[OrderRow]:
        return await self._lookup(
            lambda c: _orders(c, "o.user_id = ?", (user_id,), "o.created_at DESC", limit)
        )

    async def count_orders(self) -> int:
        return await self._lookup(
            lambda c: int(c.execute("SELECT COUNT(*) FROM orders").fetchone()[0])
        )

    # -- payments ------------------------------------------------------------------------------

    async def claim_payment(self, claim: PaymentClaim) -> PaymentRow | None:
        def run(c: sqlite3.Connection) -> PaymentRow | None:
            inserted = c.execute(
                "INSERT INTO payments (payment_id, idempotency_key, request_hash, status, "
                "amount_cents, currency, user_id, order_id, created_at) "
                "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?) "
                "ON CONFLICT (idempotency_key) DO NOTHING",
                (
                    claim.payment_id,
                    claim.idempotency_key,
                    claim.request_hash,
                    claim.amount_cents,
                    claim.currency,
                    claim.user_id,
                    claim.order_id,
                    claim.created_at_s,
                ),
            ).rowcount
            if inserted == 1:
                return None
            return _payment(c, claim.idempotency_key or "")

        return await self._write(run)

    async def take_over_payment(self, claim: PaymentClaim, claimed_before_s: float) -> bool:
        """Re-claims a pending claim made before `claimed_before_s` (its process died).

        One statement, guarded on the claim still pending, still that old and for the same
        body: of concurrent takers exactly one matches. The new payment id fences off the
        old claimer, should it wake up: its `complete_payment` matches no row.
        """
        sql = (
            "UPDATE payments SET payment_id = ?, created_at = ? "
            "WHERE idempotency_key = ? AND request_hash = ? AND status = 'pending' "
            "AND created_at < ?"
        )
        args = (
            claim.payment_id,
            claim.created_at_s,
            claim.idempotency_key,
            claim.request_hash,
            claimed_before_s,
        )
        return await self._write(lambda c: c.execute(sql, args).rowcount == 1)

    async def complete_payment(
        self, payment_id: str, status: str, response_status: int, response: dict[str, Any]
    ) -> None:
        body = orjson.dumps(response).decode()
        sql = (
            "UPDATE payments SET status = ?, response_status = ?, response = ? WHERE payment_id = ?"
        )
        await self._write(lambda c: c.execute(sql, (status, response_status, body, payment_id)))

    async def get_payment(self, idempotency_key: str) -> PaymentRow | None:
        return await self._lookup(lambda c: _payment(c, idempotency_key))

    async def count_payments(self, idempotency_key: str) -> int:
        sql = "SELECT COUNT(*) FROM payments WHERE idempotency_key = ?"
        return await self._lookup(lambda c: int(c.execute(sql, (idempotency_key,)).fetchone()[0]))

    # -- preferences ---------------------------------------------------------------------------

    async def get_preferences(self, user_id: int) -> dict[str, Any] | None:
        def run(c: sqlite3.Connection) -> dict[str, Any] | None:
            row = c.execute("SELECT data FROM preferences WHERE user_id = ?", (user_id,)).fetchone()
            return None if row is None else dict(orjson.loads(row[0]))

        return await self._lookup(run)

    async def put_preferences(
        self, user_id: int, preferences: dict[str, Any], updated_at_s: float
    ) -> None:
        body = orjson.dumps(preferences).decode()
        sql = (
            "INSERT INTO preferences VALUES (?, ?, ?) ON CONFLICT (user_id) "
            "DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at"
        )
        await self._write(lambda c: c.execute(sql, (user_id, body, updated_at_s)))


class _Rollback(Exception):
    def __init__(self, outcome: ReserveOutcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


def connect_sqlite(path: str) -> sqlite3.Connection:
    """Opens a connection tuned for this workload; statements run in autocommit mode."""
    # Every statement here is a fixed string: the statement cache keeps each one prepared.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=10.0, cached_statements=256
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -16000")
    conn.execute("PRAGMA mmap_size = 134217728")
    return conn


def _dict(row: sqlite3.Row) -> dict[str, Any]:
    return dict(zip(row.keys(), row, strict=True))


def _dicts(cursor: sqlite3.Cursor) -> list[Any]:
    return [_dict(row) for row in cursor]


def _one(cursor: sqlite3.Cursor) -> Any:
    row = cursor.fetchone()
    return None if row is None else _dict(row)


def _failure(c: sqlite3.Connection, product_id: int) -> ReserveOutcome:
    row = c.execute(
        "SELECT stock, status FROM products WHERE product_id = ?", (product_id,)
    ).fetchone()
    if row is None:
        return ReserveOutcome(False, product_id, "unknown_product")
    if row[1] != "active":
        return ReserveOutcome(False, product_id, "inactive_product")
    return ReserveOutcome(False, product_id, "insufficient_stock", int(row[0]))


def _restore_stock(c: sqlite3.Connection, reservation_ids: list[str]) -> StockLevels:
    released: dict[int, int] = {}
    # In batches: SQLite caps the number of bound parameters of one statement.
    for start in range(0, len(reservation_ids), _BATCH):
        batch = reservation_ids[start : start + _BATCH]
        for product_id, quantity in c.execute(
            "SELECT product_id, SUM(quantity) FROM reservation_items "
            f"WHERE reservation_id IN ({','.join('?' * len(batch))}) GROUP BY product_id",
            batch,
        ):
            released[product_id] = released.get(product_id, 0) + quantity
    levels: StockLevels = []
    for product_id, quantity in sorted(released.items()):
        after = int(c.execute(_RESTORE_SQL, (quantity, product_id)).fetchone()[0])
        levels.append((int(product_id), after - quantity, after))
    return levels


_BATCH = 500
_RESTORE_SQL = "UPDATE products SET stock = stock + ? WHERE product_id = ? RETURNING stock"


def _orders(
    c: sqlite3.Connection,
    where: str,
    args: tuple[Any, ...],
    order_by: str = "o.order_id",
    limit: int = 1,
) -> list[OrderRow]:
    heads = c.execute(
        "SELECT o.order_id, o.user_id, o.status, o.total_cents, o.payment_id, o.created_at "
        f"FROM orders o WHERE {where} ORDER BY {order_by} LIMIT ?",
        (*args, limit),
    ).fetchall()
    if not heads:
        return []
    ids = [h[0] for h in heads]
    items: dict[int, list[OrderItemRow]] = {i: [] for i in ids}
    for r in c.execute(
        "SELECT oi.order_id, oi.product_id, p.name, oi.quantity, oi.unit_price_cents "
        "FROM order_items oi JOIN products p ON p.product_id = oi.product_id "
        f"WHERE oi.order_id IN ({','.join('?' * len(ids))}) ORDER BY oi.order_id, oi.product_id",
        ids,
    ):
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
            created_at=iso_from_epoch(h[5]),
            items=items[h[0]],
        )
        for h in heads
    ]


def _payment(c: sqlite3.Connection, idempotency_key: str) -> PaymentRow | None:
    row = c.execute(
        "SELECT payment_id, idempotency_key, request_hash, status, response_status, response, "
        "created_at FROM payments WHERE idempotency_key = ?",
        (idempotency_key,),
    ).fetchone()
    if row is None:
        return None
    return PaymentRow(
        payment_id=row[0],
        idempotency_key=row[1],
        request_hash=row[2],
        status=row[3],
        response_status=row[4],
        response=None if row[5] is None else orjson.loads(row[5]),
        created_at_s=row[6],
    )
