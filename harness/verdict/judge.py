"""Judging one objective on one run: the measured value per window and the check it makes."""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec.objective import Objective
from harness.spec.units import Limit
from harness.verdict._format import format_value
from harness.verdict.measurements import Measurements
from harness.verdict.model import CheckStatus
from harness.verdict.scope import Span, windows

CLIENT_METRICS = ("latency", "error_rate", "availability", "throughput")
"""Metrics judged from the requests the load generator made."""


@dataclass(frozen=True, slots=True)
class Reading:
    """The value of an objective's statistic over one span, and what it rests on."""

    value: float | None
    """Measured value in the objective's unit; None without data."""
    samples: int
    """Requests the value rests on."""


@dataclass(frozen=True, slots=True)
class Judgement:
    """An objective judged over its scope, before it is dressed as a `Check`."""

    status: CheckStatus
    """pass, warn, fail, no_data (too few samples in every window)."""
    measured: float | None
    """Worst judged window (or the only one)."""
    samples: int
    """Requests in the whole scope."""
    windows_total: int
    """Windows with enough samples to judge."""
    windows_passed: int
    """Windows that met the limit."""
    message: str
    """One line: what was measured against what."""


def read(objective: Objective, data: Measurements, span: Span, *, service: bool = False) -> Reading:
    """The objective's statistic over `span` (client-side metrics only)."""
    op = objective.operation
    if objective.metric == "latency":
        histogram = data.histogram(op, span.start_t, span.end_t, service=service)
        statistic = objective.statistic
        percentile = objective.percentile
        if percentile is not None:
            value = histogram.percentile_ms(percentile)
        elif statistic == "mean":
            value = histogram.mean_ms
        elif statistic == "max":
            value = histogram.max_ms
        else:
            value = histogram.min_ms
        return Reading(value, histogram.count)
    counts = data.counts(op, span.start_t, span.end_t)
    total = counts.total
    if objective.metric == "throughput":
        return Reading(total / span.duration_s, total)
    if total == 0:
        return Reading(None, 0)
    if objective.metric == "error_rate":
        return Reading((total - counts.ok) / total, total)
    # availability: the server answered; 5xx, timeouts and refused connections count against it
    unavailable = counts.http_5xx + counts.timeout + counts.connection_error
    return Reading((total - unavailable) / total, total)


def grade(value: float, limit: Limit, warn: Limit | None) -> CheckStatus:
    """pass within the limit, warn within the alert threshold, fail beyond it."""
    if limit.holds(value):
        return "pass"
    if warn is not None and warn.holds(value):
        return "warn"
    return "fail"


def judge(
    objective: Objective,
    limit: Limit,
    warn: Limit | None,
    data: Measurements,
    span: Span,
    *,
    service: bool = False,
) -> Judgement:
    """Judge every window of the objective's scope against `limit` (already scaled)."""
    parts = windows(span, objective.window_s)
    readings = [read(objective, data, part, service=service) for part in parts]
    scope_samples = sum(reading.samples for reading in readings)
    judged = [
        reading
        for reading in readings
        if reading.value is not None and reading.samples >= objective.min_samples
    ]
    unit = limit.unit
    if not judged:
        where = f"any of {len(parts)} windows" if len(parts) > 1 else "the scope"
        return Judgement(
            "no_data",
            None,
            scope_samples,
            0,
            0,
            f"{scope_samples} samples; {objective.min_samples} needed in {where}",
        )
    values = [reading.value for reading in judged if reading.value is not None]
    grades = [grade(value, limit, warn) for value in values]
    worst = max(values) if limit.is_upper else min(values)
    passed = grades.count("pass")
    acceptable = passed + grades.count("warn")
    required = objective.windows_required * len(judged)
    if passed >= required:
        status: CheckStatus = "pass"
    elif acceptable >= required:
        status = "warn"
    else:
        status = "fail"
    label = "worst window " if len(judged) > 1 else ""
    message = f"{label}{format_value(worst, unit)} vs {limit.text}"
    if warn is not None:
        message += f" (alert {warn.text})"
    if len(parts) > 1:
        message += f"; {passed}/{len(judged)} windows passed"
        if objective.windows_required < 1:
            message += f", {objective.windows_required:.0%} required"
    return Judgement(status, worst, scope_samples, len(judged), passed, message)
