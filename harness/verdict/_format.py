"""How a check's numbers read to a person: one formatting rule for every output."""

from __future__ import annotations

import math

from harness.verdict._model import Check

_RATIO_UNITS = {"ratio"}


def format_value(value: float | None, unit: str) -> str:
    """`value` in `unit` as a person reads it: ratios as percent, ms without noise."""
    if value is None:
        return "—"
    number, suffix = _number(value, unit)
    return f"{number} {suffix}".strip()


def _number(value: float, unit: str) -> tuple[str, str]:
    """The number as `format_value` writes it, and the unit it writes after it."""
    if unit in _RATIO_UNITS:
        return percent_text(value * 100), "%"
    if unit == "percent":
        return percent_text(value), "%"
    if unit == "ms":
        return (f"{value:,.1f}" if value < 100 else f"{value:,.0f}"), "ms"
    if unit == "rps":
        return f"{value:,.1f}", "rps"
    return f"{value:.4g}", unit


def format_interval(check: Check) -> str:
    """The check's confidence interval in its unit's numbers, `[471, 484]`; an unbounded end
    is `∞`; "" when the check has no interval (`ci_method` None)."""
    if check.ci_method is None:
        return ""
    return interval_text(check.ci_low, check.ci_high, check.unit)


def interval_text(low: float | None, high: float | None, unit: str) -> str:
    """An interval's ends in its unit's numbers, `[471, 484]`; None is an unbounded end."""
    low_text = _end(low, unit) if low is not None else "-∞"
    high_text = _end(high, unit) if high is not None else "∞"
    return f"[{low_text}, {high_text}]"


def _end(value: float, unit: str) -> str:
    """An interval's end: a ratio to 3 significant digits in percent (`[0.0512, 0.17]`,
    `[81.6, 100]`), any other unit as its values are written."""
    if unit in _RATIO_UNITS:
        return f"{value * 100:.3g}"
    return _number(value, unit)[0]


def format_measured(check: Check, separator: str = " ") -> str:
    """The measured value with its interval, `477 ms [471, 484]`, or the value alone;
    `separator` goes between them (a line break in the terminal's narrow column)."""
    interval = format_interval(check)
    value = format_value(check.measured, check.unit)
    return f"{value}{separator}{interval}" if interval and check.measured is not None else value


def format_limit(check: Check) -> str:
    """The limit with its comparator, and the seed's figure when scaling changed it."""
    text = f"{check.comparator} {format_value(check.limit, check.unit)}"
    if check.seed_limit is not None and check.seed_limit != check.limit:
        text += f" (seed {format_value(check.seed_limit, check.unit)})"
    return text


def format_windows(check: Check) -> str:
    """ "k/n" windows passed, or "run" when judged over the whole scope."""
    if check.windows_total:
        return f"{check.windows_passed}/{check.windows_total}"
    return check.window


def percent_text(percent: float) -> str:
    """A percentage with the digits that carry information and no float noise: three
    significant digits (92.3, 0.252, 0.0569), and near 100 two of what is missing to 100
    (99.75, 99.925, 99.95: availability targets differ there); no trailing zeros."""
    if not math.isfinite(percent) or percent == 0:
        return "0" if percent == 0 else str(percent)
    missing = 100.0 - percent
    if percent >= 99.0 and missing > 0:
        decimals = max(0, 1 - math.floor(math.log10(missing)))
    else:
        decimals = max(0, 2 - math.floor(math.log10(abs(percent))))
    text = f"{percent:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_share(fraction: float) -> str:
    """A fraction of a whole as a percentage for a sentence: `0.34 %`, `56 %`."""
    return f"{percent_text(fraction * 100)} %"
