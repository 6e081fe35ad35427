"""Quantities as people write them in YAML: durations, rates, ratios and limits.

A limit is a comparator, a number and a unit, read left to right as a condition the measured
value must meet: `"< 500 ms"`, `"<= 0.1 %"`, `">= 10,000 rps"`. Every limit is converted to
the canonical unit of its metric (milliseconds, a 0-1 ratio, requests per second, ...), so the
verdict compares plain floats. A relative limit compares a run with a baseline run:
`"<= +10 %"` holds when the new value is at most 10 % above the baseline's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, cast

Comparator = Literal["<", "<=", ">", ">="]

_NUMBER = r"[+-]?(?:\d{1,3}(?:[,_]\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?"
_LIMIT = re.compile(rf"^\s*(?P<cmp><=|>=|<|>)\s*(?P<num>{_NUMBER})\s*(?P<unit>[^\s\d].*?)?\s*$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_DURATION_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Locust's -t/--run-time: whole hours, whole minutes, then seconds, in that order; a bare
# number is seconds; no ms and no days (Locust has neither)
_LOCUST_RUN_TIME = re.compile(r"(?:\d+h)?(?:\d+m)?(?:\d+(?:\.\d+)?s?)?")
_RATE = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>/s|/min|/m|/h|rps|rpm)?\s*$")
_RATE_PER_S = {None: 1.0, "/s": 1.0, "rps": 1.0, "/min": 1 / 60, "/m": 1 / 60, "rpm": 1 / 60}
_RATE_PER_S["/h"] = 1 / 3600

CanonicalUnit = Literal["ms", "ratio", "rps", "ratio_per_h", "mb_per_h"]

# Units a limit may be written in, per canonical unit, and the factor to the canonical unit.
# A ratio written without a unit is a 0-1 fraction (k6's `rate<0.01`).
_UNITS: dict[CanonicalUnit, dict[str, float]] = {
    "ms": {"ms": 1.0, "s": 1000.0},
    "ratio": {"%": 0.01, "": 1.0},
    "rps": {"rps": 1.0, "/s": 1.0, "req/s": 1.0, "rpm": 1 / 60, "/min": 1 / 60, "": 1.0},
    "ratio_per_h": {"%/h": 0.01, "% per hour": 0.01},
    "mb_per_h": {"mb/h": 1.0, "mb per hour": 1.0, "gb/h": 1024.0},
}


def _number(text: str, factor: float = 1.0) -> float:
    """The number in `text` times `factor`, exact in decimal (99.9 % is 0.999, not 0.99900001)."""
    try:
        exact = Decimal(text.replace(",", "").replace("_", "")) * Decimal(repr(factor))
    except ArithmeticError:
        raise ValueError(f"the number {text!r} is out of range") from None
    return float(exact)


def parse_duration_s(value: object, *, locust: bool = False) -> float:
    """Seconds from `30s`, `5m`, `1h30m`, `250ms`, `2d`, or a bare number of seconds.

    `locust=True` reads Locust's -t/--run-time words instead: `30`, `30s`, `5m`, `1h30m15s`
    (see `_LOCUST_RUN_TIME`), with Locust's example in the message.
    """
    if locust:
        text = str(value).strip().lower()
        if not text or not _LOCUST_RUN_TIME.fullmatch(text):
            raise ValueError(f"expected a duration such as 30s, 5m or 1h30m, got {value!r}")
        value = text if text.endswith(("h", "m", "s")) else f"{text}s"
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '30s', '5m' or '2h', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        parts = _DURATION_PART.findall(text)
        if not text or not parts or _DURATION_PART.sub("", text).strip():
            raise ValueError(f"expected a duration such as '30s', '5m' or '2h', got {value!r}")
        seconds = sum(float(number) * _DURATION_S[unit] for number, unit in parts)
    else:
        raise ValueError(f"expected a duration such as '30s', '5m' or '2h', got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be a finite, non-negative time, got {value!r}")
    return seconds


def parse_rate_per_s(value: object) -> float:
    """Arrivals per second from `100/s`, `6000/min`, `50 rps`, or a bare number per second."""
    if isinstance(value, bool):
        raise ValueError(f"expected a rate such as '100/s' or '6000/min', got {value!r}")
    if isinstance(value, int | float):
        rate = float(value)
    elif isinstance(value, str) and (match := _RATE.match(value.lower())):
        rate = _number(match["num"], _RATE_PER_S[match["unit"]])
    else:
        raise ValueError(f"expected a rate such as '100/s' or '6000/min', got {value!r}")
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"a rate must be a finite, non-negative number, got {value!r}")
    return rate


def parse_ratio(value: object) -> float:
    """A 0-1 fraction from `70 %` or a bare fraction such as `0.7`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a percentage such as '70 %' or a 0-1 fraction, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            ratio = _number(text[:-1].strip(), 0.01) if text.endswith("%") else _number(text)
        except ValueError:
            raise ValueError(
                f"expected a percentage such as '70 %' or a 0-1 fraction, got {value!r}"
            ) from None
    else:
        ratio = float(value)
    if not math.isfinite(ratio) or not 0 <= ratio <= 1:
        raise ValueError(f"a percentage must lie between 0 % and 100 %, got {value!r}")
    return ratio


def check_limit_syntax(text: object) -> str:
    """Accept `<cmp> <number> [unit]`; units are checked later against the metric."""
    if not isinstance(text, str) or not _LIMIT.match(text):
        raise ValueError(
            f"expected a comparison such as '< 500 ms', '<= 0.1 %' or '>= 10000 rps', got {text!r}"
        )
    return text


def check_relative_syntax(text: object) -> str:
    """Accept `<cmp> <signed number> %`, a change relative to a baseline run."""
    if isinstance(text, str) and (match := _LIMIT.match(text)) and match["unit"] == "%":
        return text
    raise ValueError(
        f"expected a change against the baseline such as '<= +10 %' or '>= -5 %', got {text!r}"
    )


@dataclass(frozen=True, slots=True)
class Limit:
    """A condition on a measured value, in the canonical unit of its metric."""

    comparator: Comparator
    """How the measured value must compare with `value`."""
    value: float
    """The bound, in `unit`."""
    unit: CanonicalUnit
    """Canonical unit: ms, ratio (0-1), rps, ratio_per_h, mb_per_h."""
    text: str
    """The limit as written in the file, for messages and reports."""

    @property
    def is_upper(self) -> bool:
        """True when the measured value must stay below the bound."""
        return self.comparator in ("<", "<=")

    def holds(self, measured: float) -> bool:
        """Whether `measured` (in `unit`) meets the limit."""
        return _compare(measured, self.comparator, self.value)

    def is_looser_than(self, other: Limit) -> bool:
        """Whether this bound accepts strictly more values than `other`, in the same direction."""
        if self.is_upper != other.is_upper:
            return False
        return self.value > other.value if self.is_upper else self.value < other.value

    def scaled(self, factor: float) -> Limit:
        """The same limit with its bound multiplied (throughput limits follow the load scale)."""
        return Limit(self.comparator, self.value * factor, self.unit, self.text)


@dataclass(frozen=True, slots=True)
class RelativeLimit:
    """A bound on the change of a value against the same value in a baseline run."""

    comparator: Comparator
    """How the change must compare with `change_ratio`."""
    change_ratio: float
    """Relative change as a fraction: +0.10 for "+10 %"."""
    text: str
    """The limit as written in the file."""

    def holds(self, measured: float, baseline: float) -> bool:
        """Whether `measured` stays within the allowed change from `baseline`."""
        return _compare(measured, self.comparator, baseline * (1.0 + self.change_ratio))


def _compare(measured: float, comparator: Comparator, bound: float) -> bool:
    if comparator == "<":
        return measured < bound
    if comparator == "<=":
        return measured <= bound
    if comparator == ">":
        return measured > bound
    return measured >= bound


def parse_limit(text: str, unit: CanonicalUnit) -> Limit:
    """A `Limit` in `unit`; raises ValueError naming the units allowed for the metric."""
    match = _LIMIT.match(text)
    if not match:
        check_limit_syntax(text)
        raise AssertionError("unreachable")  # pragma: no cover
    written = " ".join((match["unit"] or "").lower().split())
    factors = _UNITS[unit]
    if written not in factors:
        names = [f"'{name}'" for name in factors if name] + (["no unit"] if "" in factors else [])
        allowed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        raise ValueError(f"unit {written or 'missing'!r} does not fit this metric; use {allowed}")
    value = _number(match["num"], factors[written])
    if not math.isfinite(value):
        raise ValueError(f"the bound must be a finite number, got {text!r}")
    if unit == "ratio" and not 0 <= value <= 1:
        raise ValueError(f"a percentage must lie between 0 % and 100 %, got {text!r}")
    if unit in ("ms", "rps") and value < 0:
        raise ValueError(f"the bound must not be negative, got {text!r}")
    comparator = cast(Comparator, match["cmp"])
    return Limit(comparator, value, unit, text.strip())


def parse_relative(text: str) -> RelativeLimit:
    """A `RelativeLimit` from `"<= +10 %"`."""
    check_relative_syntax(text)
    match = _LIMIT.match(text)
    assert match is not None
    comparator = cast(Comparator, match["cmp"])
    return RelativeLimit(comparator, _number(match["num"], 0.01), text.strip())


def format_duration(seconds: float) -> str:
    """A short human duration: 45s, 5m, 1h30m, 2.5s."""
    if seconds < 60 or seconds != int(seconds):
        return f"{seconds:g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)
