"""Deterministic seeded data: a catalog, its users and 90 days of their order history.

The same seed and sizes always give the same rows (timestamps are offsets from the moment of
seeding), so tests and load runs see one predictable shop. Users favour two or three
categories and buy popular products more often, and products of one category are often
bought together, so that recommendations and search have something real to find.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from reference_backend.passwords import DEMO_PASSWORD, SALT_BYTES, hash_password, username_of

HISTORY_DAYS = 90
DAY_S = 86_400.0


class CategoryRecord(NamedTuple):
    category_id: int
    slug: str
    name: str


class ProductRecord(NamedTuple):
    product_id: int
    category_id: int
    name: str
    description: str
    price_cents: int
    popularity_score: float
    stock: int
    status: str
    image_url: str


class UserRecord(NamedTuple):
    user_id: int
    name: str
    email: str
    username: str
    password_hash: str


class OrderRecord(NamedTuple):
    order_id: int
    user_id: int
    status: str
    total_cents: int
    created_at_s: float


class OrderItemRecord(NamedTuple):
    order_id: int
    product_id: int
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class _CategoryKind:
    slug: str
    name: str
    brands: tuple[str, ...]
    nouns: tuple[str, ...]
    features: tuple[str, ...]
    median_price_cents: int


# slug, name, brands, products, features, median price in cents (lists are "|"-separated)
_VOCABULARY = (
    (
        "electronics",
        "Electronics",
        "Voltix|Nordwave|Lumen|Arcwell",
        "Wireless Headphones|Bluetooth Speaker|4K Monitor|Mechanical Keyboard|USB-C Hub|Webcam|Smartwatch|Portable Charger",
        "noise cancelling|30-hour battery|USB-C charging|low latency|aluminium body|water resistant",
        8900,
    ),
    (
        "home-kitchen",
        "Home & Kitchen",
        "Hearthly|Copperleaf|Mistral|Oakridge",
        "Chef Knife|Cast Iron Skillet|Espresso Machine|Blender|Kettle|Cutting Board|Dutch Oven|Coffee Grinder",
        "dishwasher safe|stainless steel|non-stick coating|induction ready|ergonomic handle|BPA free",
        4900,
    ),
    (
        "books",
        "Books",
        "Penrose Press|Greywood|Lantern House|Bluefin Books",
        "Field Guide|Cookbook|Mystery Novel|History of Science|Poetry Collection|Travel Atlas|Programming Handbook|Biography",
        "hardcover|illustrated|second edition|large print|annotated|paperback",
        1800,
    ),
    (
        "sports-outdoors",
        "Sports & Outdoors",
        "Summit|Trailhead|Ridgeline|Kestrel",
        "Hiking Backpack|Trail Running Shoes|Yoga Mat|Camping Tent|Water Bottle|Cycling Helmet|Sleeping Bag|Trekking Poles",
        "lightweight|waterproof|breathable mesh|recycled materials|reflective details|packable",
        5900,
    ),
    (
        "toys-games",
        "Toys & Games",
        "Brightbox|Puzzlewick|Tumble|Starling",
        "Building Set|Board Game|Jigsaw Puzzle|Remote Control Car|Plush Bear|Card Game|Science Kit|Wooden Train",
        "ages 8 and up|2-6 players|1000 pieces|rechargeable|educational|non-toxic paint",
        2900,
    ),
    (
        "beauty",
        "Beauty & Personal Care",
        "Velour|Aurelle|Pureform|Solenne",
        "Face Serum|Moisturiser|Shampoo|Electric Toothbrush|Hair Dryer|Sunscreen SPF 50|Lip Balm|Beard Trimmer",
        "fragrance free|vegan|dermatologist tested|travel size|refillable|sensitive skin",
        2400,
    ),
    (
        "office",
        "Office Supplies",
        "Papermill|Inkwell|Deskline|Foldwise",
        "Notebook|Fountain Pen|Desk Lamp|Ergonomic Chair|Standing Desk|Label Printer|Document Organiser|Whiteboard",
        "A5 dotted|adjustable height|refillable|recycled paper|LED dimmable|magnetic",
        3900,
    ),
    (
        "garden",
        "Garden & Tools",
        "Greenthumb|Fernhill|Bramble|Loamworks",
        "Pruning Shears|Garden Hose|Cordless Drill|Raised Bed Kit|Seed Starter Tray|Leaf Blower|Watering Can|Tool Set",
        "rust resistant|cordless|expandable|heavy duty|weatherproof|lifetime warranty",
        4400,
    ),
    (
        "grocery",
        "Grocery & Gourmet",
        "Harvest Table|Olivar|Saltmarsh|Beanery",
        "Whole Bean Coffee|Extra Virgin Olive Oil|Dark Chocolate|Green Tea|Maple Syrup|Sea Salt|Granola|Hot Sauce",
        "organic|fair trade|single origin|gluten free|small batch|family size",
        1200,
    ),
    (
        "pet-supplies",
        "Pet Supplies",
        "Pawsome|Tailwind|Furrow|Whiskerly",
        "Dog Bed|Cat Tree|Chew Toy|Leash|Pet Fountain|Grooming Brush|Food Bowl|Travel Carrier",
        "machine washable|chew resistant|orthopedic|non-slip|adjustable|vet approved",
        3200,
    ),
)
_KINDS = tuple(
    _CategoryKind(
        slug,
        name,
        tuple(brands.split("|")),
        tuple(nouns.split("|")),
        tuple(features.split("|")),
        price,
    )
    for slug, name, brands, nouns, features, price in _VOCABULARY
)
_ADJECTIVES = (
    "Classic",
    "Pro",
    "Essential",
    "Premium",
    "Compact",
    "Deluxe",
    "Eco",
    "Ultra",
    "Smart",
    "Everyday",
)
_FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Isla",
    "Jonas",
    "Kemi",
    "Luca",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
)
_LAST_NAMES = (
    "Andersen",
    "Bauer",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Martin",
    "Novak",
    "Okafor",
    "Park",
)


@dataclass(frozen=True, slots=True)
class SeedData:
    """Every row the generator produced, in insertion order."""

    categories: list[CategoryRecord]
    """One row per category kind."""
    products: list[ProductRecord]
    """`catalog_size` products spread over the categories."""
    users: list[UserRecord]
    """Users 1..users; user N logs in as `userN` with `passwords.DEMO_PASSWORD`."""
    orders: list[OrderRecord]
    """Orders of the last 90 days, oldest first."""
    order_items: list[OrderItemRecord]
    """Lines of those orders."""


def generate(*, seed: int, catalog_size: int, users: int, now_s: float) -> SeedData:
    """Builds the whole seeded shop; the same arguments always give the same rows."""
    rng = random.Random(seed)
    categories = [CategoryRecord(i + 1, kind.slug, kind.name) for i, kind in enumerate(_KINDS)]
    products = list(_products(rng, catalog_size))
    # salts come from their own stream, so that the rest of the data does not depend on them
    salts = random.Random(f"{seed}:salts")
    user_rows = [_user(rng, salts, user_id) for user_id in range(1, users + 1)]
    orders, items = _history(rng, products, users, now_s)
    return SeedData(categories, products, user_rows, orders, items)


def _products(rng: random.Random, count: int) -> Iterator[ProductRecord]:
    for product_id in range(1, count + 1):
        category_index = rng.randrange(len(_KINDS))
        kind = _KINDS[category_index]
        brand, noun, adjective = (
            rng.choice(kind.brands),
            rng.choice(kind.nouns),
            rng.choice(_ADJECTIVES),
        )
        features = rng.sample(kind.features, 3)
        name = f"{brand} {adjective} {noun} {rng.choice('ABCDEFGHKMRSTXZ')}{rng.randint(10, 99)}"
        description = (
            f"The {adjective.lower()} {noun.lower()} from {brand}: {features[0]}, {features[1]} "
            f"and {features[2]}. Part of our {kind.name.lower()} range."
        )
        # Prices are lognormal around the category's median and end in .99 like a shop's.
        dollars = max(1, round(kind.median_price_cents / 100 * math.exp(rng.gauss(0.0, 0.6))))
        price_cents = dollars * 100 - 1
        # Popularity follows a long tail: a few products draw most of the attention.
        popularity = round(100.0 * rng.paretovariate(1.6) / 10.0, 3)
        roll = rng.random()
        status = "active" if roll < 0.94 else ("discontinued" if roll < 0.97 else "draft")
        stock = 0 if rng.random() < 0.05 else rng.randint(1, 400)
        image_url = f"https://images.example.com/products/{product_id}.jpg"
        yield ProductRecord(
            product_id,
            category_index + 1,
            name,
            description,
            price_cents,
            popularity,
            stock,
            status,
            image_url,
        )


def _user(rng: random.Random, salts: random.Random, user_id: int) -> UserRecord:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    return UserRecord(
        user_id,
        f"{first} {last}",
        f"{first.lower()}.{last.lower()}{user_id}@example.com",
        username_of(user_id),
        hash_password(DEMO_PASSWORD, salts.randbytes(SALT_BYTES)),
    )


def _history(
    rng: random.Random, products: list[ProductRecord], users: int, now_s: float
) -> tuple[list[OrderRecord], list[OrderItemRecord]]:
    sellable = [p for p in products if p.status == "active"]
    if not sellable:
        return [], []
    by_category: dict[int, list[ProductRecord]] = {}
    for product in sellable:
        by_category.setdefault(product.category_id, []).append(product)
    # Cumulative weights once, so that each draw is a bisection, not a pass over the catalog.
    weights = {
        c: list(itertools.accumulate(p.popularity_score for p in ps))
        for c, ps in by_category.items()
    }
    all_weights = list(itertools.accumulate(p.popularity_score for p in sellable))
    drafts: list[tuple[float, int, list[tuple[ProductRecord, int]]]] = []
    for user_id in range(1, users + 1):
        favourites = rng.sample(sorted(by_category), min(len(by_category), rng.randint(2, 3)))
        for _ in range(_poisson(rng, 6.0)):
            created_at_s = now_s - rng.uniform(0.0, HISTORY_DAYS * DAY_S)
            picked: dict[int, tuple[ProductRecord, int]] = {}
            for _ in range(rng.randint(1, 4)):
                if rng.random() < 0.8:
                    category = rng.choice(favourites)
                    product = rng.choices(by_category[category], cum_weights=weights[category])[0]
                else:
                    product = rng.choices(sellable, cum_weights=all_weights)[0]
                quantity = 1 if rng.random() < 0.75 else rng.randint(2, 3)
                picked[product.product_id] = (product, quantity)
            drafts.append((created_at_s, user_id, list(picked.values())))
    drafts.sort(key=lambda draft: draft[0])
    orders: list[OrderRecord] = []
    items: list[OrderItemRecord] = []
    for order_id, (created_at_s, user_id, lines) in enumerate(drafts, start=1):
        total = sum(product.price_cents * quantity for product, quantity in lines)
        orders.append(
            OrderRecord(
                order_id, user_id, _status_by_age(now_s - created_at_s), total, created_at_s
            )
        )
        items.extend(OrderItemRecord(order_id, p.product_id, q, p.price_cents) for p, q in lines)
    return orders, items


def _status_by_age(age_s: float) -> str:
    if age_s < 2 * DAY_S:
        return "confirmed"
    if age_s < 5 * DAY_S:
        return "shipped"
    return "delivered"


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; the means used here are small.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
