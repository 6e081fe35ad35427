"""The engine's built-in journeys run the plan's table: one function per entry, sending the
entry's operations in order, each as the reference backend's contract defines it."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from harness.engine._journeys import JOURNEY_FUNCTIONS, builtin_key
from harness.plan import BUILTIN_JOURNEYS, JourneyPlan
from reference_backend.faults import OPERATIONS


@dataclass
class _Response:
    body: Any
    status: int = 200
    outcome: str = "ok"


@dataclass
class _RecordingIteration:
    """Stands in for `Iteration`: records what a journey sends, answers with three products
    (a login with token `t<N>`); `unauthorized` requests of the cart answer 401 first."""

    rng: random.Random
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    user: dict[str, Any] = field(default_factory=dict)
    unauthorized: int = 0

    def request(
        self, operation: str, method: str, path: str, headers: Any = None, **_: Any
    ) -> _Response:
        self.sent.append((operation, method, path))
        self.headers.append(dict(headers or {}))
        if operation == "login":
            logins = sum(op == "login" for op, _, _ in self.sent)
            return _Response({"token": f"t{logins}", "user_id": 7})
        if operation == "cart_add" and self.unauthorized:
            self.unauthorized -= 1
            return _Response({"error": {"code": "unauthorized"}}, 401)
        return _Response({"items": [{"id": 1}, {"id": 2}, {"id": 3}]})


def test_the_engine_runs_every_journey_of_the_table_and_no_other() -> None:
    assert list(JOURNEY_FUNCTIONS) == list(BUILTIN_JOURNEYS)


@pytest.mark.parametrize("name", list(BUILTIN_JOURNEYS))
def test_a_journey_sends_the_operations_of_its_table_entry_in_order(name: str) -> None:
    for seed in range(20):
        it = _RecordingIteration(random.Random(seed))
        JOURNEY_FUNCTIONS[name](cast(Any, it), 2000)
        operations = [operation for operation, _, _ in it.sent]
        assert tuple(dict.fromkeys(op for op in operations if op != "login")) == tuple(
            dict.fromkeys(BUILTIN_JOURNEYS[name].steps)
        )
        # a new user logs in (once) before the first request that needs it
        assert operations.count("login") == int(BUILTIN_JOURNEYS[name].signs_in)
        for operation, method, path in it.sent:
            contract_method, contract_path = OPERATIONS[operation]
            assert method == contract_method, operation
            assert re.fullmatch(contract_path, path), (operation, path)


def test_an_aliased_journey_runs_the_entry_it_names() -> None:
    alias = JourneyPlan("quick_search", 1.0, "builtin", builtin="search")
    assert builtin_key(alias) == "search"
    assert builtin_key(JourneyPlan("checkout", 1.0, "builtin")) == "checkout"


class _Answer:
    def __init__(self, status: int, body: object) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> object:
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


def test_a_cart_ordered_by_a_concurrent_session_is_an_answer_other_422s_fail() -> None:
    from harness.engine._journeys import _unless_invalid

    empty = {"error": {"code": "empty_cart", "message": "user 7 has an empty cart"}}
    assert _unless_invalid(_Answer(422, empty), 3.0) is None
    assert _unless_invalid(_Answer(201, {"order_id": 1}), 3.0) is None
    too_large = {"error": {"code": "order_too_large", "message": "…"}}
    assert _unless_invalid(_Answer(422, too_large), 3.0) == "HTTP 422 order_too_large"
    assert _unless_invalid(_Answer(422, ValueError("not JSON")), 3.0) == (
        "HTTP 422 without an error code"
    )


def test_a_user_logs_in_once_and_sends_its_token_to_the_cart() -> None:
    user: dict[str, Any] = {}
    sent: list[tuple[str, str, str]] = []
    for seed in range(3):  # three iterations of one closed-model user
        it = _RecordingIteration(random.Random(seed), user=user)
        JOURNEY_FUNCTIONS["checkout"](cast(Any, it), 2000)
        sent += it.sent
        (cart,) = [h for (op, _, _), h in zip(it.sent, it.headers, strict=True) if op == "cart_add"]
        assert cart["Authorization"] == "Bearer t1"
    assert [op for op, _, _ in sent].count("login") == 1
    assert all(path == "/api/cart/7/items" for op, _, path in sent if op == "cart_add")


def test_a_401_logs_in_again_and_sends_the_request_once_more() -> None:
    it = _RecordingIteration(random.Random(1), user={"token": "stale", "user_id": 7})
    it.unauthorized = 1
    JOURNEY_FUNCTIONS["add_to_cart"](cast(Any, it), 2000)
    assert [op for op, _, _ in it.sent] == ["product_search", "cart_add", "login", "cart_add"]
    assert it.headers[1]["Authorization"] == "Bearer stale"
    assert it.headers[3]["Authorization"] == "Bearer t1"
    assert it.user["token"] == "t1"


def test_a_second_401_is_not_retried_again() -> None:
    it = _RecordingIteration(random.Random(1), user={"token": "stale", "user_id": 7})
    it.unauthorized = 5
    JOURNEY_FUNCTIONS["add_to_cart"](cast(Any, it), 2000)
    assert [op for op, _, _ in it.sent] == ["product_search", "cart_add", "login", "cart_add"]
