"""Customer support agent: intent detection and answers from real data."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from reference_backend.agents.support import detect_intent


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("Where is my order?", "order_status"),
        ("Can you track order #123 for me", "order_status"),
        ("I want a refund, the blender arrived broken", "returns"),
        ("How long does shipping take to Canada?", "shipping"),
        ("Do you have wireless headphones in stock?", "product_question"),
        ("Is product 42 available?", "product_question"),
        ("Hello there", "other"),
    ],
)
def test_detect_intent(message: str, intent: str) -> None:
    assert detect_intent(message)[0] == intent


def _ask(client: TestClient, user_id: int, message: str) -> dict[str, object]:
    response = client.post("/api/support/messages", json={"user_id": user_id, "message": message})
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_order_status_quotes_the_latest_order(client: TestClient) -> None:
    latest = client.get("/api/users/2/orders", params={"limit": 1}).json()["items"][0]
    answer = _ask(client, 2, "where is my order?")
    assert answer["intent"] == "order_status"
    assert answer["references"] == {"order_id": latest["order_id"]}
    assert f"#{latest['order_id']}" in str(answer["answer"])
    assert latest["status"] in str(answer["answer"])


def test_someone_elses_order_is_not_disclosed(client: TestClient) -> None:
    other = client.get("/api/users/3/orders", params={"limit": 1}).json()["items"][0]
    answer = _ask(client, 2, f"what is the status of order #{other['order_id']}?")
    assert "can't find" in str(answer["answer"])
    assert answer["references"] == {}


def test_product_question_quotes_product_facts(client: TestClient) -> None:
    product = client.get("/api/products/5").json()
    answer = _ask(client, 1, "Is product 5 in stock?")
    assert answer["references"] == {"product_id": 5}
    assert product["name"] in str(answer["answer"])
    assert f"${product['price_cents'] / 100:.2f}" in str(answer["answer"])


def test_returns_answer_has_policy_and_window(client: TestClient) -> None:
    answer = _ask(client, 2, "how do I return this and get a refund?")
    assert answer["intent"] == "returns"
    assert "30 days" in str(answer["answer"])
    assert "return window" in str(answer["answer"])


def test_other_messages_hand_off(client: TestClient) -> None:
    answer = _ask(client, 1, "hello")
    assert answer["intent"] == "other"
    assert answer["handoff"] is True


@pytest.mark.parametrize(
    "body",
    [{"user_id": 1, "message": ""}, {"user_id": 1, "message": "x" * 2001}, {"user_id": 1}],
)
def test_bad_messages_are_422(client: TestClient, body: dict[str, object]) -> None:
    assert client.post("/api/support/messages", json=body).status_code == 422


def test_payment_questions_get_the_payment_faq(client: TestClient) -> None:
    answer = _ask(client, 1, "my payment was declined")
    assert answer["intent"] == "other"
    assert "never charged" in str(answer["answer"])
