"""Product search agent: categories, full-text product search and product detail.

Search is the seed's first query (active products, category and price filters, ordered by
popularity then price, with availability status) plus full text, one page at a time; pages
are cached 30 minutes, products and categories one hour (the seed's cache table).
"""

from __future__ import annotations

import re
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.api import (
    ApiError,
    EncodedMemo,
    JsonResponse,
    json_response,
    path_id,
    query_int,
    query_price_cents,
)
from reference_backend.cache import Cache, CacheType
from reference_backend.db import CategoryRow, Database, ProductQuery, ProductRow

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_PAGE = 1000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_PRICE_CENTS = 1_000_000_000
_WORD = re.compile(r"[^\W_]+")
_ENCODED = EncodedMemo()


class CatalogService:
    """Reads the catalog through the cache."""

    def __init__(self, db: Database, cache: Cache) -> None:
        self._db = db
        self._cache = cache

    async def categories(self) -> list[CategoryRow]:
        """Every category with its number of active products."""
        return await self._cache.get_or_load(
            CacheType.PRODUCT, "categories", self._db.list_categories
        )

    async def category_id(self, name: str) -> int:
        """Resolves a category slug or id, or answers 404."""
        for category in await self.categories():
            if name in (category["slug"], str(category["category_id"])):
                return category["category_id"]
        raise ApiError(404, "unknown_category", f"no category {name!r}; see GET /api/categories")

    async def search(self, query: ProductQuery) -> dict[str, Any]:
        """One page of matching products, `limit` rows plus whether more follow.

        The page is the response body as it is: a cache hit is answered without a copy.
        """
        key = (
            f"{' '.join(query.terms)}|{query.category_id}|{query.min_price_cents}|"
            f"{query.max_price_cents}|{query.limit}|{query.offset}"
        )

        async def load() -> dict[str, Any]:
            probe = ProductQuery(
                query.terms,
                query.category_id,
                query.min_price_cents,
                query.max_price_cents,
                query.limit + 1,
                query.offset,
            )
            rows = await self._db.search_products(probe)
            return {
                "page": query.offset // query.limit + 1,
                "page_size": query.limit,
                "items": rows[: query.limit],
                "has_more": len(rows) > query.limit,
            }

        return await self._cache.get_or_load(CacheType.SEARCH, key, load)

    async def product(self, product_id: int) -> ProductRow:
        """One product, or 404."""
        row = await self._cache.get_or_load(
            CacheType.PRODUCT, f"product:{product_id}", lambda: self._db.get_product(product_id)
        )
        if row is None:
            raise ApiError(404, "unknown_product", f"no product {product_id}")
        return row

    async def warm_popular(self, count: int) -> None:
        """Loads the `count` most popular products into the cache."""
        for row in await self._db.popular_products(count):
            await self.product(row["product_id"])

    async def forget_products(self, product_ids: list[int], *, listings: bool) -> None:
        """Drops cached products (and every cached search page when `listings`)."""
        for product_id in product_ids:
            await self._cache.invalidate(CacheType.PRODUCT, f"product:{product_id}")
        if listings:
            await self._cache.invalidate_pattern(CacheType.SEARCH)


def search_terms(text: str) -> tuple[str, ...]:
    """The words of a search text, lower-cased; punctuation never reaches the SQL."""
    return tuple(_WORD.findall(text.lower())[:MAX_TERMS])


def _service(request: Request) -> CatalogService:
    return cast(CatalogService, request.app.state.catalog)


async def category_list(request: Request) -> Response:
    """List the categories with their number of active products."""
    return json_response({"items": await _service(request).categories()})


async def product_search(request: Request) -> Response:
    """Search active products by text, category and price range, most popular first."""
    service = _service(request)
    params = request.query_params
    text = params.get("q", "")
    if len(text) > MAX_QUERY_CHARS:
        raise ApiError(422, "invalid_query", f"q must be at most {MAX_QUERY_CHARS} characters")
    category = params.get("category") or None
    min_price = query_price_cents(request, "min_price")
    max_price = query_price_cents(request, "max_price")
    low = 0 if min_price is None else min_price
    high = MAX_PRICE_CENTS if max_price is None else max_price
    if low > high:
        raise ApiError(422, "invalid_query", "min_price must not exceed max_price")
    page = query_int(request, "page", 1, 1, MAX_PAGE)
    page_size = query_int(request, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    category_id = None if category is None else await service.category_id(category)
    query = ProductQuery(
        search_terms(text), category_id, low, high, page_size, (page - 1) * page_size
    )
    page_body = await service.search(query)
    return JsonResponse(_ENCODED.encode(page_body))


async def product_detail(request: Request) -> Response:
    """Show one product with its stock and availability."""
    return json_response(await _service(request).product(path_id(request, "product_id")))


ROUTES = [
    Route("/api/categories", category_list, methods=["GET"], name="category_list"),
    Route("/api/products/search", product_search, methods=["GET"], name="product_search"),
    Route("/api/products/{product_id}", product_detail, methods=["GET"], name="product_detail"),
]
