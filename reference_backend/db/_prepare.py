"""Creates the schema and seeds the data once, before any worker opens the database."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import os
import sqlite3
import tempfile
import time

import asyncpg

from reference_backend.datagen import generate
from reference_backend.db import _postgres_schema, _sqlite_schema
from reference_backend.db._sqlite import connect_sqlite
from reference_backend.settings import Settings

SCHEMA_VERSION = 7
_PREPARE_LOCK_ID = 7_318_246  # pg_advisory_lock key: one preparer at a time per server


def fingerprint(settings: Settings) -> str:
    """Identifies the seeded data; a database with another fingerprint is seeded again."""
    return (
        f"schema={SCHEMA_VERSION};seed={settings.seed};"
        f"catalog_size={settings.catalog_size};users={settings.users}"
    )


def prepare_sqlite(path: str, settings: Settings) -> bool:
    """Creates and seeds the SQLite file unless it already holds this data; True if seeded."""
    conn = connect_sqlite(path)
    try:
        conn.execute("BEGIN IMMEDIATE")  # one preparer at a time per file
        current = _sqlite_fingerprint(conn)
        conn.execute("COMMIT")
        if current == fingerprint(settings):
            return False
        for table in _sqlite_schema.TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.executescript(_sqlite_schema.SCHEMA)
        data = generate(
            seed=settings.seed,
            catalog_size=settings.catalog_size,
            users=settings.users,
            now_s=time.time(),
        )
        _sqlite_schema.seed_sqlite(conn, data, fingerprint(settings))
        return True
    finally:
        conn.close()


def _sqlite_fingerprint(conn: sqlite3.Connection) -> str | None:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if exists is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    return None if row is None else str(row[0])


async def prepare_postgres(url: str, settings: Settings) -> bool:
    """Creates and seeds the PostgreSQL schema unless it already holds this data."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _PREPARE_LOCK_ID)
        try:
            has_meta = await conn.fetchval("SELECT to_regclass('meta') IS NOT NULL")
            current = (
                await conn.fetchval("SELECT value FROM meta WHERE key = 'fingerprint'")
                if has_meta
                else None
            )
            if current == fingerprint(settings):
                return False
            data = generate(
                seed=settings.seed,
                catalog_size=settings.catalog_size,
                users=settings.users,
                now_s=time.time(),
            )
            async with conn.transaction():
                await conn.execute(_postgres_schema.DROP)
                await conn.execute(_postgres_schema.SCHEMA)
                for table, (columns, rows) in _postgres_schema.seed_rows(data).items():
                    await conn.copy_records_to_table(table, records=rows, columns=columns)
                await conn.execute(_postgres_schema.CO_PURCHASES_FROM_HISTORY)
                await conn.execute(_postgres_schema.PRODUCT_SALES_FROM_HISTORY)
                await conn.execute(_postgres_schema.USER_PURCHASES_FROM_HISTORY)
                await conn.execute(_postgres_schema.INDEXES)
                await conn.execute(
                    "SELECT setval(pg_get_serial_sequence('orders', 'order_id'), "
                    "GREATEST((SELECT MAX(order_id) FROM orders), 1))"
                )
                await conn.execute(
                    "INSERT INTO meta VALUES ('fingerprint', $1)", fingerprint(settings)
                )
            await conn.execute("ANALYZE")
            return True
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _PREPARE_LOCK_ID)
    finally:
        await conn.close()


def prepare_database(settings: Settings) -> Settings:
    """Creates the schema and seeds it once; returns the settings with `sqlite_path` set.

    Without a database URL or SQLite path the data goes to a fresh temporary file that is
    removed when this process exits.
    """
    if settings.database_url is not None:
        asyncio.run(prepare_postgres(settings.database_url, settings))
        return settings
    path = settings.sqlite_path or _temporary_sqlite_path()
    prepare_sqlite(path, settings)
    return dataclasses.replace(settings, sqlite_path=path)


def _temporary_sqlite_path() -> str:
    directory = tempfile.mkdtemp(prefix="perfctl-db-")
    path = os.path.join(directory, "shop.db")

    def remove() -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + suffix)
        with contextlib.suppress(OSError):
            os.rmdir(directory)

    atexit.register(remove)
    return path
