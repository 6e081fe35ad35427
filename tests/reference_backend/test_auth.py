"""Logging in: tokens, the session cookie, expiry, and the routes that need a login."""

from __future__ import annotations

import dataclasses
import time

import pytest
from starlette.testclient import TestClient

from reference_backend.app import create_app
from reference_backend.datagen import generate
from reference_backend.passwords import DEMO_PASSWORD, verify_password
from reference_backend.settings import Settings
from tests.reference_backend.conftest import error_code

PROTECTED = [
    ("GET", "/api/cart/3"),
    ("POST", "/api/cart/3/items"),
    ("DELETE", "/api/cart/3/items/1"),
    ("GET", "/api/users/3/orders"),
    ("GET", "/api/orders/1"),
    ("POST", "/api/orders"),
    ("GET", "/api/users/3/preferences"),
    ("PUT", "/api/users/3/preferences"),
]


def _login(client: TestClient, user: str, password: str = DEMO_PASSWORD) -> dict[str, object]:
    response = client.post("/api/login", json={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_login_answers_a_token_and_sets_an_http_only_session_cookie(anonymous: TestClient) -> None:
    response = anonymous.post("/api/login", json={"username": "user3", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == 3
    assert body["expires_in"] == 3600
    assert len(body["token"]) >= 40
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"session={body['token']};")
    assert "HttpOnly" in cookie
    assert "Max-Age=3600" in cookie
    assert _login(anonymous, "user3")["token"] != body["token"]  # every login a new token


@pytest.mark.parametrize(
    ("username", "password"),
    [("user3", "wrong"), ("user99999", DEMO_PASSWORD), ("nobody", "x")],
)
def test_wrong_credentials_are_401(anonymous: TestClient, username: str, password: str) -> None:
    response = anonymous.post("/api/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert error_code(response) == "invalid_credentials"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_routes_without_a_login_are_401_with_a_bearer_challenge(
    anonymous: TestClient, method: str, path: str
) -> None:
    response = anonymous.request(method, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert error_code(response) == "unauthorized"
    forged = anonymous.request(method, path, headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401


def test_the_bearer_token_opens_the_users_own_routes_only(anonymous: TestClient) -> None:
    token = _login(anonymous, "user3")["token"]
    anonymous.cookies.clear()  # the bearer token alone
    auth = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/cart/3", headers=auth).status_code == 200
    assert anonymous.get("/api/users/3/orders", headers=auth).status_code == 200
    assert anonymous.get("/api/users/3/preferences", headers=auth).status_code == 200
    for path in ("/api/cart/4", "/api/users/4/orders", "/api/users/4/preferences"):
        other = anonymous.get(path, headers=auth)
        assert other.status_code == 403
        assert error_code(other) == "forbidden"
    checkout = {"user_id": 4, "card_token": "tok_visa"}
    assert anonymous.post("/api/orders", json=checkout, headers=auth).status_code == 403
    assert anonymous.get("/api/cart/x", headers=auth).status_code == 422


def test_another_users_order_is_403(anonymous: TestClient) -> None:
    first = _login(anonymous, "user1")
    anonymous.cookies.clear()
    history = anonymous.get(
        "/api/users/1/orders", headers={"Authorization": f"Bearer {first['token']}"}
    )
    (order_id, *_) = [order["order_id"] for order in history.json()["items"]]
    second = _login(anonymous, "user2")
    anonymous.cookies.clear()
    mine = {"Authorization": f"Bearer {first['token']}"}
    theirs = {"Authorization": f"Bearer {second['token']}"}
    assert anonymous.get(f"/api/orders/{order_id}", headers=mine).status_code == 200
    assert anonymous.get(f"/api/orders/{order_id}", headers=theirs).status_code == 403


def test_the_session_cookie_alone_logs_in_until_logout(anonymous: TestClient) -> None:
    _login(anonymous, "user5")  # the client keeps the cookie
    assert anonymous.get("/api/cart/5").status_code == 200
    assert anonymous.get("/api/cart/6").status_code == 403
    out = anonymous.post("/api/logout")
    assert out.status_code == 204
    assert 'session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert anonymous.get("/api/cart/5").status_code == 401


def test_a_logged_out_token_stops_working(anonymous: TestClient) -> None:
    token = _login(anonymous, "user5")["token"]
    anonymous.cookies.clear()
    auth = {"Authorization": f"Bearer {token}"}
    assert anonymous.post("/api/logout", headers=auth).status_code == 204
    assert anonymous.get("/api/cart/5", headers=auth).status_code == 401


def test_a_token_expires_after_the_session_ttl(any_settings: Settings) -> None:
    settings = dataclasses.replace(any_settings, session_ttl_s=0.5)
    with TestClient(create_app(settings)) as client:
        body = _login(client, "user7")
        assert body["expires_in"] == 0 or body["expires_in"] == 1
        client.cookies.clear()
        auth = {"Authorization": f"Bearer {body['token']}"}
        assert client.get("/api/cart/7", headers=auth).status_code == 200
        deadline = time.monotonic() + 5
        while client.get("/api/cart/7", headers=auth).status_code == 200:
            assert time.monotonic() < deadline, "the token never expired"
            time.sleep(0.1)
        expired = client.get("/api/cart/7", headers=auth)
        assert expired.status_code == 401
        assert expired.json()["error"]["message"] == "the token is unknown or expired"


def test_a_token_issued_by_one_app_works_on_another_on_the_same_database(
    any_settings: Settings,
) -> None:
    # two processes of `perfctl serve --workers 2` share the database, not their memory
    with TestClient(create_app(any_settings)) as first:
        token = _login(first, "user8")["token"]
        with TestClient(create_app(dataclasses.replace(any_settings))) as second:
            auth = {"Authorization": f"Bearer {token}"}
            assert second.get("/api/cart/8", headers=auth).status_code == 200


def test_seeded_users_log_in_as_user_n_with_a_salted_hash() -> None:
    data = generate(seed=3, catalog_size=10, users=3, now_s=0.0)
    assert [user.username for user in data.users] == ["user1", "user2", "user3"]
    hashes = [user.password_hash for user in data.users]
    assert len(set(hashes)) == 3  # one salt per user
    assert all(verify_password(DEMO_PASSWORD, stored) for stored in hashes)
    assert not verify_password("wrong", hashes[0])
    again = generate(seed=3, catalog_size=10, users=3, now_s=0.0)
    assert [user.password_hash for user in again.users] == hashes  # deterministic


def test_the_openapi_document_describes_the_login_and_who_needs_it(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["sessionCookie"]["name"] == "session"
    login = document["paths"]["/api/login"]["post"]
    assert set(login["responses"]) >= {"200", "401"}
    assert "security" not in login
    for method, path in PROTECTED:
        template = path.replace("/3", "/{user_id}").replace("/orders/1", "/orders/{order_id}")
        template = template.replace("/items/1", "/items/{product_id}")
        operation = document["paths"][template][method.lower()]
        assert operation["security"] == [{"bearerAuth": []}, {"sessionCookie": []}]
        assert {"401", "403"} <= set(operation["responses"])
    assert "security" not in document["paths"]["/api/products/search"]["get"]
