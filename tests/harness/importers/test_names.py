"""Operation and variable names: stable snake_case whatever the recorded ids were."""

from __future__ import annotations

import pytest

from harness.importers._names import (
    is_id_segment,
    operation_name,
    snake_case,
    unique_name,
    variable_name,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("getProductById", "get_product_by_id"),
        ("listBooks", "list_books"),
        ("/api/x-y", "api_x_y"),
        ("Bookshop API", "bookshop_api"),
        ("already_snake", "already_snake"),
        ("  --  ", ""),
    ],
)
def test_snake_case(text: str, expected: str) -> None:
    assert snake_case(text) == expected


@pytest.mark.parametrize(
    ("segment", "is_id"),
    [
        ("1248", True),
        ("3f2f9383-38e2-4466-bf8a-b4b5d608263b", True),
        ("res_3f2f938338e24466bf8ab4b5d608263b", True),
        ("5f1e0c2a9b7d4e6f", True),
        ("Nf8a21Kq0pZx7WmB3vYt", True),
        ("products", False),
        ("v2", False),
        ("search", False),
        ("order-history", False),
    ],
)
def test_id_segments(segment: str, is_id: bool) -> None:
    assert is_id_segment(segment) is is_id


@pytest.mark.parametrize(
    ("method", "template", "expected"),
    [
        ("GET", "/api/products/{id}", "get_api_products_id"),
        ("DELETE", "/api/cart/{id}/items/{id}", "delete_api_cart_id_items_id"),
        ("GET", "/", "get_index"),
        ("POST", "/api/orders", "post_api_orders"),
        ("GET", "/search.php", "get_search_php"),
    ],
)
def test_operation_names(method: str, template: str, expected: str) -> None:
    assert operation_name(method, template) == expected


def test_long_names_are_cut_and_stay_names() -> None:
    name = operation_name("GET", "/" + "/".join(["segment"] * 20))
    assert len(name) <= 64
    assert not name.endswith("_")


def test_variable_names_and_uniqueness() -> None:
    assert variable_name("author-slug") == "author_slug"
    assert variable_name("2fa") == "v_2fa"
    assert unique_name("product_id", ["product_id", "product_id_2"]) == "product_id_3"
    assert unique_name("x", []) == "x"
