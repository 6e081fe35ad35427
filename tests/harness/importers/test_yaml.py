"""The commented YAML writer: what it writes reads back as the data it was given."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from harness.importers._yaml import Commented, dump, scalar


def _plain(value: Any) -> Any:
    if isinstance(value, Commented):
        return _plain(value.value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("product_search", "product_search"),
        ("30s", "30s"),
        ("1s..3s", "1s..3s"),
        ("/api/products/search", "/api/products/search"),
        ("< 500 ms", '"< 500 ms"'),
        (">= 99.9 %", '">= 99.9 %"'),
        ("/api/products/{product_id}", '"/api/products/{product_id}"'),
        ("Bearer ${env:API_TOKEN}", '"Bearer ${env:API_TOKEN}"'),
        ("yes", '"yes"'),
        ("5", '"5"'),
        ("", '""'),
        ("a: b", '"a: b"'),
        ("it's #1", '"it\'s #1"'),
        (5, "5"),
        (1.5, "1.5"),
        (True, "true"),
        (None, "null"),
    ],
)
def test_scalars_are_quoted_only_when_yaml_would_misread_them(value: Any, text: str) -> None:
    assert scalar(value) == text
    assert yaml.safe_load(f"key: {text}")["key"] == value


def test_a_document_reads_back_as_its_data_with_comments_in_place() -> None:
    data = {
        "version": 1,
        "stages": [{"name": "ramp-up", "duration": "30s", "users": 10}],
        "journeys": Commented(
            {
                "flow": {
                    "steps": [
                        Commented(
                            {
                                "operation": "get_x",
                                "path": "/x/{id}",
                                "json": {"items": [{"id": "{id}", "n": 2}], "note": "a, b"},
                                "extract": Commented({"id": "items.0.id"}, "1248 recorded"),
                            },
                            above=("step 1: GET /x/1248",),
                        ),
                        {"operation": "y", "path": "/"},
                    ]
                }
            },
            above=("", "the journeys"),
        ),
        "empty": {},
        "nothing": [],
    }
    text = dump(data, header=["a header paragraph " * 12], footer=["the end"])

    assert yaml.safe_load(text) == _plain(data)
    lines = text.splitlines()
    assert lines[0].startswith("# a header paragraph")
    assert all(len(line) <= 100 for line in lines[:3])
    assert "  - {name: ramp-up, duration: 30s, users: 10}" in lines
    assert "      # step 1: GET /x/1248" in lines
    assert "        extract: {id: items.0.id}  # 1248 recorded" in lines
    assert lines[-1] == "# the end"
