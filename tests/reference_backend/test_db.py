"""The two databases answer the same queries the same way (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reference_backend.db import (
    PARTNERS_PER_PRODUCT,
    Database,
    NewOrder,
    PaymentClaim,
    ProductQuery,
    open_database,
    prepare_database,
)
from reference_backend.db import _sqlite as sqlite_module
from reference_backend.settings import Settings
from tests.reference_backend.conftest import TEST_SETTINGS, postgres_database

ALL_PRICES = (0, 10**9)


@pytest.fixture(
    params=[
        "sqlite",
        "sqlite-writer-thread",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Each database in turn; SQLite both ways it writes: inline (the only process writing
    the file, one worker) and on its writer thread (several workers share the file)."""
    if request.param.startswith("sqlite"):
        workers = 2 if request.param == "sqlite-writer-thread" else 1
        sqlite_path = str(tmp_path / "shop.db")
        yield dataclasses.replace(TEST_SETTINGS, sqlite_path=sqlite_path, workers=workers)
        return
    with postgres_database() as url:
        yield dataclasses.replace(TEST_SETTINGS, database_url=url)


def run(settings: Settings, body: Callable[[Database], Awaitable[Any]]) -> Any:
    prepared = prepare_database(settings)

    async def main() -> Any:
        db = await open_database(prepared)
        try:
            return await body(db)
        finally:
            await db.close()

    return asyncio.run(main())


async def _stock(db: Database, product_id: int) -> int:
    row = await db.get_stock(product_id)
    assert row is not None
    return row["stock"]


async def _status(db: Database, product_id: int) -> str:
    row = await db.get_product(product_id)
    assert row is not None
    return row["status"]


def test_search_orders_by_popularity_then_price_and_filters(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        rows = await db.search_products(ProductQuery((), 2, 1000, 5000, 50, 0))
        assert rows, "the seeded catalog has products in category 2 between $10 and $50"
        assert all(r["category_id"] == 2 and 1000 <= r["price_cents"] <= 5000 for r in rows)
        keys = [(-r["popularity_score"], r["price_cents"]) for r in rows]
        assert keys == sorted(keys)
        assert {r["availability_status"] for r in rows} <= {"in_stock", "out_of_stock"}

    run(any_settings, body)


def test_search_returns_active_products_only(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        rows = await db.search_products(ProductQuery((), None, *ALL_PRICES, 1000, 0))
        statuses = {await _status(db, r["product_id"]) for r in rows}
        assert statuses == {"active"}

    run(any_settings, body)


def test_full_text_search_matches_word_prefixes(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        rows = await db.search_products(ProductQuery(("headph",), None, *ALL_PRICES, 100, 0))
        assert rows
        assert all("headphones" in r["name"].lower() for r in rows)
        none = await db.search_products(ProductQuery(("zzzqqq",), None, *ALL_PRICES, 10, 0))
        assert none == []

    run(any_settings, body)


def test_pages_do_not_overlap(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        first = await db.search_products(ProductQuery((), None, *ALL_PRICES, 10, 0))
        second = await db.search_products(ProductQuery((), None, *ALL_PRICES, 10, 10))
        assert len(first) == len(second) == 10
        assert not {r["product_id"] for r in first} & {r["product_id"] for r in second}

    run(any_settings, body)


def test_reserve_is_all_or_nothing(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        stock = await db.get_stock(1)
        assert stock is not None
        too_many = stock["stock"] + 1
        before_2 = await _stock(db, 2)
        outcome = await db.reserve("r-fail", [(2, 1), (1, too_many)], time.time())
        assert not outcome.reserved
        assert outcome.product_id == 1
        assert outcome.reason == "insufficient_stock"
        assert await _stock(db, 2) == before_2  # line 2 rolled back

    run(any_settings, body)


def test_release_returns_stock_exactly_once(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        before = await _stock(db, 3)
        outcome = await db.reserve("r1", [(3, 2)], time.time())
        assert outcome.reserved
        assert outcome.stock_after == ((3, before, before - 2),)
        held = await db.get_stock(3)
        assert held is not None
        assert held["reserved"] == 2
        assert await db.release("r1") == ("released", [(3, before - 2, before)])
        assert await db.release("r1") == ("not_held", [])
        assert await db.release("missing") == ("not_found", [])
        assert await _stock(db, 3) == before

    run(any_settings, body)


def test_unknown_and_inactive_products_cannot_be_reserved(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        unknown = await db.reserve("r-unknown", [(999_999, 1)], time.time())
        assert unknown.reason == "unknown_product"
        inactive = 0
        for product_id in range(1, 401):
            if await _status(db, product_id) != "active":
                inactive = product_id
                break
        assert inactive, "the seeded catalog has products that are not for sale"
        outcome = await db.reserve("r-inactive", [(inactive, 1)], time.time())
        assert outcome.reason == "inactive_product"

    run(any_settings, body)


def test_expired_reservations_are_released(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        before = await _stock(db, 4)
        await db.reserve("old", [(4, 1)], time.time() - 3600)
        assert await db.release_expired(time.time() - 60) == [(4, before - 1, before)]
        assert await db.release("old") == ("not_held", [])

    run(any_settings, body)


def test_order_commits_reservation_and_clears_cart(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        assert await db.add_cart_item(5, 6, 2, 100, 50) == 2
        # would pass the line's limit
        assert await db.add_cart_item(5, 6, 99, 100, 50) == "quantity_limit"
        await db.reserve("r-order", [(6, 2)], time.time())
        order = NewOrder(5, "r-order", "pay-1", 500, ((6, 2, 250),), time.time())
        status, order_id = await db.create_order(order)
        assert status == "created"
        assert order_id is not None
        row = await db.get_order(order_id)
        assert row is not None
        assert row["items"][0]["quantity"] == 2
        assert row["total_cents"] == 500
        assert row["payment_id"] == "pay-1"
        assert await db.cart_items(5) == []
        assert await db.create_order(order) == ("duplicate_payment", order_id)
        again = NewOrder(5, "r-order", "pay-2", 500, ((6, 2, 250),), time.time())
        assert await db.create_order(again) == ("reservation_not_held", None)

    run(any_settings, body)


def test_payment_claim_is_unique_per_key(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        claim = PaymentClaim("pay-a", "key-1", "hash", 100, "USD", 1, None, time.time())
        assert await db.claim_payment(claim) is None
        second = PaymentClaim("pay-b", "key-1", "hash", 100, "USD", 1, None, time.time())
        existing = await db.claim_payment(second)
        assert existing is not None
        assert existing["payment_id"] == "pay-a"
        assert existing["status"] == "pending"
        await db.complete_payment("pay-a", "approved", 201, {"payment_id": "pay-a"})
        done = await db.get_payment("key-1")
        assert done is not None
        assert done["response"] == {"payment_id": "pay-a"}
        assert await db.count_payments("key-1") == 1

    run(any_settings, body)


def test_a_stale_pending_claim_is_taken_over_once(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        now_s = time.time()
        lease_s = 30.0
        stale = PaymentClaim("pay-dead", "key-s", "hash", 100, "USD", 1, None, now_s - 3600)
        assert await db.claim_payment(stale) is None
        other_body = PaymentClaim("pay-x", "key-s", "other", 100, "USD", 1, None, now_s)
        assert not await db.take_over_payment(other_body, now_s - lease_s)
        taker = PaymentClaim("pay-new", "key-s", "hash", 100, "USD", 1, None, now_s)
        assert await db.take_over_payment(taker, now_s - lease_s)
        row = await db.get_payment("key-s")
        assert row is not None
        assert (row["payment_id"], row["status"]) == ("pay-new", "pending")
        assert row["created_at_s"] == pytest.approx(now_s)
        late = PaymentClaim("pay-late", "key-s", "hash", 100, "USD", 1, None, now_s)
        assert not await db.take_over_payment(late, now_s - lease_s)  # now a live claim
        await db.complete_payment("pay-dead", "approved", 201, {"payment_id": "pay-dead"})
        row = await db.get_payment("key-s")
        assert row is not None
        assert (row["payment_id"], row["status"]) == ("pay-new", "pending")  # fenced off
        await db.complete_payment("pay-new", "approved", 201, {"payment_id": "pay-new"})
        assert not await db.take_over_payment(late, now_s + 1)  # done claims stay done
        assert await db.count_payments("key-s") == 1

    run(any_settings, body)


def test_concurrent_takeovers_of_one_stale_claim_let_exactly_one_win(
    any_settings: Settings,
) -> None:
    async def body(db: Database) -> None:
        now_s = time.time()
        stale = PaymentClaim("pay-dead", "key-c", "hash", 100, "USD", 1, None, now_s - 3600)
        assert await db.claim_payment(stale) is None
        takers = [
            PaymentClaim(f"pay-{n}", "key-c", "hash", 100, "USD", 1, None, now_s) for n in range(20)
        ]
        won = await asyncio.gather(*(db.take_over_payment(t, now_s - 30) for t in takers))
        assert won.count(True) == 1
        row = await db.get_payment("key-c")
        assert row is not None
        assert row["payment_id"] == takers[won.index(True)].payment_id

    run(any_settings, body)


def test_recommendation_queries_use_recent_history(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        since = time.time() - 30 * 86_400
        buyers = [u for u in range(1, 61) if await db.top_purchased(u, since, 5)]
        assert buyers, "some seeded users bought something in the last 30 days"
        user = buyers[0]
        own = await db.top_purchased(user, since, 5)
        counts = [r["total_purchased"] for r in own]
        assert counts == sorted(counts, reverse=True)
        assert counts[0] > 0
        together = await db.co_purchased(user, since, 5)
        assert not {r["product_id"] for r in together} & {r["product_id"] for r in own}
        assert await db.top_purchased(user, time.time() + 86_400, 5) == []  # from tomorrow on

    run(any_settings, body)


def test_a_full_cart_takes_more_of_its_products_but_no_new_one(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        assert await db.add_cart_item(9, 1, 1, 100, 2) == 1
        assert await db.add_cart_item(9, 2, 1, 100, 2) == 1
        assert await db.add_cart_item(9, 3, 1, 100, 2) == "cart_full"
        assert await db.add_cart_item(9, 2, 4, 100, 2) == 5  # a product already in it
        assert [row["product_id"] for row in await db.cart_items(9)] == [1, 2]
        assert await db.add_cart_item(10, 3, 1, 100, 2) == 1  # another user's cart

    run(any_settings, body)


def test_units_sold_count_orders_from_the_windows_first_day_on(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        now = time.time()
        week_ago = now - 7 * 86_400
        before = await db.units_sold_since(6, week_ago)
        await db.reserve("r-sold", [(6, 3)], now)
        order = NewOrder(11, "r-sold", "pay-sold", 300, ((6, 3, 100),), now)
        assert (await db.create_order(order))[0] == "created"
        assert await db.units_sold_since(6, week_ago) == before + 3
        assert await db.units_sold_since(6, now + 2 * 86_400) == 0  # a window after it
        # the seeded history (90 days) sold more in 90 days than in the last 7
        assert await db.units_sold_since(6, now - 90 * 86_400) >= before + 3

    run(any_settings, body)


def test_an_order_counts_once_toward_bought_together(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        since = time.time() - 30 * 86_400
        buyers = [u for u in range(1, 61) if await db.top_purchased(u, since, 5)]
        buyer = buyers[0]
        mine = {r["product_id"] for r in await db.top_purchased(buyer, since, 50)}
        bought = min(mine)
        other = next(
            p["product_id"] for p in await db.popular_products(200) if p["product_id"] not in mine
        )

        async def together() -> dict[int, int]:
            rows = await db.co_purchased(buyer, since, 2_000)
            return {r["product_id"]: r["total_purchased"] for r in rows}

        before = await together()
        await db.reserve("r-together", [(bought, 1), (other, 1)], time.time())
        lines = ((bought, 1, 100), (other, 1, 100))
        order = NewOrder(buyer + 1, "r-together", "pay-together", 200, lines, time.time())
        assert (await db.create_order(order))[0] == "created"
        after = await together()
        # another customer bought `other` with one of the buyer's products: one more order
        assert after[other] == before.get(other, 0) + 1
        assert mine.isdisjoint(after)
        unchanged = {p: n for p, n in after.items() if p != other}
        assert unchanged == {p: n for p, n in before.items() if p != other and p in after}

    run(any_settings, body)


def test_an_order_adds_its_units_to_the_buyers_recent_purchases(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        since = time.time() - 30 * 86_400

        async def bought(user_id: int) -> dict[int, int]:
            rows = await db.top_purchased(user_id, since, 50)
            return {r["product_id"]: r["total_purchased"] for r in rows}

        before = await bought(12)
        product = next(
            p["product_id"] for p in await db.popular_products(50) if p["product_id"] not in before
        )
        await db.reserve("r-units", [(product, 3)], time.time())
        order = NewOrder(12, "r-units", "pay-units", 300, ((product, 3, 100),), time.time())
        assert (await db.create_order(order))[0] == "created"
        after = await bought(12)
        assert after[product] == 3
        assert {p: n for p, n in after.items() if p != product} == before  # nothing else moved
        assert product not in await bought(13)  # another user's history

    run(any_settings, body)


def test_bought_together_reads_a_bounded_number_of_partners(any_settings: Settings) -> None:
    """Its cost must not grow with the orders placed: a product bought with 25 others yields
    at most PARTNERS_PER_PRODUCT of them, its most frequent."""

    async def body(db: Database) -> None:
        since = time.time()
        stocked = [p["product_id"] for p in await db.popular_products(60)]
        product, partners = stocked[0], stocked[1:26]
        for i, partner in enumerate(partners):
            for copy in range(2 if i < PARTNERS_PER_PRODUCT else 1):  # the first 20 twice
                key = f"bound-{i}-{copy}"
                await db.reserve(key, [(product, 1), (partner, 1)], time.time())
                lines = ((product, 1, 100), (partner, 1, 100))
                placed = await db.create_order(NewOrder(30, key, key, 200, lines, time.time()))
                assert placed[0] == "created"
        await db.reserve("bound-buyer", [(product, 1)], time.time())
        order = NewOrder(31, "bound-buyer", "bound-buyer", 100, ((product, 1, 100),), time.time())
        assert (await db.create_order(order))[0] == "created"
        together = await db.co_purchased(31, since, 100)
        assert 0 < len(together) <= PARTNERS_PER_PRODUCT < len(partners)
        assert product not in {row["product_id"] for row in together}

    run(any_settings, body)


def test_preferences_round_trip(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        assert await db.get_preferences(1) is None
        await db.put_preferences(1, {"newsletter": True}, time.time())
        await db.put_preferences(1, {"newsletter": False}, time.time())
        assert await db.get_preferences(1) == {"newsletter": False}

    run(any_settings, body)


def test_prepare_seeds_once(sqlite_settings: Settings) -> None:
    from reference_backend.db import prepare_sqlite

    path = prepare_database(sqlite_settings).sqlite_path
    assert path is not None
    assert prepare_sqlite(path, sqlite_settings) is False  # same fingerprint: left alone
    other = dataclasses.replace(sqlite_settings, catalog_size=50)
    assert prepare_sqlite(path, other) is True  # another fingerprint: seeded again
    assert run(other, lambda db: db.get_product(51)) is None


@pytest.mark.postgres
def test_postgres_prepare_seeds_once(postgres_settings: Settings) -> None:
    from reference_backend.db import prepare_postgres

    assert asyncio.run(prepare_postgres(postgres_settings.database_url or "", postgres_settings))
    assert not asyncio.run(
        prepare_postgres(postgres_settings.database_url or "", postgres_settings)
    )


def test_restock_refills_active_products_below_the_reorder_point(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        levels = await db.restock(20, 200)
        assert levels
        assert all(after == before + 200 and before < 20 for _, before, after in levels)
        restocked = {product_id for product_id, _, _ in levels}
        for product_id in restocked:
            assert await _status(db, product_id) == "active"
        assert await db.restock(20, 200) == []  # nothing is low any more

    run(any_settings, body)


def test_many_expired_reservations_are_released_together(any_settings: Settings) -> None:
    async def body(db: Database) -> None:
        await db.restock(10**6, 2000)  # room for 1200 one-unit reservations
        product = next(p for p, _, _ in await db.restock(10**6, 0))
        before = await _stock(db, product)
        for n in range(1200):  # more ids than one SQLite statement binds comfortably
            outcome = await db.reserve(f"old-{n}", [(product, 1)], time.time() - 3600)
            assert outcome.reserved
        levels = await db.release_expired(time.time() - 60)
        assert levels == [(product, before - 1200, before)]

    run(any_settings, body)


def test_prepare_database_makes_a_temporary_file_when_asked_for_none() -> None:
    settings = prepare_database(Settings(catalog_size=20, users=5))
    assert settings.sqlite_path is not None
    assert os.path.exists(settings.sqlite_path)


def test_inline_writes_keep_the_write_ahead_log_checkpointed(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inline writes (one worker) turn SQLite's automatic checkpoints off: the checkpoint
    thread must keep copying the log into the database, or the log would grow for as long as
    the server runs."""
    settings = dataclasses.replace(sqlite_settings, workers=1)
    writes = 400
    interval_s = 0.5  # the thread reads the interval at every wait: a short one for the test
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_INTERVAL_S", interval_s)

    async def body(db: Database) -> int:
        for user_id in range(1, writes + 1):
            await db.put_preferences(user_id, {"theme": "dark"}, time.time())
        await asyncio.sleep(2.5 * interval_s)  # two checkpoint intervals and some slack
        await db.put_preferences(1, {"theme": "light"}, time.time())
        assert settings.sqlite_path is not None
        probe = sqlite3.connect(settings.sqlite_path)  # while the server's connections are open
        try:
            return int(probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
        finally:
            probe.close()

    log_frames = run(settings, body)
    # A write after a complete checkpoint starts the log again: it holds only that write's
    # pages, not the pages of every write since the server started.
    assert 0 <= log_frames < writes // 4


class _PeakGauge:
    """A pool gauge that remembers its highest value (inc/dec from any thread)."""

    def __init__(self) -> None:
        self.value = 0.0
        self.peak = 0.0
        self._lock = threading.Lock()

    def inc(self, amount: float = 1) -> None:
        with self._lock:
            self.value += amount
            self.peak = max(self.peak, self.value)

    def dec(self, amount: float = 1) -> None:
        with self._lock:
            self.value -= amount


def test_connections_in_use_never_exceed_the_pool_under_a_queue(any_settings: Settings) -> None:
    # 40 concurrent scans on a pool of a few connections: most wait in its queue, and the
    # gauge (db_pool_in_use, which the diagnosis reads against db_pool_size) counts only
    # those holding a connection
    prepared = prepare_database(any_settings)
    gauge = _PeakGauge()

    async def main() -> int:
        db = await open_database(prepared, gauge)
        try:
            query = ProductQuery((), None, *ALL_PRICES, 20, 0)
            await asyncio.gather(*(db.search_products(query) for _ in range(40)))
            return db.pool_size
        finally:
            await db.close()

    pool_size = asyncio.run(main())
    assert 1 <= gauge.peak <= pool_size
    assert gauge.value == 0
