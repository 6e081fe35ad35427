"""Durations, rates, ratios and limits as people write them."""

from __future__ import annotations

import pytest

from harness.spec._objective import auto_min_samples, percentile_of
from harness.spec._units import (
    Limit,
    format_duration,
    parse_duration_s,
    parse_limit,
    parse_rate_per_s,
    parse_ratio,
    parse_relative,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("2h", 7200),
        ("1h30m", 5400),
        ("250ms", 0.25),
        (12, 12),
        ("1.5h", 5400),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "forever", "5 parsecs", "m5", "-1s", True, None, [], "5m garbage"]
)
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration_s(text)


@pytest.mark.parametrize(
    ("text", "rate"), [("100/s", 100), ("6000/min", 100), ("50 rps", 50), (7, 7), ("1,000/s", 1000)]
)
def test_rates(text: object, rate: float) -> None:
    assert parse_rate_per_s(text) == pytest.approx(rate)


@pytest.mark.parametrize(
    ("text", "ratio"), [("99.9 %", 0.999), ("70%", 0.7), (0.5, 0.5), ("0.25", 0.25)]
)
def test_ratios_are_exact_fractions(text: object, ratio: float) -> None:
    assert parse_ratio(text) == ratio


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("< 500 ms", "ms", 500.0),
        ("<1.5 s", "ms", 1500.0),
        ("<= 0.1 %", "ratio", 0.001),
        ("< 0.01", "ratio", 0.01),
        (">= 10,000 rps", "rps", 10000.0),
        (">= 6000 rpm", "rps", 100.0),
        ("< 10 %/h", "ratio_per_h", 0.1),
        ("< 50 MB/h", "mb_per_h", 50.0),
    ],
)
def test_limits_convert_to_the_canonical_unit(text: str, unit: str, value: float) -> None:
    limit = parse_limit(text, unit)  # type: ignore[arg-type]
    assert limit.value == pytest.approx(value)
    assert limit.text == text


@pytest.mark.parametrize(
    ("limit", "measured", "holds"),
    [
        ("< 300 ms", 299.0, True),
        ("< 300 ms", 300.0, False),
        ("<= 300 ms", 300.0, True),
        ("<= 300 ms", 301.0, False),
        ("> 5 rps", 5.0, False),
        (">= 5 rps", 5.0, True),
    ],
)
def test_limits_hold_exactly_at_the_boundary(limit: str, measured: float, holds: bool) -> None:
    unit = "ms" if "ms" in limit else "rps"
    assert parse_limit(limit, unit).holds(measured) is holds  # type: ignore[arg-type]


def test_looser_means_same_direction_and_wider() -> None:
    base = parse_limit("< 500 ms", "ms")
    assert parse_limit("<= 1000 ms", "ms").is_looser_than(base)
    assert not parse_limit("< 400 ms", "ms").is_looser_than(base)
    assert not parse_limit("> 1000 ms", "ms").is_looser_than(base)
    low = parse_limit(">= 10000 rps", "rps")
    assert parse_limit(">= 5000 rps", "rps").is_looser_than(low)
    assert low.scaled(0.04) == Limit(">=", 400.0, "rps", ">= 10000 rps")


def test_relative_limits_against_a_baseline() -> None:
    slower = parse_relative("<= +10 %")
    assert slower.holds(110.0, 100.0)
    assert not slower.holds(110.5, 100.0)
    fewer = parse_relative(">= -5 %")
    assert fewer.holds(95.0, 100.0)
    assert not fewer.holds(94.0, 100.0)


@pytest.mark.parametrize(
    ("statistic", "percentile", "samples"),
    [
        ("p50", 50.0, 6),
        ("p95", 95.0, 72),
        ("p99", 99.0, 368),
        ("p99.9", 99.9, 3688),
        ("mean", None, 1),
    ],
)
def test_percentiles_and_their_minimum_samples(
    statistic: str, percentile: float | None, samples: int
) -> None:
    assert percentile_of(statistic) == percentile
    assert auto_min_samples(statistic) == samples


@pytest.mark.parametrize(
    ("seconds", "text"), [(45, "45s"), (300, "5m"), (5400, "1h30m"), (2.5, "2.5s")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
