"""Under concurrency: stock never goes negative and every 2xx order is in the database."""

from __future__ import annotations

import asyncio
import dataclasses

import aiohttp
import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from reference_backend.settings import Settings
from tests.reference_backend._infra import ServeProcess
from tests.reference_backend.conftest import postgres_database, running_app

pytestmark = pytest.mark.timeout(120)

BUYERS = 100
STOCK = 10


async def _set_stock(app: Starlette, product_id: int, stock: int) -> None:
    db = app.state.db
    if db.dialect == "sqlite":
        await db._write(  # the test reaches past the API to set up a scarce product
            lambda c: c.execute(
                "UPDATE products SET stock = ? WHERE product_id = ?", (stock, product_id)
            )
        )
    else:
        async with db._conn() as conn:
            await conn.execute(
                "UPDATE products SET stock = $1 WHERE product_id = $2", stock, product_id
            )
    await app.state.catalog.forget_products([product_id], listings=True)


async def _scarce_product(app: Starlette, http: httpx.AsyncClient) -> int:
    items = (await http.get("/api/products/search", params={"page_size": 1})).json()["items"]
    product_id = int(items[0]["product_id"])
    await _set_stock(app, product_id, STOCK)
    return product_id


def _hundred_checkouts_for_ten_units(settings: Settings) -> None:
    async def main() -> None:
        async with running_app(settings) as (app, http):
            product = await _scarce_product(app, http)
            buyers = range(1, BUYERS + 1)  # one cart each
            for user in buyers:
                added = await http.post(f"/api/cart/{user}/items", json={"product_id": product})
                assert added.status_code == 201

            async def checkout(user: int) -> httpx.Response:
                return await http.post(
                    "/api/orders", json={"user_id": user, "card_token": "tok_visa"}
                )

            responses = await asyncio.gather(*(checkout(u) for u in buyers))
            placed = [r.json() for r in responses if r.status_code == 201]
            assert {r.status_code for r in responses} <= {201, 409, 422}
            assert len(placed) == STOCK
            stock = (await http.get(f"/api/inventory/{product}")).json()
            assert stock["stock"] == STOCK - len(placed) >= 0
            assert stock["reserved"] == 0
            for order in placed:  # every order answered 2xx is in the database
                stored = await app.state.db.get_order(order["order_id"])
                assert stored == order

    asyncio.run(main())


def _concurrent_reservations(settings: Settings) -> None:
    async def main() -> None:
        async with running_app(settings) as (app, http):
            product = await _scarce_product(app, http)
            lines = {"items": [{"product_id": product, "quantity": 1}]}
            responses = await asyncio.gather(
                *(http.post("/api/inventory/reservations", json=lines) for _ in range(BUYERS))
            )
            codes = [r.status_code for r in responses]
            assert codes.count(201) == STOCK
            assert codes.count(409) == BUYERS - STOCK
            assert (await http.get(f"/api/inventory/{product}")).json()["stock"] == 0

    asyncio.run(main())


def test_hundred_checkouts_for_ten_units_place_ten_orders(any_settings: Settings) -> None:
    _hundred_checkouts_for_ten_units(dataclasses.replace(any_settings, users=BUYERS))


def test_hundred_reservations_for_ten_units_hold_ten(any_settings: Settings) -> None:
    _concurrent_reservations(any_settings)


@pytest.mark.postgres
@pytest.mark.slow
def test_worker_processes_share_stock_and_idempotency_keys() -> None:
    """Two `perfctl serve` workers on one PostgreSQL: no overselling, one charge per key."""
    with (
        postgres_database() as url,
        ServeProcess("--workers", "2", "--database-url", url) as served,
    ):

        async def main() -> None:
            conn = await asyncpg.connect(url)
            try:
                product = await conn.fetchval(
                    "SELECT product_id FROM products WHERE status = 'active' ORDER BY product_id LIMIT 1"
                )
                await conn.execute(
                    "UPDATE products SET stock = $1 WHERE product_id = $2", STOCK, product
                )
                connector = aiohttp.TCPConnector(limit=BUYERS, force_close=True)
                async with aiohttp.ClientSession(served.url, connector=connector) as http:
                    lines = {"items": [{"product_id": product, "quantity": 1}]}

                    async def reserve() -> int:
                        async with http.post("/api/inventory/reservations", json=lines) as answer:
                            return answer.status

                    codes = await asyncio.gather(*(reserve() for _ in range(BUYERS)))
                    assert codes.count(201) == STOCK
                    assert codes.count(409) == BUYERS - STOCK
                    charge = {"amount_cents": 500, "user_id": 1, "card_token": "tok_visa"}

                    async def pay() -> tuple[int, str]:
                        headers = {"Idempotency-Key": "across-workers"}
                        async with http.post(
                            "/api/payments", json=charge, headers=headers
                        ) as answer:
                            body = await answer.json()
                            return answer.status, str(body.get("payment_id"))

                    paid = await asyncio.gather(*(pay() for _ in range(50)))
                    assert {status for status, _ in paid} <= {201, 402, 409}
                    assert len({pid for status, pid in paid if status in (201, 402)}) == 1
                stock = await conn.fetchval(
                    "SELECT stock FROM products WHERE product_id = $1", product
                )
                assert stock == 0
                charges = await conn.fetchval(
                    "SELECT COUNT(*) FROM payments WHERE idempotency_key = 'across-workers'"
                )
                assert charges == 1
            finally:
                await conn.close()

        asyncio.run(main())


def test_concurrent_checkouts_of_one_cart_place_one_order(sqlite_settings: Settings) -> None:
    async def main() -> None:
        async with running_app(sqlite_settings) as (app, http):
            items = (await http.get("/api/products/search", params={"page_size": 1})).json()
            product = items["items"][0]["product_id"]
            assert (
                await http.post("/api/cart/20/items", json={"product_id": product})
            ).status_code == 201
            body = {"user_id": 20, "card_token": "tok_visa"}
            responses = await asyncio.gather(
                *(http.post("/api/orders", json=body) for _ in range(5))
            )
            codes = sorted(r.status_code for r in responses)
            assert codes == [201, 422, 422, 422, 422]  # the others find the cart ordered
            assert {r.json()["error"]["code"] for r in responses if r.status_code == 422} == {
                "empty_cart"
            }
            assert app.state.orders._checkouts == {}  # no lock left behind

    asyncio.run(main())
