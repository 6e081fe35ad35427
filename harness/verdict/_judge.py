"""Judging one objective on one run: the measured value per window and the check it makes."""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec import Limit, Objective
from harness.timeline import Outcome, OutcomeCounts
from harness.verdict._format import format_value
from harness.verdict._measurements import Measurements
from harness.verdict._model import CheckStatus
from harness.verdict._scope import Span, windows

CLIENT_METRICS = ("latency", "error_rate", "availability", "throughput", "checks")
"""Metrics judged from the requests the load generator made."""

UNAVAILABLE_OUTCOMES: tuple[Outcome, ...] = (
    "http_5xx",
    "timeout",
    "connection_error",
    "dropped",
    "interrupted",
)
"""Outcomes that count against availability: the target did not answer, or not in time
(5xx, timeout, refused, an arrival dropped because the target kept every journey slot busy,
a request still unanswered when the graceful stop ran out). A 4xx or a failed check is an
answer: it counts against the error rate only (which counts every outcome but `ok`)."""


def unavailable(counts: OutcomeCounts) -> int:
    """Requests that count against availability (`UNAVAILABLE_OUTCOMES`)."""
    by_outcome = counts.as_dict()
    return sum(by_outcome[outcome] for outcome in UNAVAILABLE_OUTCOMES)


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
    if objective.metric == "throughput":
        return Reading(counts.total / span.duration_s, counts.total)
    return Reading(request_ratio(objective, counts), counts.total)


def request_ratio(objective: Objective, counts: OutcomeCounts) -> float | None:
    """An error_rate, availability or checks objective's ratio over `counts`; None when
    there was no request."""
    total = counts.total
    if total == 0:
        return None
    if objective.metric == "error_rate":
        if objective.statistic == "requests":
            # failed requests only (k6's http_req_failed): a failed check is `checks`' business
            return (counts.failed - counts.check_failed) / total
        return counts.failed / total
    if objective.metric == "checks":
        return counts.ok / total
    # availability: the target answered in time
    return (total - unavailable(counts)) / total


NON_PERCENTILE_FAILED_SHARE = 0.5
"""Failed share beyond which a mean, min or max latency is not the operation's own."""


def failed_requests_breach(objective: Objective, counts: OutcomeCounts) -> str | None:
    """Why a latency objective is breached by failed requests alone, or None.

    A failed request (an error status, a timeout, a refused connection, a failed check, a
    dropped arrival) never meets a latency objective: what the user got was an error, however
    fast it came back. So a p95 is breached once more than 5 % of the requests failed (a
    q-percentile allows 1 - q of the requests beyond the limit), and a mean, min or max once
    more than half did. The verdict applies this when no error_rate or availability objective
    judges the operation's failures, so a latency-only SLA cannot pass an operation that
    answered mostly 404.
    """
    if counts.total == 0 or counts.failed == 0:
        return None
    percentile = objective.percentile
    allowed = 1 - percentile / 100 if percentile is not None else NON_PERCENTILE_FAILED_SHARE
    share = counts.failed / counts.total
    if share <= allowed:
        return None
    failures = {name: count for name, count in counts.as_dict().items() if name != "ok"}
    most = max(failures, key=lambda name: failures[name])
    return (
        f"{counts.failed:,} of {counts.total:,} requests failed ({share:.1%}, mostly {most}), "
        f"more than the {allowed:.0%} a {objective.statistic} leaves beyond its limit, and no "
        "error_rate or availability objective judges them: a failed request never meets a "
        "latency objective"
    )


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
