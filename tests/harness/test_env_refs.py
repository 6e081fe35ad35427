"""`${env:NAME}` references: grammar, expansion with defaults, masking of secret values."""

from __future__ import annotations

import pytest

from harness.env_refs import (
    EnvRef,
    expand_refs,
    expand_text,
    find_refs,
    mask_values,
    missing_variables,
    secret_values,
)


def test_finds_references_with_and_without_defaults() -> None:
    assert find_refs("Bearer ${env:TOKEN} ${env:REGION:-eu} ${env:EMPTY:-}") == [
        EnvRef("TOKEN", None),
        EnvRef("REGION", "eu"),
        EnvRef("EMPTY", ""),
    ]
    assert find_refs("no ${env:} ${env:1BAD} {token} $TOKEN") == []


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("Bearer ${env:TOKEN}", {"TOKEN": "t0k"}, "Bearer t0k"),
        ("/v/${env:REGION:-eu}/x", {}, "/v/eu/x"),
        ("/v/${env:REGION:-eu}/x", {"REGION": "us"}, "/v/us/x"),
        ("${env:UNSET}", {}, "${env:UNSET}"),
        ("${env:A}${env:B}", {"A": "1", "B": "2"}, "12"),
    ],
)
def test_expands_text(text: str, environ: dict[str, str], expected: str) -> None:
    assert expand_text(text, environ) == expected


def test_expands_only_the_named_variables_when_asked() -> None:
    environ = {"PUBLIC": "p", "SECRET": "s"}
    assert expand_text("${env:PUBLIC}/${env:SECRET}", environ, only={"PUBLIC"}) == (
        "p/${env:SECRET}"
    )


def test_expands_every_string_of_a_json_like_value_and_lists_the_missing_ones() -> None:
    data = {"h": {"Authorization": "Bearer ${env:T}"}, "q": ["${env:X:-x}", 3], "n": None}
    assert expand_refs(data, {"T": "abc"}) == {
        "h": {"Authorization": "Bearer abc"},
        "q": ["x", 3],
        "n": None,
    }
    assert missing_variables(data, {}) == ["T"]
    assert missing_variables(data, {"T": ""}) == []


def test_masks_secret_values_longest_first() -> None:
    values = secret_values(
        {"a": "${env:SHORT}", "b": "${env:LONG}"}, {"SHORT": "ab", "LONG": "abcd"}
    )
    assert values == ("abcd", "ab")
    assert mask_values("x abcd y ab z", values) == "x *** y *** z"
    assert mask_values("nothing here", values) == "nothing here"
