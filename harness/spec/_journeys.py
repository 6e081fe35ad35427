"""The built-in journeys the engine implements for the reference backend, and what they report.

A scenario names a built-in journey by its key; the plan copies `operations` into
`JourneyPlan.operations`, which is how perfctl knows, before any load is sent, which SLA
objectives a scenario can exercise. A multi-step journey also reports its whole duration as
`journey.<name>`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BuiltinJourney:
    """One built-in journey: what it does and the operations it reports."""

    name: str
    """Key scenarios use, e.g. "checkout"."""
    description: str
    """What a user on this journey does."""
    steps: tuple[str, ...]
    """Operations of its requests, in order (product_detail may repeat in browse)."""
    requests_per_iteration: float
    """Average requests one iteration sends (used to estimate the request rate)."""

    @property
    def operations(self) -> tuple[str, ...]:
        """Operations it reports, the whole-journey operation last for multi-step journeys."""
        return self.operations_as(self.name)

    def operations_as(self, journey_name: str) -> tuple[str, ...]:
        """Operations it reports when a scenario names it `journey_name` (an alias)."""
        unique = tuple(dict.fromkeys(self.steps))
        return (*unique, f"journey.{journey_name}") if len(self.steps) > 1 else unique


BUILTIN_JOURNEYS: dict[str, BuiltinJourney] = {
    journey.name: journey
    for journey in (
        BuiltinJourney(
            "browse",
            "opens the category list, then a few product pages",
            ("category_list", "product_detail"),
            4.0,
        ),
        BuiltinJourney(
            "search",
            "searches the catalog, then opens up to two results",
            ("product_search", "product_detail"),
            3.0,
        ),
        BuiltinJourney(
            "add_to_cart",
            "searches, then adds a result to the cart",
            ("product_search", "cart_add"),
            2.0,
        ),
        BuiltinJourney(
            "checkout",
            "searches, adds to the cart, places the order (reserve, price, charge, persist)",
            ("product_search", "cart_add", "order_processing"),
            3.0,
        ),
        BuiltinJourney(
            "recommendations",
            "asks for the user's recommendations",
            ("recommendations",),
            1.0,
        ),
        BuiltinJourney(
            "support",
            "sends a question to customer support",
            ("customer_support",),
            1.0,
        ),
        BuiltinJourney(
            "inventory",
            "checks the stock of a product",
            ("inventory_check",),
            1.0,
        ),
        BuiltinJourney("pricing", "looks up the price of a product", ("price_lookup",), 1.0),
        BuiltinJourney(
            "payment",
            "charges a card directly with a fresh Idempotency-Key",
            ("payment_processing",),
            1.0,
        ),
    )
}
"""Built-in journey name -> journey."""
