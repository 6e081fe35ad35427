"""Cart agent: a user's cart of products and quantities, kept in the database."""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_backend.agents.auth import path_user
from reference_backend.agents.inventory import MAX_LINES
from reference_backend.agents.search import CatalogService
from reference_backend.agents.users import UserDirectory
from reference_backend.api import MAX_ID, ApiError, json_response, path_id, read_model
from reference_backend.db import Database

MAX_ITEM_QUANTITY = 100


class CartItemRequest(BaseModel):
    """The body of POST /api/cart/{user_id}/items."""

    model_config = ConfigDict(extra="forbid", strict=True)

    product_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(default=1, ge=1, le=MAX_ITEM_QUANTITY)


class CartService:
    """Reads and changes carts; products must exist and be for sale.

    A full cart is a conflict with the cart's state (409), not an invalid request (422).
    """

    def __init__(self, db: Database, catalog: CatalogService, users: UserDirectory) -> None:
        self._db = db
        self._catalog = catalog
        self._users = users

    async def view(self, user_id: int) -> dict[str, Any]:
        """The cart with its lines and subtotal at base prices, or 404 for an unknown user."""
        await self.require_user(user_id)
        rows = await self._db.cart_items(user_id)
        items = [{**row, "line_total_cents": row["price_cents"] * row["quantity"]} for row in rows]
        return {
            "user_id": user_id,
            "items": items,
            "item_count": sum(row["quantity"] for row in rows),
            "subtotal_cents": sum(item["line_total_cents"] for item in items),
        }

    async def add(self, user_id: int, product_id: int, quantity: int) -> dict[str, Any]:
        """Adds `quantity` of a product; 404/422 when the product cannot be bought."""
        await self.require_user(user_id)
        product = await self._catalog.product(product_id)
        if product["status"] != "active":
            raise ApiError(422, "product_unavailable", f"product {product_id} is not for sale")
        added = await self._db.add_cart_item(
            user_id, product_id, quantity, MAX_ITEM_QUANTITY, MAX_LINES
        )
        if added == "cart_full":
            raise ApiError(409, "cart_full", f"a cart holds at most {MAX_LINES} products")
        if added == "quantity_limit":
            raise ApiError(
                409,
                "quantity_limit",
                f"a cart holds at most {MAX_ITEM_QUANTITY} of product {product_id}",
            )
        return await self.view(user_id)

    async def remove(self, user_id: int, product_id: int) -> None:
        """Removes a product from the cart, or 404 when it is not there."""
        await self.require_user(user_id)
        if not await self._db.remove_cart_item(user_id, product_id):
            raise ApiError(404, "not_in_cart", f"product {product_id} is not in the cart")

    async def require_user(self, user_id: int) -> None:
        """Answers 404 for a user that does not exist."""
        await self._users.require(user_id)


def _service(request: Request) -> CartService:
    return cast(CartService, request.app.state.cart)


async def cart_view(request: Request) -> Response:
    """Show the logged-in user's cart with line totals and subtotal."""
    return json_response(await _service(request).view(await path_user(request)))


async def cart_add(request: Request) -> Response:
    """Add a product to the logged-in user's cart (quantities add up, at most 100 each)."""
    user_id = await path_user(request)
    body = await read_model(request, CartItemRequest)
    cart = await _service(request).add(user_id, body.product_id, body.quantity)
    return json_response(cart, 201)


async def cart_remove(request: Request) -> Response:
    """Remove a product from the logged-in user's cart."""
    user_id = await path_user(request)
    await _service(request).remove(user_id, path_id(request, "product_id"))
    return Response(status_code=204)


ROUTES = [
    Route("/api/cart/{user_id}", cart_view, methods=["GET"], name="cart_view"),
    Route("/api/cart/{user_id}/items", cart_add, methods=["POST"], name="cart_add"),
    Route(
        "/api/cart/{user_id}/items/{product_id}",
        cart_remove,
        methods=["DELETE"],
        name="cart_remove",
    ),
]
