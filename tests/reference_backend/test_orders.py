"""Orders agent: checkout end to end, declines release stock once, status and history."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from reference_backend.agents import orders
from reference_backend.app import create_app
from reference_backend.settings import Settings
from tests.reference_backend.conftest import error_code, sellable_products


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


def test_unknown_order_and_user_are_404(client: TestClient) -> None:
    assert client.get("/api/orders/99999999").status_code == 404
    assert client.get("/api/users/99999/orders").status_code == 404
    assert (
        client.post("/api/orders", json={"user_id": 99999, "card_token": "tok_visa"}).status_code
        == 404
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
