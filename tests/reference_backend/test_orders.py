"""Orders agent: checkout end to end, declines release stock once, status and history."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from reference_backend.agents import orders
from reference_backend.app import create_app
from reference_backend.cache import dataset_key_prefix
from reference_backend.coordination import Primitive
from reference_backend.settings import Settings
from tests.reference_backend.conftest import (
    REDIS_COORDINATION_URL,
    act_as_user,
    error_code,
    running_app,
    sellable_products,
    unlink_redis_keys,
)


def _stock(client: TestClient, product_id: int) -> int:
    return int(client.get(f"/api/inventory/{product_id}").json()["stock"])


def test_checkout_places_the_order(client: TestClient) -> None:
    first, second = sellable_products(client, 2)
    client.post("/api/cart/8/items", json={"product_id": first, "quantity": 2})
    client.post("/api/cart/8/items", json={"product_id": second, "quantity": 1})
    before = {p: _stock(client, p) for p in (first, second)}
    quotes = {p: client.get(f"/api/pricing/{p}").json()["price_cents"] for p in (first, second)}
    response = client.post("/api/orders", json={"user_id": 8, "card_token": "tok_visa"})
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["user_id"] == 8
    assert {i["product_id"]: i["quantity"] for i in order["items"]} == {first: 2, second: 1}
    assert order["total_cents"] == 2 * quotes[first] + quotes[second]
    assert _stock(client, first) == before[first] - 2
    assert _stock(client, second) == before[second] - 1
    assert client.get("/api/inventory/" + str(first)).json()["reserved"] == 0  # committed
    assert client.get("/api/cart/8").json()["items"] == []
    assert client.get(f"/api/orders/{order['order_id']}").json() == order
    history = client.get("/api/users/8/orders", params={"limit": 1}).json()["items"]
    assert history == [order]


def test_declined_card_releases_the_reservation(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    client.post("/api/cart/9/items", json={"product_id": product, "quantity": 3})
    before = _stock(client, product)
    response = client.post("/api/orders", json={"user_id": 9, "card_token": "tok_decline"})
    assert response.status_code == 402
    assert error_code(response) == "payment_declined"
    assert _stock(client, product) == before
    assert client.get(f"/api/inventory/{product}").json()["reserved"] == 0
    assert len(client.get("/api/cart/9").json()["items"]) == 1  # the cart is kept


def test_out_of_stock_is_409(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    stock = _stock(client, product)
    lines = [{"product_id": product, "quantity": stock}]
    assert client.post("/api/inventory/reservations", json={"items": lines}).status_code == 201
    client.post("/api/cart/10/items", json={"product_id": product})
    response = client.post("/api/orders", json={"user_id": 10, "card_token": "tok_visa"})
    assert response.status_code == 409
    assert error_code(response) == "insufficient_stock"


def test_empty_cart_is_422(client: TestClient) -> None:
    response = client.post("/api/orders", json={"user_id": 11, "card_token": "tok_visa"})
    assert response.status_code == 422
    assert error_code(response) == "empty_cart"


def test_checkout_retry_with_the_same_key_replays_the_order(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    client.post("/api/cart/12/items", json={"product_id": product})
    headers = {"Idempotency-Key": "checkout-12"}
    body = {"user_id": 12, "card_token": "tok_visa"}
    first = client.post("/api/orders", json=body, headers=headers)
    again = client.post("/api/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["order_id"] == first.json()["order_id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_orders_are_counted(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings)) as client:
        act_as_user(client)
        metrics = client.get("/metrics").text
        before = _sample(metrics, "orders_total")
        (product,) = sellable_products(client, 1)
        client.post("/api/cart/13/items", json={"product_id": product})
        assert (
            client.post("/api/orders", json={"user_id": 13, "card_token": "tok_visa"}).status_code
            == 201
        )
        assert _sample(client.get("/metrics").text, "orders_total") == before + 1


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_unknown_order_is_404_and_unknown_user_cannot_log_in(client: TestClient) -> None:
    assert client.get("/api/users/1/orders").status_code == 200  # logged in as user 1
    assert client.get("/api/orders/99999999").status_code == 404
    assert client.get("/api/users/99999/orders").status_code == 401
    assert (
        client.post("/api/orders", json={"user_id": 99999, "card_token": "tok_visa"}).status_code
        == 401
    )


def test_history_is_newest_first(client: TestClient) -> None:
    items = client.get("/api/users/1/orders", params={"limit": 100}).json()["items"]
    stamps = [o["created_at"] for o in items]
    assert stamps == sorted(stamps, reverse=True)


def test_an_order_beyond_one_charge_is_422_and_holds_nothing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders, "MAX_AMOUNT_CENTS", 100)  # any real product costs more
    (product,) = sellable_products(client, 1)
    client.post("/api/cart/15/items", json={"product_id": product})
    before = _stock(client, product)
    response = client.post("/api/orders", json={"user_id": 15, "card_token": "tok_visa"})
    assert response.status_code == 422
    assert error_code(response) == "order_too_large"
    assert _stock(client, product) == before


@pytest.fixture
def redis_settings(sqlite_settings: Settings) -> Iterator[Settings]:
    """SQLite settings with Redis (database 13); the data set's keys are unlinked afterwards."""
    settings = dataclasses.replace(sqlite_settings, redis_url=REDIS_COORDINATION_URL)
    yield settings
    unlink_redis_keys(REDIS_COORDINATION_URL, f"{dataset_key_prefix(settings)}*")


async def _fill_cart(http: httpx.AsyncClient, user_id: int) -> None:
    found = (await http.get("/api/products/search", params={"page_size": 1})).json()
    product = found["items"][0]["product_id"]
    added = await http.post(f"/api/cart/{user_id}/items", json={"product_id": product})
    assert added.status_code == 201


def _lock_key(settings: Settings, user_id: int) -> str:
    return f"{dataset_key_prefix(settings)}{Primitive.CHECKOUT_LOCK}:{user_id}"


@pytest.mark.redis
def test_checkouts_of_one_user_in_two_processes_place_one_order(redis_settings: Settings) -> None:
    """Two apps on one database and one Redis, as two workers are: one order, not two."""

    async def main() -> None:
        async with (
            running_app(redis_settings) as (first, http_a),
            running_app(redis_settings) as (_, http_b),
        ):
            await _fill_cart(http_a, 21)
            body = {"user_id": 21, "card_token": "tok_visa"}
            responses = await asyncio.gather(
                *((http_a, http_b)[n % 2].post("/api/orders", json=body) for n in range(6))
            )
            codes = sorted(r.status_code for r in responses)
            assert codes == [201, 422, 422, 422, 422, 422]
            assert {error_code(r) for r in responses if r.status_code == 422} == {"empty_cart"}
            assert len(await first.state.db.user_orders(21, 100)) == orders_before + 1
            redis = first.state.coordination.redis
            assert not await redis.exists(_lock_key(redis_settings, 21))

    async def count_orders() -> int:
        async with running_app(redis_settings) as (app, _):
            return len(await app.state.db.user_orders(21, 100))

    orders_before = asyncio.run(count_orders())
    asyncio.run(main())


@pytest.mark.redis
def test_a_checkout_holds_the_lock_for_three_request_timeouts_at_most(
    redis_settings: Settings,
) -> None:
    slow = dataclasses.replace(redis_settings, payment_latency_ms=300, payment_latency_p99_ms=400)

    async def main() -> None:
        async with running_app(slow) as (app, http):
            await _fill_cart(http, 22)
            checkout = asyncio.create_task(
                http.post("/api/orders", json={"user_id": 22, "card_token": "tok_visa"})
            )
            redis = app.state.coordination.redis
            key = _lock_key(slow, 22)
            deadline = asyncio.get_running_loop().time() + 5
            while not await redis.exists(key):
                assert asyncio.get_running_loop().time() < deadline, "no lock was taken"
                await asyncio.sleep(0.005)
            assert 29_000 < await redis.pttl(key) <= 3 * slow.request_timeout_s * 1000
            assert (await checkout).status_code == 201
            assert not await redis.exists(key)

    asyncio.run(main())


@pytest.mark.redis
def test_a_lock_left_by_a_dead_process_delays_the_checkout_until_it_expires(
    redis_settings: Settings,
) -> None:
    async def main() -> None:
        async with running_app(redis_settings) as (app, http):
            await _fill_cart(http, 23)
            redis = app.state.coordination.redis
            await redis.set(_lock_key(redis_settings, 23), "token-of-a-dead-worker", px=300)
            body = {"user_id": 23, "card_token": "tok_visa"}
            assert (await http.post("/api/orders", json=body)).status_code == 201

    asyncio.run(main())


@pytest.mark.redis
def test_a_lock_held_past_the_wait_answers_409_checkout_in_progress(
    redis_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders, "CHECKOUT_WAIT_S", 0.2)

    async def main() -> None:
        async with running_app(redis_settings) as (app, http):
            await _fill_cart(http, 24)
            redis = app.state.coordination.redis
            key = _lock_key(redis_settings, 24)
            await redis.set(key, "another-worker", px=30_000)
            body = {"user_id": 24, "card_token": "tok_visa"}
            answer = await http.post("/api/orders", json=body)
            assert answer.status_code == 409
            assert error_code(answer) == "checkout_in_progress"
            assert answer.headers["Retry-After"] == "1"
            assert await redis.get(key) == b"another-worker"
            assert (await http.get("/api/cart/24")).json()["items"]  # nothing was ordered

    asyncio.run(main())
