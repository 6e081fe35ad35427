"""User preferences agent: defaults, replace, validation."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient


def test_defaults_then_replace(client: TestClient) -> None:
    defaults = client.get("/api/users/5/preferences").json()
    assert defaults == {
        "user_id": 5,
        "currency": "USD",
        "language": "en",
        "favourite_categories": [],
        "newsletter": False,
        "max_price_cents": None,
    }
    wanted = {"currency": "EUR", "favourite_categories": ["books"], "newsletter": True}
    response = client.put("/api/users/5/preferences", json=wanted)
    assert response.status_code == 200
    assert client.get("/api/users/5/preferences").json() == {**defaults, **wanted}


@pytest.mark.parametrize(
    "body",
    [
        {"currency": "BTC"},
        {"newsletter": "yes"},
        {"colour": "red"},
        {"max_price_cents": -1},
        {"favourite_categories": ["x" * 65]},
        {"favourite_categories": ["nul\u0000byte"]},  # PostgreSQL JSONB refuses NUL
    ],
)
def test_bad_preferences_are_422(client: TestClient, body: dict[str, object]) -> None:
    assert client.put("/api/users/5/preferences", json=body).status_code == 422


def test_unknown_user_cannot_log_in(client: TestClient) -> None:
    assert client.get("/api/users/77777/preferences").status_code == 401
    assert client.put("/api/users/77777/preferences", json={}).status_code == 401
