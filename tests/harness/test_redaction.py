"""Secrets are masked before anything reaches a report."""

from __future__ import annotations

import pytest

from harness.redaction import (
    scrub,
    scrub_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "http://user:pass@127.0.0.1:1/?token=abc",
            "http://user:REDACTED@127.0.0.1:1/?token=REDACTED",
        ),
        (
            "503 from https://a:b@db.internal/x?api_key=1&q=2 (retrying)",
            "503 from https://a:REDACTED@db.internal/x?api_key=REDACTED&q=2 (retrying)",
        ),
        ("Authorization: Bearer eyJhbGciOi.abc-def", "Authorization: Bearer REDACTED"),
        ("plain message, no secret", "plain message, no secret"),
    ],
)
def test_urls_and_bearer_tokens_are_redacted(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_secret_looking_fields_are_masked_at_any_depth() -> None:
    plan = {
        "target": "http://u:p@h:1/",
        "journeys": [
            {
                "steps": [
                    {
                        "headers": {
                            "Authorization": "Basic dTpw",
                            "X-Api-Key": "k",
                            "Accept": "*/*",
                        },
                        "variables": {"password": "hunter2", "user": "alice"},
                    }
                ]
            }
        ],
        "tags": {"api_token": "t0k", "branch": "main"},
        "count": 3,
    }
    clean = scrub(plan)
    step = clean["journeys"][0]["steps"][0]
    assert clean["target"] == "http://u:REDACTED@h:1/"
    assert step["headers"] == {
        "Authorization": "REDACTED",
        "X-Api-Key": "REDACTED",
        "Accept": "*/*",
    }
    assert step["variables"] == {"password": "REDACTED", "user": "alice"}
    assert clean["tags"] == {"api_token": "REDACTED", "branch": "main"}
    assert clean["count"] == 3
