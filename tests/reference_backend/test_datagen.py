"""The seeded data generator: deterministic, sized by the settings, internally consistent."""

from __future__ import annotations

from collections import Counter

from reference_backend.datagen import DAY_S, HISTORY_DAYS, generate

NOW_S = 1_800_000_000.0


def test_same_seed_same_rows() -> None:
    first = generate(seed=11, catalog_size=300, users=40, now_s=NOW_S)
    again = generate(seed=11, catalog_size=300, users=40, now_s=NOW_S)
    other = generate(seed=12, catalog_size=300, users=40, now_s=NOW_S)
    assert first == again
    assert first.products != other.products


def test_sizes_follow_the_settings() -> None:
    data = generate(seed=1, catalog_size=250, users=30, now_s=NOW_S)
    assert [p.product_id for p in data.products] == list(range(1, 251))
    assert [u.user_id for u in data.users] == list(range(1, 31))
    assert len(data.categories) == 10
    assert len({u.email for u in data.users}) == 30


def test_catalog_looks_like_a_shop() -> None:
    products = generate(seed=2, catalog_size=2000, users=10, now_s=NOW_S).products
    statuses = Counter(p.status for p in products)
    assert 0.9 < statuses["active"] / 2000 < 0.97
    assert 0.02 < sum(p.stock == 0 for p in products) / 2000 < 0.08
    assert all(p.price_cents % 100 == 99 for p in products)  # shop prices end in .99
    assert len({p.category_id for p in products}) == 10
    scores = sorted((p.popularity_score for p in products), reverse=True)
    assert sum(scores[:200]) > sum(scores[1000:])  # a long tail: the top 10 % outweighs half


def test_history_is_ninety_days_of_consistent_orders() -> None:
    data = generate(seed=3, catalog_size=500, users=80, now_s=NOW_S)
    assert data.orders
    assert all(NOW_S - HISTORY_DAYS * DAY_S <= o.created_at_s <= NOW_S for o in data.orders)
    stamps = [o.created_at_s for o in data.orders]
    assert stamps == sorted(stamps)
    totals: Counter[int] = Counter()
    for item in data.order_items:
        totals[item.order_id] += item.quantity * item.unit_price_cents
    assert all(totals[o.order_id] == o.total_cents for o in data.orders)
    active = {p.product_id for p in data.products if p.status == "active"}
    assert {item.product_id for item in data.order_items} <= active


def test_users_favour_a_few_categories() -> None:
    data = generate(seed=4, catalog_size=1000, users=50, now_s=NOW_S)
    category = {p.product_id: p.category_id for p in data.products}
    buyer = {o.order_id: o.user_id for o in data.orders}
    per_user: dict[int, Counter[int]] = {}
    for item in data.order_items:
        per_user.setdefault(buyer[item.order_id], Counter())[category[item.product_id]] += 1
    shares = [
        sum(n for _, n in counts.most_common(3)) / sum(counts.values())
        for counts in per_user.values()
        if sum(counts.values()) >= 8
    ]
    assert shares
    assert sum(shares) / len(shares) > 0.7  # most of what a user buys is in 3 categories
