"""A straight line through points in time, and whether its rise is real: shared by the drift
judgements (latency and server memory). (The report's trends are another thing: figures
across runs.)"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SIGNIFICANCE = 0.05
"""A growth whose one-sided p-value is above this is noise, not drift."""


@dataclass(frozen=True, slots=True)
class GrowthLine:
    """An ordinary least-squares line through (time, value) points."""

    slope_per_h: float
    """Change of the value per hour."""
    intercept: float
    """Value of the line at the first point's time."""
    p_growth: float
    """One-sided p-value of "the value grows" (slope > 0); small means a real growth."""
    points: int
    """Points the line rests on."""

    @property
    def significant(self) -> bool:
        """The growth is real at the 5 % level."""
        return self.p_growth < SIGNIFICANCE


def fit_growth_line(times_s: Sequence[float], values: Sequence[float]) -> GrowthLine:
    """The regression line of `values` over `times_s` (at least three points, not all at one time).

    scipy's linregress gives the slope's two-sided t-test p-value; growth is one-sided, so
    half of it when the slope is positive, and its complement when it is not.
    """
    from scipy import stats

    origin = times_s[0]
    fit = stats.linregress([(t - origin) / 3600 for t in times_s], list(values))
    two_sided = 1.0 if math.isnan(fit.pvalue) else float(fit.pvalue)  # NaN: a flat line
    p_growth = two_sided / 2 if fit.slope > 0 else 1.0 - two_sided / 2
    return GrowthLine(float(fit.slope), float(fit.intercept), p_growth, len(values))
