"""`import_har`: what a recording becomes, from the DevTools fixture and small HARs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.importers import import_har
from harness.importers._render import render_scenario
from tests.harness.importers._support import SHOP_HAR, entry, write_har

API = "http://localhost:8000"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE3MzAwMDAwMDB9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def test_a_browser_session_keeps_the_api_requests_in_order_with_stable_names() -> None:
    imported = import_har(str(SHOP_HAR))

    steps = imported.scenario.journeys[0].steps
    assert [(step.method, step.operation) for step in steps] == [
        ("GET", "get_api_categories"),
        ("GET", "get_api_products_search"),
        ("GET", "get_api_products_id"),
        ("GET", "get_api_pricing_id"),
        ("GET", "get_api_inventory_id"),
        ("GET", "get_api_recommendations_id"),
        ("POST", "post_api_login"),
        ("POST", "post_api_cart_id_items"),
        ("POST", "post_api_inventory_reservations"),
        ("DELETE", "delete_api_inventory_reservations_id"),
        ("DELETE", "delete_api_cart_id_items_id"),
    ]
    assert imported.target == API
    assert [step.status for step in steps][6:] == [(200,), (201,), (201,), (204,), (204,)]
    assert [op.name for op in imported.sla.operations] == [step.operation for step in steps]
    assert imported.sla.operations[2].title == "GET /api/products/{id}"


def test_static_assets_preflights_and_other_hosts_are_left_out_and_counted() -> None:
    imported = import_har(str(SHOP_HAR))

    paths = [step.path for step in imported.scenario.journeys[0].steps]
    assert all(path.startswith("/api/") for path in paths)
    assert "left out 11 static assets, 1 non-HTTP(S) URLs, 3 CORS preflights" in imported.notes
    assert (
        "left out 3 requests to other hosts: www.google-analytics.com ×2, localhost:3000 ×1"
        in imported.notes
    )


def test_an_id_from_an_answer_becomes_an_extraction_and_a_placeholder() -> None:
    steps = import_har(str(SHOP_HAR)).scenario.journeys[0].steps

    search, product, login, cart_add = steps[1], steps[2], steps[6], steps[7]
    reserve, release = steps[8], steps[9]
    assert search.extract == {"product_id": "items.1.product_id"}
    assert search.json_path == "items.1.product_id"  # a missing value fails the check
    assert product.path == "/api/products/{product_id}"
    assert cart_add.json_body == {"product_id": "{product_id}", "quantity": 1}
    assert reserve.json_body == {"items": [{"product_id": "{product_id}", "quantity": 1}]}
    assert reserve.extract == {"reservation_id": "reservation_id"}
    assert release.path == "/api/inventory/reservations/{reservation_id}"
    # the user id 1 came from no answer: it stays as recorded
    assert cart_add.path == "/api/cart/1/items"
    # the login answer's token authorises every later request
    assert login.extract == {"token": "token"}
    assert cart_add.headers["Authorization"] == "Bearer {token}"
    assert "Authorization" not in product.headers  # browsing came before the login
    assert "product_id" in search.extract_notes
    assert search.extract_notes["product_id"].startswith("1248 in the recording")


def test_the_recorded_password_token_and_cookies_are_never_written() -> None:
    recording = json.loads(SHOP_HAR.read_text())["log"]["entries"]
    login = next(
        e
        for e in recording
        if e["request"]["url"].endswith("/api/login") and e["request"]["method"] == "POST"
    )
    token = json.loads(login["response"]["content"]["text"])["token"]
    imported = import_har(str(SHOP_HAR))
    text = render_scenario(imported.scenario)

    assert token not in text
    assert "perfctl-demo" not in text  # the password typed into the login form
    assert "session=" not in text
    assert imported.env_vars == ("PASSWORD",)
    assert imported.scenario.journeys[0].steps[6].json_body == {
        "username": "user1",
        "password": "${env:PASSWORD}",
    }
    assert imported.scenario.journeys[0].steps[0].headers == {
        "Accept": "application/json",
        "X-Client-Version": "shop-web/2.4.1",
    }


def test_think_times_are_the_gaps_between_requests(tmp_path: Path) -> None:
    har = write_har(
        tmp_path / "t.har",
        [
            entry(f"{API}/api/a", at_s=0, time_ms=200),
            entry(f"{API}/api/b", at_s=2.7, time_ms=20),  # 2.5 s after /a answered
            entry(f"{API}/api/c", at_s=2.75, time_ms=20),  # the browser's pace: no pause
            entry(f"{API}/api/d", at_s=600, time_ms=20),  # the person left: capped
            entry(f"{API}/api/e", at_s=601),
        ],
    )
    steps = import_har(str(har)).scenario.journeys[0].steps

    assert [step.think_time_s for step in steps] == [2.5, 0.0, 30.0, 1.0, 0.0]


def test_include_host_picks_the_requests_to_replay(tmp_path: Path) -> None:
    imported = import_har(str(SHOP_HAR), include_hosts=["www.google-analytics.com"])

    steps = imported.scenario.journeys[0].steps
    assert [(step.method, step.path) for step in steps] == [("POST", "/g/collect")] * 2
    assert imported.target == "https://www.google-analytics.com"


def test_an_unknown_include_host_names_the_hosts_recorded() -> None:
    with pytest.raises(UsageError, match=r"no request to replay goes to shop\.example; hosts"):
        import_har(str(SHOP_HAR), include_hosts=["shop.example"])


def test_the_default_host_is_the_busiest_and_the_page_wins_a_tie(tmp_path: Path) -> None:
    entries = [
        entry("https://cdn.example/api/x"),
        entry("https://shop.example/api/y", at_s=1),
    ]
    page_first = write_har(tmp_path / "p.har", entries, pages=("https://shop.example/home",))
    assert import_har(str(page_first)).target == "https://shop.example"
    busy = write_har(tmp_path / "b.har", [*entries, entry("https://cdn.example/api/z", at_s=2)])
    assert import_har(str(busy)).target == "https://cdn.example"


def test_a_login_token_is_correlated_and_the_password_is_an_env_placeholder(
    tmp_path: Path,
) -> None:
    har = write_har(
        tmp_path / "login.har",
        [
            entry(
                f"{API}/auth/login",
                "POST",
                body={"username": "ada", "password": "hunter22"},
                answer={"access_token": TOKEN, "expires_in": 3600},
            ),
            entry(f"{API}/api/me", at_s=1, headers={"Authorization": f"Bearer {TOKEN}"}),
        ],
    )
    imported = import_har(str(har))
    login, me = imported.scenario.journeys[0].steps

    assert login.json_body == {"username": "ada", "password": "${env:PASSWORD}"}
    assert login.extract == {"access_token": "access_token"}
    assert me.headers == {"Authorization": "Bearer {access_token}"}
    assert imported.env_vars == ("PASSWORD",)
    assert "hunter22" not in render_scenario(imported.scenario)


def test_a_value_the_user_sent_first_is_not_correlated(tmp_path: Path) -> None:
    har = write_har(
        tmp_path / "echo.har",
        [
            entry(f"{API}/api/search?q=tv4k", answer={"query": {"q": "tv4k"}, "items": []}),
            entry(f"{API}/api/search/suggest?q=tv4k", at_s=1),
        ],
    )
    steps = import_har(str(har)).scenario.journeys[0].steps

    assert steps[0].extract == {}
    assert steps[1].query == {"q": "tv4k"}


def test_a_redirect_is_one_step_expecting_the_final_status(tmp_path: Path) -> None:
    har = write_har(
        tmp_path / "r.har",
        [
            entry(f"{API}/old", status=302, redirect="/new", mime="text/html"),
            entry(f"{API}/new", at_s=0.1, mime="text/html", resource_type="document"),
            entry(f"{API}/api/cached", at_s=1, status=304),
        ],
    )
    steps = import_har(str(har)).scenario.journeys[0].steps

    assert [(step.path, step.status) for step in steps] == [
        ("/old", (200,)),
        ("/api/cached", (200,)),
    ]


def test_a_form_body_is_not_replayed_and_says_so(tmp_path: Path) -> None:
    har = write_har(
        tmp_path / "form.har",
        [
            entry(
                f"{API}/login",
                "POST",
                body="user=ada&remember=1",
                body_mime="application/x-www-form-urlencoded",
            )
        ],
    )
    imported = import_har(str(har))

    assert imported.scenario.journeys[0].steps[0].json_body is None
    assert any(
        "application/x-www-form-urlencoded body is not replayed" in n for n in imported.notes
    )


def test_a_repeated_query_key_stays_in_the_path(tmp_path: Path) -> None:
    har = write_har(tmp_path / "q.har", [entry(f"{API}/api/items?tag=a&tag=b&api_key=s3cr3t")])
    step = import_har(str(har)).scenario.journeys[0].steps[0]

    assert step.path == "/api/items?tag=a&tag=b&api_key=${env:API_KEY}"
    assert step.query == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"bad\.har:1: not JSON \(Expecting property name"),
        ('{"pages": []}', r"bad\.har: not a HAR file \(no `log` object\)"),
        ('{"log": {"entries": {}}}', r"bad\.har: not a HAR file \(no `log.entries` list\)"),
        (
            json.dumps(
                {
                    "log": {
                        "entries": [
                            {
                                "startedDateTime": "2024-01-01T00:00:00Z",
                                "request": {"method": "GET"},
                            }
                        ]
                    }
                }
            ),
            r"bad\.har: log\.entries\.0\.request\.url: Field required",
        ),
        (
            json.dumps({"log": {"entries": [entry("https://x.example/a.png", mime="image/png")]}}),
            r"bad\.har: no request to replay among its 1 entries",
        ),
    ],
)
def test_bad_input_is_one_clear_usage_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.har"
    path.write_text(content)

    with pytest.raises(UsageError, match=message) as raised:
        import_har(str(path))
    assert "\n" not in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nothing\.har: no such file"):
        import_har(str(tmp_path / "nothing.har"))
