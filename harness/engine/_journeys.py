"""The built-in journeys for the reference backend: one function per entry of the table
`harness.plan.BUILTIN_JOURNEYS`, which owns their names and the operations they report.

Data is realistic but never assumed: user ids 1..500, product ids from search results (a
random catalogue id when a search finds nothing), search terms from words the backend's
seeded product names use.

The cart and the orders need a login (`BuiltinJourney.signs_in`). A closed-model user logs
in once, as a random seeded user (`user{N}`, the demo password), at its first journey that
needs it, and keeps the token in `it.user` for all its journeys; an open-model arrival has
a fresh `it.user`, so it logs in first. The login reports as operation `login`. A request
answered 401 (the token expired) logs in again and is sent once more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.plan import BUILTIN_JOURNEYS, LOGIN_OPERATION, JourneyPlan

if TYPE_CHECKING:
    # the journeys only call Iteration.request; not importing it keeps this module (and
    # the operation table) importable without locust
    from harness.engine._iteration import Iteration, StepResult

USERS = 500
"""Users the reference backend seeds (ids 1..USERS)."""
PASSWORD = "perfctl-demo"
"""The password of every user the reference backend seeds (its `passwords.DEMO_PASSWORD`)."""
DEFAULT_CATALOG_SIZE = 2000
"""Products the reference backend seeds unless the plan says otherwise."""
SEARCH_TERMS = (
    "headphones",
    "speaker",
    "keyboard",
    "monitor",
    "skillet",
    "kettle",
    "espresso",
    "cookbook",
    "novel",
    "backpack",
    "tent",
    "puzzle",
    "serum",
    "shampoo",
    "notebook",
    "lamp",
    "drill",
    "coffee",
    "chocolate",
    "leash",
    "classic",
    "premium",
    "compact",
)
SUPPORT_MESSAGES = (
    "where is my order?",
    "how do I return an item?",
    "my payment was declined",
    "can I change my delivery address?",
)

Journey = Callable[["Iteration", int], None]
"""A built-in journey: the iteration to issue requests on and the catalogue size."""


def _user(it: Iteration) -> int:
    return it.rng.randint(1, USERS)


def _login(it: Iteration) -> int | None:
    """Logs in as a random seeded user unless this user already has; its user id, None when
    the login failed."""
    if "token" not in it.user:
        user_id = _user(it)
        result = it.request(
            LOGIN_OPERATION,
            "POST",
            "/api/login",
            json_body={"username": f"user{user_id}", "password": PASSWORD},
        )
        body = result.body
        if result.outcome != "ok" or not isinstance(body, dict) or "token" not in body:
            return None
        it.user["token"] = body["token"]
        it.user["user_id"] = body.get("user_id", user_id)
    return int(it.user["user_id"])


def _signed_in(
    it: Iteration,
    operation: str,
    method: str,
    path: Callable[[int], str],
    *,
    json_body: Callable[[int], Any] | None = None,
    headers: dict[str, str] | None = None,
    expect: tuple[int, ...] = (200,),
    check: Any = None,
) -> StepResult | None:
    """A request as the logged-in user (`path` and `json_body` take the user id); a 401
    logs in again and sends it once more. None when the login failed."""
    for attempt in (1, 2):
        user_id = _login(it)
        if user_id is None:
            return None
        refresh = (401,) if attempt == 1 and 401 not in expect else ()
        result = it.request(
            operation,
            method,
            path(user_id),
            json_body=json_body(user_id) if json_body is not None else None,
            headers={**(headers or {}), "Authorization": f"Bearer {it.user['token']}"},
            expect=(*expect, *refresh),
            check=_unless(refresh, check),
        )
        if result.status not in refresh:
            return result
        it.user.pop("token", None)  # expired: log in again
    return None


def _unless(statuses: tuple[int, ...], check: Any) -> Any:
    """`check`, skipped for a response with one of `statuses`."""
    if not statuses or check is None:
        return check
    return lambda response, latency_ms: (
        None if response.status_code in statuses else check(response, latency_ms)
    )


def _product_ids(body: Any) -> list[int]:
    items = body.get("items") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return []
    ids = (item.get("product_id", item.get("id")) for item in items if isinstance(item, dict))
    return [int(i) for i in ids if isinstance(i, int)]


def _search(it: Iteration, catalog_size: int) -> list[int]:
    result = it.request(
        "product_search",
        "GET",
        "/api/products/search",
        query={"q": it.rng.choice(SEARCH_TERMS), "page": 1, "page_size": 20},
    )
    return _product_ids(result.body)


def _pick(it: Iteration, ids: list[int], catalog_size: int) -> int:
    return it.rng.choice(ids) if ids else it.rng.randint(1, catalog_size)


def browse(it: Iteration, catalog_size: int) -> None:
    it.request("category_list", "GET", "/api/categories")
    for _ in range(it.rng.randint(2, 4)):
        product = it.rng.randint(1, catalog_size)
        it.request("product_detail", "GET", f"/api/products/{product}", expect=(200, 404))


def search(it: Iteration, catalog_size: int) -> None:
    ids = _search(it, catalog_size)
    for product in it.rng.sample(ids, min(len(ids), 2)):
        it.request("product_detail", "GET", f"/api/products/{product}")


def add_to_cart(it: Iteration, catalog_size: int) -> None:
    product = _pick(it, _search(it, catalog_size), catalog_size)
    _signed_in(
        it,
        "cart_add",
        "POST",
        lambda user: f"/api/cart/{user}/items",
        json_body=lambda _: {"product_id": product, "quantity": 1},
        expect=(200, 201, 409),
    )


def checkout(it: Iteration, catalog_size: int) -> None:
    product = _pick(it, _search(it, catalog_size), catalog_size)
    added = _signed_in(
        it,
        "cart_add",
        "POST",
        lambda user: f"/api/cart/{user}/items",
        json_body=lambda _: {"product_id": product, "quantity": 1},
        expect=(200, 201, 409),
    )
    if added is None:
        return
    # 402: the simulated provider declined the card; 409: out of stock; 422 empty_cart: another
    # session of the same user (users are drawn from the backend's 500, so two checkouts of
    # one user overlap more often as the rate grows) ordered the cart first. All are answers
    # the contract defines, not failures of the service; any other 422 is a failure.
    _signed_in(
        it,
        "order_processing",
        "POST",
        lambda _: "/api/orders",
        json_body=lambda user: {"user_id": user, "card_token": "tok_visa"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        expect=(200, 201, 402, 409, 422),
        check=_unless_invalid,
    )


def _unless_invalid(response: Any, latency_ms: float) -> str | None:
    """A failure message for a 422 other than `empty_cart` (a cart ordered by a concurrent
    session of the same user); None for every other answer."""
    if response.status_code != 422:
        return None
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    return None if code == "empty_cart" else f"HTTP 422 {code or 'without an error code'}"


def recommendations(it: Iteration, catalog_size: int) -> None:
    it.request("recommendations", "GET", f"/api/recommendations/{_user(it)}", query={"limit": 10})


def support(it: Iteration, catalog_size: int) -> None:
    it.request(
        "customer_support",
        "POST",
        "/api/support/messages",
        json_body={"user_id": _user(it), "message": it.rng.choice(SUPPORT_MESSAGES)},
        expect=(200, 201),
    )


def inventory(it: Iteration, catalog_size: int) -> None:
    it.request("inventory_check", "GET", f"/api/inventory/{it.rng.randint(1, catalog_size)}")


def pricing(it: Iteration, catalog_size: int) -> None:
    it.request("price_lookup", "GET", f"/api/pricing/{it.rng.randint(1, catalog_size)}")


def payment(it: Iteration, catalog_size: int) -> None:
    it.request(
        "payment_processing",
        "POST",
        "/api/payments",
        json_body={
            "amount_cents": it.rng.randint(500, 20000),
            "currency": "USD",
            "user_id": _user(it),
            "card_token": "tok_visa",
            "order_id": None,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
        expect=(200, 201, 402),
    )


_FUNCTIONS: dict[str, Journey] = {
    function.__name__: function
    for function in (
        browse,
        search,
        add_to_cart,
        checkout,
        recommendations,
        support,
        inventory,
        pricing,
        payment,
    )
}
if _FUNCTIONS.keys() != BUILTIN_JOURNEYS.keys():
    # the table is the contract the spec plans with: a journey it lists must run here
    raise RuntimeError(
        "the engine's built-in journeys differ from harness.plan.BUILTIN_JOURNEYS: "
        f"{sorted(_FUNCTIONS.keys() ^ BUILTIN_JOURNEYS.keys())}"
    )

JOURNEY_FUNCTIONS: dict[str, Journey] = {name: _FUNCTIONS[name] for name in BUILTIN_JOURNEYS}
"""Built-in journey name -> the function that runs it, in the table's order."""


def builtin_key(journey: JourneyPlan) -> str:
    """The table entry a built-in journey of the plan runs (its name may be an alias of it)."""
    return journey.builtin or journey.name
