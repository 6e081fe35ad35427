"""Correlation rules: which answered values become variables, under which names."""

from __future__ import annotations

from typing import Any

from harness.importers._correlate import Exchange, correlate


def _exchange(path: str, response: Any = None, **parts: Any) -> Exchange:
    return Exchange(
        path_segments=path.split("/"),
        query=parts.get("query", []),
        headers=parts.get("headers", {}),
        body=parts.get("body"),
        response=response,
    )


def test_a_bare_id_is_named_after_its_list_and_used_everywhere_it_is_sent() -> None:
    exchanges = [
        _exchange("/api/orders", {"items": [{"id": 77, "total": 5}, {"id": 78}]}),
        _exchange("/api/orders/78", query=[("ref", "78")], body={"order": 78}),
    ]

    found = correlate(exchanges)

    assert [(c.variable, c.source_step, c.json_path, c.used_by) for c in found] == [
        ("item_id", 0, "items.1.id", (1,))
    ]
    assert exchanges[0].extract == {"item_id": "items.1.id"}
    assert exchanges[1].path_segments == ["", "api", "orders", "{item_id}"]
    assert exchanges[1].variable_segments == {3}
    assert exchanges[1].query == [("ref", "{item_id}")]
    assert exchanges[1].body == {"order": "{item_id}"}


def test_small_numbers_plain_words_and_links_are_not_identifiers() -> None:
    exchanges = [
        _exchange(
            "/api/a",
            {"page": 2, "status": "active", "next": "/api/a?page=3", "ok": True},
        ),
        _exchange("/api/b/2/active", query=[("ok", "true")], body={"next": "/api/a?page=3"}),
    ]

    assert correlate(exchanges) == []
    assert exchanges[1].path_segments == ["", "api", "b", "2", "active"]


def test_a_token_in_a_header_keeps_its_scheme_and_the_first_answer_wins() -> None:
    token = "k8Jq2mZ0xWv7Lr4pTn6YbC1s"
    exchanges = [
        _exchange("/login", {"session": {"accessToken": token}}),
        _exchange("/refresh", {"accessToken": token}),
        _exchange("/me", headers={"Authorization": f"Bearer {token}", "X-Token": token}),
    ]

    found = correlate(exchanges)

    assert [(c.variable, c.source_step) for c in found] == [("access_token", 0)]
    assert exchanges[2].headers == {
        "Authorization": "Bearer {access_token}",
        "X-Token": "{access_token}",
    }
    assert exchanges[0].extract_notes["access_token"] == (
        "a 24-character value in the recording; sent by step 3"
    )
