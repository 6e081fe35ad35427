"""Under concurrency: stock never goes negative and every 2xx order is in the database."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
from starlette.applications import Starlette

from reference_backend.settings import Settings
from tests.reference_backend.conftest import running_app

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


pytestmark = pytest.mark.timeout(120)
