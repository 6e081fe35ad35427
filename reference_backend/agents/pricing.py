"""Pricing agent: a dynamic price from the base price and demand and stock factors.

    price = base price × demand factor × stock factor
    demand factor = 1 + 1 % per unit sold over the last 7 days, at most +10 %
    stock factor  = 1.05 below 10 units, 0.95 above 200 units, else 1

Quotes are cached 5 minutes (the seed's pricing TTL) and dropped when the stock changes.
"""

from __future__ import annotations

import time
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.agents.search import CatalogService
from reference_backend.api import json_response, path_id
from reference_backend.cache import CACHE_TTL_S, Cache, CacheType
from reference_backend.db import Database
from reference_backend.messages import PriceQuote

DEMAND_WINDOW_S = 7 * 86_400
DEMAND_STEP = 0.01
DEMAND_CAP = 0.10
LOW_STOCK_UNITS = 10
HIGH_STOCK_UNITS = 200
LOW_STOCK_FACTOR = 1.05
HIGH_STOCK_FACTOR = 0.95


def quote_price(base_price_cents: int, units_sold: int, stock: int) -> tuple[int, float, float]:
    """Returns (price_cents, demand_factor, stock_factor) for one product."""
    demand = 1.0 + min(DEMAND_CAP, DEMAND_STEP * units_sold)
    if stock < LOW_STOCK_UNITS:
        supply = LOW_STOCK_FACTOR
    elif stock > HIGH_STOCK_UNITS:
        supply = HIGH_STOCK_FACTOR
    else:
        supply = 1.0
    return round(base_price_cents * demand * supply), round(demand, 4), supply


class PricingService:
    """Quotes dynamic prices through the cache."""

    def __init__(self, db: Database, cache: Cache, catalog: CatalogService) -> None:
        self._db = db
        self._cache = cache
        self._catalog = catalog

    async def quote(self, product_id: int) -> PriceQuote:
        """The current price of one product, or 404."""

        async def load() -> PriceQuote:
            product = await self._catalog.product(product_id)
            sold = await self._db.units_sold_since(product_id, time.time() - DEMAND_WINDOW_S)
            price, demand, supply = quote_price(product["price_cents"], sold, product["stock"])
            return PriceQuote(
                product_id=product_id,
                currency="USD",
                base_price_cents=product["price_cents"],
                price_cents=price,
                demand_factor=demand,
                stock_factor=supply,
                units_sold_7d=sold,
                stock=product["stock"],
                valid_for_s=CACHE_TTL_S[CacheType.PRICING],
            )

        return await self._cache.get_or_load(CacheType.PRICING, str(product_id), load)


def _service(request: Request) -> PricingService:
    return cast(PricingService, request.app.state.pricing)


async def price_lookup(request: Request) -> Response:
    """Quote the current dynamic price of a product."""
    quote: Any = await _service(request).quote(path_id(request, "product_id"))
    return json_response(quote)


ROUTES = [Route("/api/pricing/{product_id}", price_lookup, methods=["GET"], name="price_lookup")]
