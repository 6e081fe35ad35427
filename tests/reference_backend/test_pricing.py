"""Pricing agent: base price × demand factor × stock factor."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from reference_backend.agents.pricing import quote_price
from tests.reference_backend.conftest import sellable_products


@pytest.mark.parametrize(
    ("base", "sold", "stock", "expected"),
    [
        (1000, 0, 100, (1000, 1.0, 1.0)),
        (1000, 5, 100, (1050, 1.05, 1.0)),
        (1000, 50, 100, (1100, 1.1, 1.0)),  # demand capped at +10 %
        (1000, 0, 3, (1050, 1.0, 1.05)),  # scarce
        (1000, 0, 300, (950, 1.0, 0.95)),  # plentiful
        (1000, 20, 5, (1155, 1.1, 1.05)),
    ],
)
def test_quote_price(base: int, sold: int, stock: int, expected: tuple[int, float, float]) -> None:
    assert quote_price(base, sold, stock) == expected


def test_price_lookup_uses_the_product(client: TestClient) -> None:
    (product_id,) = sellable_products(client, 1)
    product = client.get(f"/api/products/{product_id}").json()
    quote = client.get(f"/api/pricing/{product_id}").json()
    assert quote["base_price_cents"] == product["price_cents"]
    assert (
        quote["price_cents"]
        == quote_price(product["price_cents"], quote["units_sold_7d"], product["stock"])[0]
    )
    assert quote["valid_for_s"] == 300


def test_price_follows_stock_changes(client: TestClient) -> None:
    (product,) = sellable_products(client, 1)
    stock = client.get(f"/api/inventory/{product}").json()["stock"]
    assert client.get(f"/api/pricing/{product}").json()["stock_factor"] != 1.05  # cached now
    lines = [{"product_id": product, "quantity": stock - 5}]  # leaves 5: scarcity applies
    assert client.post("/api/inventory/reservations", json={"items": lines}).status_code == 201
    assert client.get(f"/api/pricing/{product}").json()["stock_factor"] == 1.05


def test_unknown_product_price_is_404(client: TestClient) -> None:
    assert client.get("/api/pricing/99999").status_code == 404
