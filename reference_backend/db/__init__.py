"""The database every agent shares: embedded SQLite by default, PostgreSQL by URL.

    Database (protocol, _types.py)
    ├── SqliteDatabase    WAL file, FTS5 search, reader threads; writes inline (one worker)
    │                     or on one writer thread (several)
    └── PostgresDatabase  asyncpg pool, tsvector + GIN search

`prepare_database` (through `prepare_sqlite` / `prepare_postgres`) creates the schema and
seeds it once (before workers fork); `open_database` opens the one each process uses.
"""

from __future__ import annotations

from reference_backend.db._postgres import PostgresDatabase
from reference_backend.db._prepare import (
    fingerprint,
    prepare_database,
    prepare_postgres,
    prepare_sqlite,
)
from reference_backend.db._sqlite import SqliteDatabase
from reference_backend.db._types import (
    PARTNERS_PER_PRODUCT,
    RECENT_PRODUCTS,
    CartAdd,
    CartRow,
    CategoryRow,
    Database,
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
)
from reference_backend.settings import Settings

__all__ = [
    "PARTNERS_PER_PRODUCT",
    "RECENT_PRODUCTS",
    "CartAdd",
    "CartRow",
    "CategoryRow",
    "Database",
    "NewOrder",
    "OrderItemRow",
    "OrderOutcome",
    "OrderRow",
    "PaymentClaim",
    "PaymentRow",
    "PoolGauge",
    "PostgresDatabase",
    "ProductQuery",
    "ProductRow",
    "ProductSummaryRow",
    "PurchasedRow",
    "ReleaseOutcome",
    "ReserveOutcome",
    "SqliteDatabase",
    "StockLevels",
    "StockRow",
    "availability",
    "fingerprint",
    "open_database",
    "prepare_database",
    "prepare_postgres",
    "prepare_sqlite",
]


async def open_database(settings: Settings, gauge: PoolGauge | None = None) -> Database:
    """Opens the database `settings` names; SQLite needs `settings.sqlite_path` prepared."""
    if settings.database_url is not None:
        return await PostgresDatabase.connect(settings.database_url, gauge=gauge)
    if settings.sqlite_path is None:
        raise ValueError("settings.sqlite_path is not set: call prepare_database(settings) first")
    # one worker owns the file: its writes need not wait for another process's (see _sqlite)
    return SqliteDatabase(settings.sqlite_path, gauge=gauge, inline_writes=settings.workers == 1)
