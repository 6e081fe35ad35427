"""The SQLite schema and the bulk load of the seeded data."""

from __future__ import annotations

import sqlite3

from reference_backend.datagen import SeedData

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS categories (
    category_id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
    product_id INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES categories (category_id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    popularity_score REAL NOT NULL,
    stock INTEGER NOT NULL CHECK (stock >= 0),
    status TEXT NOT NULL,
    image_url TEXT NOT NULL
);
-- Serves the seed's first query: category + status filter, popularity then price order.
CREATE INDEX IF NOT EXISTS products_category_popularity
    ON products (category_id, status, popularity_score DESC, price_cents);
CREATE INDEX IF NOT EXISTS products_popularity
    ON products (status, popularity_score DESC, price_cents);
CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5 (
    name, description, content='products', content_rowid='product_id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE TABLE IF NOT EXISTS users (
    user_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (user_id),
    status TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    payment_id TEXT UNIQUE,
    reservation_id TEXT UNIQUE,
    created_at REAL NOT NULL
);
-- Serves the seed's second query: one user's orders of the last 30 days.
CREATE INDEX IF NOT EXISTS orders_user_created ON orders (user_id, created_at);
CREATE TABLE IF NOT EXISTS order_items (
    order_id INTEGER NOT NULL REFERENCES orders (order_id),
    product_id INTEGER NOT NULL REFERENCES products (product_id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
) WITHOUT ROWID;
-- Serves co-purchases (orders that contain a product) and units sold per product.
CREATE INDEX IF NOT EXISTS order_items_product ON order_items (product_id, order_id);
-- Orders that hold both products, per ordered pair (item-to-item co-occurrence): "bought
-- together" reads a user's products' rows here instead of joining every order of those
-- products with its other lines, a scan that grows with every order placed.
CREATE TABLE IF NOT EXISTS co_purchases (
    product_id INTEGER NOT NULL,
    other_id INTEGER NOT NULL,
    orders INTEGER NOT NULL CHECK (orders > 0),
    PRIMARY KEY (product_id, other_id)
) WITHOUT ROWID;
-- A product's most frequent partners first: "bought together" reads a bounded number.
CREATE INDEX IF NOT EXISTS co_purchases_top ON co_purchases (product_id, orders DESC, other_id);
-- Units each user bought of each product per UTC day, and when last: "buy again" and the
-- start of "bought together" read the user's rows here instead of every line of every order
-- the user placed in the window (which grows with each order: 4x in 90,000 orders).
CREATE TABLE IF NOT EXISTS user_purchases (
    user_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    units INTEGER NOT NULL CHECK (units > 0),
    last_at REAL NOT NULL,
    PRIMARY KEY (user_id, day, product_id)
) WITHOUT ROWID;
-- Units sold per product and UTC day: pricing's demand window sums at most 8 rows here
-- instead of every order line of the product in the window (which grows with each order).
CREATE TABLE IF NOT EXISTS product_sales (
    product_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    units INTEGER NOT NULL CHECK (units > 0),
    PRIMARY KEY (product_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reservations (
    reservation_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_held ON reservations (status, created_at);
CREATE TABLE IF NOT EXISTS reservation_items (
    reservation_id TEXT NOT NULL REFERENCES reservations (reservation_id),
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (reservation_id, product_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reservation_items_product ON reservation_items (product_id);
CREATE TABLE IF NOT EXISTS cart_items (
    user_id INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (user_id, product_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    order_id INTEGER,
    response_status INTEGER,
    response TEXT,
    created_at REAL NOT NULL
);
-- Login sessions: the SHA-256 of the opaque token (a stolen copy of the table logs no one
-- in), its user and when it expires. Every worker and agent process reads the same rows.
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS preferences (
    user_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

# Created after the bulk load: indexing 100k rows one trigger at a time takes ~10x longer
# than one FTS 'rebuild' at the end.
TRIGGERS = (
    """
CREATE TRIGGER IF NOT EXISTS products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, description)
    VALUES (new.product_id, new.name, new.description);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description)
    VALUES ('delete', old.product_id, old.name, old.description);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS products_fts_update AFTER UPDATE OF name, description ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description)
    VALUES ('delete', old.product_id, old.name, old.description);
    INSERT INTO products_fts (rowid, name, description)
    VALUES (new.product_id, new.name, new.description);
END
""",
)

CO_PURCHASES_FROM_HISTORY = """
INSERT INTO co_purchases
SELECT a.product_id, b.product_id, COUNT(*)
FROM order_items a JOIN order_items b ON b.order_id = a.order_id AND b.product_id <> a.product_id
GROUP BY a.product_id, b.product_id
"""

PRODUCT_SALES_FROM_HISTORY = """
INSERT INTO product_sales
SELECT oi.product_id, CAST(o.created_at / 86400 AS INTEGER), SUM(oi.quantity)
FROM order_items oi JOIN orders o ON o.order_id = oi.order_id
GROUP BY 1, 2
"""

USER_PURCHASES_FROM_HISTORY = """
INSERT INTO user_purchases
SELECT o.user_id, CAST(o.created_at / 86400 AS INTEGER), oi.product_id, SUM(oi.quantity),
       MAX(o.created_at)
FROM order_items oi JOIN orders o ON o.order_id = oi.order_id
GROUP BY 1, 2, 3
"""

TABLES = (
    "sessions",
    "preferences",
    "payments",
    "cart_items",
    "reservation_items",
    "reservations",
    "co_purchases",
    "product_sales",
    "user_purchases",
    "order_items",
    "orders",
    "users",
    "products_fts",
    "products",
    "categories",
    "meta",
)


def seed_sqlite(conn: sqlite3.Connection, data: SeedData, fingerprint: str) -> None:
    """Loads the seeded rows in one transaction with bulk inserts."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("INSERT INTO categories VALUES (?, ?, ?)", data.categories)
        conn.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", data.products)
        conn.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)", data.users)
        conn.executemany(
            "INSERT INTO orders (order_id, user_id, status, total_cents, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            data.orders,
        )
        conn.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?)", data.order_items)
        conn.execute(CO_PURCHASES_FROM_HISTORY)
        conn.execute(PRODUCT_SALES_FROM_HISTORY)
        conn.execute(USER_PURCHASES_FROM_HISTORY)
        conn.execute("INSERT INTO products_fts (products_fts) VALUES ('rebuild')")
        for trigger in TRIGGERS:
            conn.execute(trigger)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("ANALYZE")
