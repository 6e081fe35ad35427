"""Drift: does a latency statistic grow over the run? A regression slope with a significance test."""

from __future__ import annotations

from harness.spec import Limit, Objective
from harness.verdict._growth_line import SIGNIFICANCE, fit_growth_line
from harness.verdict._judge import Judgement, read
from harness.verdict._measurements import Measurements
from harness.verdict._model import CheckStatus
from harness.verdict._scope import Span, windows

DEFAULT_WINDOW_S = 60.0
"""Window the statistic is computed on when the objective names none."""
_MIN_POINTS = 3


def judge_drift(objective: Objective, limit: Limit, data: Measurements, span: Span) -> Judgement:
    """Growth per hour of the statistic, relative to its level at the start of the scope.

    The statistic (e.g. p95 latency) is computed per window; an ordinary least-squares line
    through the points gives the slope, and the slope's one-sided t-test (scipy's linregress)
    says whether it is real. A growth that is not significant passes whatever its size.
    """
    latency = objective_with_metric(objective)
    parts = windows(span, objective.window_s or DEFAULT_WINDOW_S)
    points = [
        (part.start_t + part.duration_s / 2, reading.value, reading.samples)
        for part in parts
        for reading in (read(latency, data, part),)
        if reading.value is not None and reading.samples >= objective.min_samples
    ]
    samples = sum(samples for _, _, samples in points)
    if len(points) < _MIN_POINTS:
        return Judgement(
            "no_data",
            None,
            samples,
            len(points),
            0,
            f"drift needs at least {_MIN_POINTS} windows with data, got {len(points)}",
        )
    values = [value for _, value, _ in points]
    line = fit_growth_line([t for t, _, _ in points], values)
    level = line.intercept if line.intercept > 0 else max(values[0], 1e-9)
    growth_per_h = line.slope_per_h / level
    p_value = line.p_growth
    significant = p_value < SIGNIFICANCE
    held = limit.holds(growth_per_h)
    status: CheckStatus = "pass" if held or not significant else "fail"
    verdict = "significant" if significant else "not significant"
    message = (
        f"{objective.statistic} grows {growth_per_h:+.1%} per hour over {len(points)} windows "
        f"({verdict}, p={p_value:.3f}) vs {limit.text}"
    )
    return Judgement(
        status, growth_per_h, samples, len(points), len(points) if held else 0, message
    )


def objective_with_metric(objective: Objective) -> Objective:
    """The latency objective whose statistic a latency_drift objective follows."""
    from dataclasses import replace

    return replace(objective, metric="latency")
