"""Inventory agent: stock checks, and reservations that can never oversell.

A reservation decrements stock with a guarded UPDATE (`... AND stock >= quantity`) for every
line inside one transaction: either every line is held or none is, whatever the concurrency.
Releasing flips the reservation from `held` exactly once and gives the stock back. Held
reservations that no order committed are released after `RESERVATION_TTL_S`, and products
that fall below `REORDER_POINT` are restocked by the backend's maintenance round.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.agents.search import CatalogService
from reference_backend.api import MAX_ID, ApiError, json_response, path_id, read_model
from reference_backend.cache import Cache, CacheType
from reference_backend.db import Database, StockLevels, StockRow

MAX_LINE_QUANTITY = 1000
MAX_LINES = 50
RESERVATION_TTL_S = 900.0
# A supplier refills what sells, so that long load runs do not empty the shop.
REORDER_POINT = 20
RESTOCK_UNITS = 200
_RESERVATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ReservationLine(BaseModel):
    """One product and how many to hold."""

    model_config = ConfigDict(extra="forbid", strict=True)

    product_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


class ReservationRequest(BaseModel):
    """The body of POST /api/inventory/reservations."""

    model_config = ConfigDict(extra="forbid", strict=True)

    items: list[ReservationLine] = Field(min_length=1, max_length=MAX_LINES)


class InventoryService:
    """Stock levels and reservations; keeps the caches that show stock honest."""

    def __init__(self, db: Database, cache: Cache, catalog: CatalogService) -> None:
        self._db = db
        self._cache = cache
        self._catalog = catalog

    async def stock(self, product_id: int) -> StockRow:
        """Current stock of one product (never cached: it must be exact), or 404."""
        row = await self._db.get_stock(product_id)
        if row is None:
            raise ApiError(404, "unknown_product", f"no product {product_id}")
        return row

    async def reserve(self, lines: list[tuple[int, int]]) -> str:
        """Holds every line or none; returns the reservation id, or answers 409/404/422."""
        merged: dict[int, int] = {}
        for product_id, quantity in lines:
            merged[product_id] = merged.get(product_id, 0) + quantity
        reservation_id = f"res_{uuid.uuid4().hex}"
        outcome = await self._db.reserve(reservation_id, sorted(merged.items()), time.time())
        if not outcome.reserved:
            product_id = outcome.product_id or 0
            if outcome.reason == "unknown_product":
                raise ApiError(404, "unknown_product", f"no product {product_id}")
            if outcome.reason == "inactive_product":
                raise ApiError(422, "product_unavailable", f"product {product_id} is not for sale")
            raise ApiError(
                409,
                "insufficient_stock",
                f"product {product_id}: asked for {merged.get(product_id, 0)}, "
                f"{outcome.available} in stock",
            )
        await self._stock_changed(list(outcome.stock_after))
        return reservation_id

    async def release(self, reservation_id: str) -> None:
        """Gives a held reservation's stock back, exactly once; 404 or 409 otherwise."""
        outcome, levels = await self._db.release(reservation_id)
        if outcome == "not_found":
            raise ApiError(404, "unknown_reservation", f"no reservation {reservation_id!r}")
        if outcome == "not_held":
            raise ApiError(
                409, "reservation_not_held", f"reservation {reservation_id!r} is already settled"
            )
        await self._stock_changed(levels)

    async def release_expired(self) -> int:
        """Releases reservations held longer than RESERVATION_TTL_S; returns products touched."""
        levels = await self._db.release_expired(time.time() - RESERVATION_TTL_S)
        await self._stock_changed(levels)
        return len(levels)

    async def restock(self) -> int:
        """The supplier's delivery: +RESTOCK_UNITS for every product below REORDER_POINT."""
        levels = await self._db.restock(REORDER_POINT, RESTOCK_UNITS)
        await self._stock_changed(levels)
        return len(levels)

    async def _stock_changed(self, levels: StockLevels) -> None:
        # Product pages and prices show stock: drop them. Listings only show availability,
        # so they are dropped only when a product went in or out of stock.
        crossed = any((before > 0) != (after > 0) for _, before, after in levels)
        ids = [product_id for product_id, _, _ in levels]
        await self._catalog.forget_products(ids, listings=crossed)
        for product_id in ids:
            await self._cache.invalidate(CacheType.PRICING, str(product_id))
        if crossed:
            await self._cache.invalidate_pattern(CacheType.RECOMMENDATIONS)


def _service(request: Request) -> InventoryService:
    return cast(InventoryService, request.app.state.inventory)


async def inventory_check(request: Request) -> Response:
    """Show a product's stock, units held by reservations and availability."""
    return json_response(await _service(request).stock(path_id(request, "product_id")))


async def inventory_reserve(request: Request) -> Response:
    """Hold stock for every line, or for none (409 when a line is short)."""
    body = await read_model(request, ReservationRequest)
    lines = [(line.product_id, line.quantity) for line in body.items]
    reservation_id = await _service(request).reserve(lines)
    payload: dict[str, Any] = {
        "reservation_id": reservation_id,
        "status": "held",
        "items": [line.model_dump() for line in body.items],
        "expires_in_s": RESERVATION_TTL_S,
    }
    return json_response(payload, 201)


async def inventory_release(request: Request) -> Response:
    """Give a held reservation's stock back."""
    reservation_id = request.path_params["reservation_id"]
    if _RESERVATION_ID.fullmatch(reservation_id) is None:
        raise ApiError(
            422, "invalid_path", "reservation_id must be 1-64 letters, digits, '_' or '-'"
        )
    await _service(request).release(reservation_id)
    return Response(status_code=204)


ROUTES = [
    Route(
        "/api/inventory/reservations",
        inventory_reserve,
        methods=["POST"],
        name="inventory_reserve",
    ),
    Route(
        "/api/inventory/reservations/{reservation_id}",
        inventory_release,
        methods=["DELETE"],
        name="inventory_release",
    ),
    Route("/api/inventory/{product_id}", inventory_check, methods=["GET"], name="inventory_check"),
]
