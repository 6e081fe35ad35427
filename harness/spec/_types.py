"""Field types shared by the SLA and scenario models: durations, rates, ratios, limits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from harness.spec._units import (
    check_limit_syntax,
    check_relative_syntax,
    parse_duration_s,
    parse_rate_per_s,
    parse_ratio,
)


class StrictModel(BaseModel):
    """A model for a user-written file: unknown keys are errors, NaN and infinity are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


def _window(value: object) -> float | str:
    if value == "run":
        return "run"
    seconds = parse_duration_s(value)
    if seconds <= 0:
        raise ValueError(
            f"a window must be 'run' or a positive duration such as '1m', got {value!r}"
        )
    return seconds


_DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0, "description": "seconds"},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)\s*)+$"},
    ],
    "examples": ["30s", "5m", "1h30m"],
}

Duration = Annotated[float, BeforeValidator(parse_duration_s), WithJsonSchema(_DURATION_SCHEMA)]
"""Seconds, written `30s`, `5m`, `2h`, `1h30m`, `250ms` or a bare number of seconds."""

Window = Annotated[
    float | Literal["run"],
    BeforeValidator(_window),
    WithJsonSchema({"anyOf": [{"const": "run"}, _DURATION_SCHEMA]}),
]
"""`run` (one value over the whole scope) or the length of each judged window, e.g. `1m`."""

Rate = Annotated[
    float,
    BeforeValidator(parse_rate_per_s),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}],
            "examples": ["100/s", "6000/min"],
        }
    ),
]
"""Per second, written `100/s`, `6000/min`, `50 rps` or a bare number per second."""

Ratio = Annotated[
    float,
    BeforeValidator(parse_ratio),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string"}],
            "examples": ["70 %", 0.7],
        }
    ),
]
"""A 0-1 fraction, written `70 %` or `0.7`."""

LimitText = Annotated[
    str,
    BeforeValidator(check_limit_syntax),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*(<=|>=|<|>)\s*[+-]?[\d,_.]+",
            "examples": ["< 500 ms", "<= 0.1 %", ">= 10000 rps"],
        }
    ),
]
"""A comparator, a number and a unit: `< 500 ms`, `<= 0.1 %`, `>= 10000 rps`."""

RelativeText = Annotated[
    str,
    BeforeValidator(check_relative_syntax),
    WithJsonSchema({"type": "string", "examples": ["<= +10 %", ">= -5 %"]}),
]
"""A change against a baseline run: `<= +10 %` (at most 10 % above the baseline)."""

Severity = Literal["critical", "high", "medium", "low"]
"""Severity levels of the seed's incident response."""

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
