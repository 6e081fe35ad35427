"""Cart agent: add, list, remove, with limits and unknown ids."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.reference_backend.conftest import error_code, sellable_products


def test_add_view_remove(client: TestClient) -> None:
    first, second = sellable_products(client, 2)
    assert (
        client.post("/api/cart/3/items", json={"product_id": first, "quantity": 2}).status_code
        == 201
    )
    response = client.post("/api/cart/3/items", json={"product_id": second})
    assert response.status_code == 201
    cart = client.get("/api/cart/3").json()
    assert {i["product_id"]: i["quantity"] for i in cart["items"]} == {first: 2, second: 1}
    assert cart["item_count"] == 3
    assert cart["subtotal_cents"] == sum(i["price_cents"] * i["quantity"] for i in cart["items"])
    assert client.delete(f"/api/cart/3/items/{first}").status_code == 204
    assert [i["product_id"] for i in client.get("/api/cart/3").json()["items"]] == [second]
    missing = client.delete(f"/api/cart/3/items/{first}")
    assert missing.status_code == 404
    assert error_code(missing) == "not_in_cart"


def test_quantities_add_up_to_the_limit(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    assert (
        client.post("/api/cart/4/items", json={"product_id": product, "quantity": 60}).status_code
        == 201
    )
    over = client.post("/api/cart/4/items", json={"product_id": product, "quantity": 41})
    assert over.status_code == 409
    assert error_code(over) == "quantity_limit"
    assert (
        client.post("/api/cart/4/items", json={"product_id": product, "quantity": 40}).status_code
        == 201
    )
    assert client.get("/api/cart/4").json()["items"][0]["quantity"] == 100


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/cart/9999/items", {"product_id": 1}, 401, "unauthorized"),
        ("/api/cart/1/items", {"product_id": 999_999}, 404, "unknown_product"),
        ("/api/cart/1/items", {"product_id": 1, "quantity": 0}, 422, "invalid_body"),
        ("/api/cart/1/items", {"product_id": 1, "quantity": 101}, 422, "invalid_body"),
        ("/api/cart/1/items", {"product_id": 1.5}, 422, "invalid_body"),
        ("/api/cart/1/items", {"quantity": 1}, 422, "invalid_body"),
        ("/api/cart/x/items", {"product_id": 1}, 401, "unauthorized"),
    ],
)
def test_bad_additions_are_4xx(
    client: TestClient, path: str, body: object, status: int, code: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == status
    assert error_code(response) == code


def test_products_not_for_sale_cannot_be_added(client: TestClient) -> None:
    inactive = next(
        pid
        for pid in range(1, 401)
        if client.get(f"/api/products/{pid}").json()["status"] != "active"
    )
    response = client.post("/api/cart/1/items", json={"product_id": inactive})
    assert response.status_code == 422
    assert error_code(response) == "product_unavailable"


def test_unknown_user_cannot_log_in_to_see_a_cart(client: TestClient) -> None:
    assert client.get("/api/cart/100000").status_code == 401


def test_a_cart_holds_at_most_fifty_products(client: TestClient) -> None:
    products = sellable_products(client, 51, min_stock=1)
    for product in products[:50]:
        assert client.post("/api/cart/14/items", json={"product_id": product}).status_code == 201
    full = client.post("/api/cart/14/items", json={"product_id": products[50]})
    assert full.status_code == 409
    assert error_code(full) == "cart_full"
    more = client.post("/api/cart/14/items", json={"product_id": products[0]})
    assert more.status_code == 201  # more of a product already in the cart is fine
