"""Inventory agent: stock checks, reservations, release exactly once, cache invalidation."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from reference_backend.agents.inventory import RESTOCK_UNITS
from tests.reference_backend.conftest import error_code, sellable_products


def _stock(client: TestClient, product_id: int) -> int:
    return int(client.get(f"/api/inventory/{product_id}").json()["stock"])


def test_reserve_and_release(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    before = _stock(client, product)
    response = client.post(
        "/api/inventory/reservations", json={"items": [{"product_id": product, "quantity": 3}]}
    )
    assert response.status_code == 201
    reservation_id = response.json()["reservation_id"]
    assert _stock(client, product) == before - 3
    assert client.get(f"/api/inventory/{product}").json()["reserved"] == 3
    assert client.delete(f"/api/inventory/reservations/{reservation_id}").status_code == 204
    assert _stock(client, product) == before
    second = client.delete(f"/api/inventory/reservations/{reservation_id}")
    assert second.status_code == 409
    assert error_code(second) == "reservation_not_held"


def test_reservation_changes_the_product_page(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    before = client.get(f"/api/products/{product}").json()["stock"]  # now cached
    lines = [{"product_id": product, "quantity": 1}]
    assert client.post("/api/inventory/reservations", json={"items": lines}).status_code == 201
    assert client.get(f"/api/products/{product}").json()["stock"] == before - 1


def test_selling_out_changes_search_availability(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    name = client.get(f"/api/products/{product}").json()["name"]
    query = {"q": name, "page_size": 100}

    def listed() -> str:
        items = client.get("/api/products/search", params=query).json()["items"]
        return str(next(i["availability_status"] for i in items if i["product_id"] == product))

    assert listed() == "in_stock"  # now cached
    stock = _stock(client, product)
    lines = [
        {"product_id": product, "quantity": min(stock - done, 1000)}
        for done in range(0, stock, 1000)
    ]
    assert client.post("/api/inventory/reservations", json={"items": lines}).status_code == 201
    assert listed() == "out_of_stock"


def test_insufficient_stock_is_409_and_holds_nothing(client: TestClient) -> None:
    short, other = sellable_products(client, 2)
    stock, other_stock = _stock(client, short), _stock(client, other)
    lines = [{"product_id": other, "quantity": 1}, {"product_id": short, "quantity": stock + 1}]
    response = client.post("/api/inventory/reservations", json={"items": lines})
    assert response.status_code == 409
    assert error_code(response) == "insufficient_stock"
    assert str(stock) in response.json()["error"]["message"]
    assert _stock(client, other) == other_stock


def test_duplicate_lines_are_summed(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    before = _stock(client, product)
    lines = [{"product_id": product, "quantity": 1}, {"product_id": product, "quantity": 2}]
    assert client.post("/api/inventory/reservations", json={"items": lines}).status_code == 201
    assert _stock(client, product) == before - 3


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"items": []}, 422),
        ({"items": [{"product_id": 1, "quantity": 0}]}, 422),
        ({"items": [{"product_id": 1, "quantity": -5}]}, 422),
        ({"items": [{"product_id": 1, "quantity": 10**12}]}, 422),
        ({"items": [{"product_id": "1", "quantity": 1}]}, 422),
        ({"items": [{"product_id": 1, "quantity": 1, "extra": True}]}, 422),
        ({"items": [{"product_id": 999_999, "quantity": 1}]}, 404),
        ([1, 2, 3], 422),
    ],
)
def test_bad_reservations_are_4xx(client: TestClient, body: object, status: int) -> None:
    assert client.post("/api/inventory/reservations", json=body).status_code == status


def test_oversized_body_is_413(client: TestClient) -> None:
    response = client.post(
        "/api/inventory/reservations", content=b'{"items": [' + b" " * 70_000 + b"]}"
    )
    assert response.status_code == 413
    assert error_code(response) == "body_too_large"


@pytest.mark.parametrize("reservation_id", ["%00abc", "x" * 65, "a.b"])
def test_malformed_reservation_ids_are_422(client: TestClient, reservation_id: str) -> None:
    response = client.delete(f"/api/inventory/reservations/{reservation_id}")
    assert response.status_code == 422
    assert error_code(response) == "invalid_path"


def test_unknown_product_stock_is_404(client: TestClient) -> None:
    assert client.get("/api/inventory/123456").status_code == 404


def test_restock_refills_a_sold_out_product(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    stock = _stock(client, product)
    lines = [{"product_id": product, "quantity": stock}]
    assert client.post("/api/inventory/reservations", json={"items": lines}).status_code == 201
    assert client.get(f"/api/products/{product}").json()["availability_status"] == "out_of_stock"
    inventory = client.app.state.inventory  # type: ignore[attr-defined]
    assert client.portal.call(inventory.restock) >= 1  # type: ignore[union-attr]
    assert _stock(client, product) == RESTOCK_UNITS
    assert client.get(f"/api/products/{product}").json()["availability_status"] == "in_stock"
