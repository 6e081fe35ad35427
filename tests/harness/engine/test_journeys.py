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


@dataclass
class _RecordingIteration:
    """Stands in for `Iteration`: records what a journey sends, answers with three products."""

    rng: random.Random
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def request(self, operation: str, method: str, path: str, **_: Any) -> _Response:
        self.sent.append((operation, method, path))
        return _Response({"items": [{"id": 1}, {"id": 2}, {"id": 3}]})


def test_the_engine_runs_every_journey_of_the_table_and_no_other() -> None:
    assert list(JOURNEY_FUNCTIONS) == list(BUILTIN_JOURNEYS)


@pytest.mark.parametrize("name", list(BUILTIN_JOURNEYS))
def test_a_journey_sends_the_operations_of_its_table_entry_in_order(name: str) -> None:
    for seed in range(20):
        it = _RecordingIteration(random.Random(seed))
        JOURNEY_FUNCTIONS[name](cast(Any, it), 2000)
        operations = [operation for operation, _, _ in it.sent]
        assert tuple(dict.fromkeys(operations)) == tuple(
            dict.fromkeys(BUILTIN_JOURNEYS[name].steps)
        )
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
