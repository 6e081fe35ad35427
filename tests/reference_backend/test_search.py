"""Product search agent: categories, search with filters and pages, product detail."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from reference_backend.agents.search import search_terms
from reference_backend.api import EncodedMemo
from tests.reference_backend.conftest import error_code


def test_categories_list_every_category_with_counts(client: TestClient) -> None:
    response = client.get("/api/categories")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 10
    assert sum(c["product_count"] for c in items) > 300  # most of the 400 products are active


def test_search_filters_by_category_slug_and_price(client: TestClient) -> None:
    response = client.get(
        "/api/products/search",
        params={"category": "books", "min_price": "5", "max_price": "40", "page_size": 50},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["items"]
    assert {item["category"] for item in body["items"]} == {"Books"}
    assert all(500 <= item["price_cents"] <= 4000 for item in body["items"])
    keys = [(-i["popularity_score"], i["price_cents"]) for i in body["items"]]
    assert keys == sorted(keys)


def test_search_by_text_finds_matching_products(client: TestClient) -> None:
    body = client.get("/api/products/search", params={"q": "coffee"}).json()
    assert body["items"]
    assert all("coffee" in item["name"].lower() for item in body["items"])


def test_search_pages_follow_each_other(client: TestClient) -> None:
    first = client.get("/api/products/search", params={"page_size": 5}).json()
    second = client.get("/api/products/search", params={"page_size": 5, "page": 2}).json()
    assert first["has_more"] is True
    assert second["page"] == 2
    assert not {i["product_id"] for i in first["items"]} & {
        i["product_id"] for i in second["items"]
    }


def test_cached_search_answers_the_same(client: TestClient) -> None:
    first = client.get("/api/products/search?q=desk")
    second = client.get("/api/products/search?q=desk")
    assert first.json() == second.json()


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("page=0", 422, "invalid_query"),
        ("page=abc", 422, "invalid_query"),
        ("page_size=101", 422, "invalid_query"),
        ("min_price=-1", 422, "invalid_query"),
        ("min_price=nan", 422, "invalid_query"),
        ("max_price=inf", 422, "invalid_query"),
        ("min_price=50&max_price=10", 422, "invalid_query"),
        ("category=no-such-thing", 404, "unknown_category"),
        ("q=" + "x" * 201, 422, "invalid_query"),
    ],
)
def test_bad_search_queries_are_4xx(client: TestClient, query: str, status: int, code: str) -> None:
    response = client.get(f"/api/products/search?{query}")
    assert response.status_code == status
    assert error_code(response) == code


def test_punctuation_only_query_is_no_text_filter(client: TestClient) -> None:
    odd = client.get("/api/products/search", params={"q": "\"'*()-:^"})
    plain = client.get("/api/products/search")
    assert odd.status_code == 200
    assert odd.json()["items"] == plain.json()["items"]


def test_search_terms_drop_punctuation() -> None:
    assert search_terms('Wireless "HEADphones" OR 4K*') == ("wireless", "headphones", "or", "4k")


def test_product_detail(client: TestClient) -> None:
    body = client.get("/api/products/7").json()
    assert body["product_id"] == 7
    assert body["description"]
    assert body["availability_status"] in {"in_stock", "out_of_stock"}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/products/0", 422),
        ("/api/products/%C2%B2", 422),  # '²' is a digit to str.isdigit, not to int()
        ("/api/products/-3", 422),
        ("/api/products/99999999999", 422),
        ("/api/products/100000", 404),
    ],
)
def test_bad_product_ids(client: TestClient, path: str, status: int) -> None:
    assert client.get(path).status_code == status


def test_encoded_memo_reuses_bytes_only_for_the_same_object() -> None:
    memo = EncodedMemo(max_entries=2)
    page = {"items": [1, 2]}
    first = memo.encode(page)
    assert memo.encode(page) is first
    assert memo.encode({"items": [1, 2]}) == first  # equal value, encoded afresh
    for n in range(5):  # the memo stays bounded
        memo.encode({"n": n})
    assert memo.encode(page) == b'{"items":[1,2]}'
