"""Judging one objective on one run: the measured value per window and the check it makes.

Each window's value comes with its confidence interval (harness/verdict/_intervals.py), and
the check is graded three times: on the values, on the best end of every interval and on the
worst end. When the best ends pass and the worst do not, the data cannot tell whether the
objective held: the check is `marginal` (too close to call). It passes the gate unless the
gate is strict; a longer run narrows the interval and settles it. An interval that only
straddles the alert threshold (`warn`) leaves the value's own grade: the warning band is
already the SLA's margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.spec import CONFIDENCE, Limit, Objective
from harness.timeline import Outcome, OutcomeCounts
from harness.verdict._format import format_value, interval_text
from harness.verdict._intervals import (
    Interval,
    mean_interval,
    percentile_interval,
    proportion_interval,
    rate_interval,
)
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
    interval: Interval | None = None
    """The value's confidence interval; None when the statistic has none (min, max)."""


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
    interval: Interval | None = None
    """The interval around `measured` (the worst window's); None when it has none."""


def read(objective: Objective, data: Measurements, span: Span, *, service: bool = False) -> Reading:
    """The objective's statistic over `span` (client-side metrics only)."""
    op = objective.operation
    if objective.metric == "latency":
        histogram = data.histogram(op, span.start_t, span.end_t, service=service)
        statistic = objective.statistic
        percentile = objective.percentile
        interval: Interval | None = None
        if percentile is not None:
            value = histogram.percentile_ms(percentile)
            interval = percentile_interval(histogram, percentile)
        elif statistic == "mean":
            value = histogram.mean_ms
            interval = mean_interval(histogram)
        elif statistic == "max":
            value = histogram.max_ms
        else:
            value = histogram.min_ms
        return Reading(value, histogram.count, interval)
    counts = data.counts(op, span.start_t, span.end_t)
    if objective.metric == "throughput":
        per_second = data.requests_per_second(op, span.start_t, span.end_t)
        return Reading(counts.total / span.duration_s, counts.total, rate_interval(per_second))
    ratio = request_ratio(objective, counts)
    ratio_interval = (
        proportion_interval(round(ratio * counts.total), counts.total)
        if ratio is not None
        else None
    )
    return Reading(ratio, counts.total, ratio_interval)


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


def plausible_grades(
    value: float, interval: Interval | None, limit: Limit, warn: Limit | None
) -> tuple[CheckStatus, CheckStatus]:
    """The best and the worst grade the interval allows (an unbounded end reaches every
    grade on its side); both the value's own grade without an interval."""
    if interval is None:
        own = grade(value, limit, warn)
        return own, own
    favourable, unfavourable = (
        (interval.low, interval.high) if limit.is_upper else (interval.high, interval.low)
    )
    best = grade(favourable, limit, warn) if favourable is not None else "pass"
    worst = grade(unfavourable, limit, warn) if unfavourable is not None else "fail"
    return best, worst


def windows_status(grades: list[CheckStatus], required: float) -> CheckStatus:
    """pass when enough windows passed, warn when enough at least warned, else fail."""
    passed = grades.count("pass")
    if passed >= required:
        return "pass"
    if passed + grades.count("warn") >= required:
        return "warn"
    return "fail"


def call(
    readings: list[tuple[float, Interval | None]],
    limit: Limit,
    warn: Limit | None,
    required: float,
) -> CheckStatus:
    """The status of judged windows (value, interval): the values' own status, or `marginal`
    when the intervals' best ends pass the objective and their worst ends do not."""
    own = windows_status([grade(value, limit, warn) for value, _ in readings], required)
    plausible = [plausible_grades(value, interval, limit, warn) for value, interval in readings]
    best = windows_status([b for b, _ in plausible], required)
    worst = windows_status([w for _, w in plausible], required)
    if best == "pass" and worst != "pass":
        return "marginal"
    return own


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
    judged_windows = [
        (part, reading)
        for part, reading in zip(parts, readings, strict=True)
        if reading.value is not None and reading.samples >= objective.min_samples
    ]
    judged = [(r.value, r.interval) for _, r in judged_windows if r.value is not None]
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
    grades = [grade(value, limit, warn) for value, _ in judged]
    worst, interval = (max if limit.is_upper else min)(judged, key=lambda item: item[0])
    passed = grades.count("pass")
    required = objective.windows_required * len(judged)
    status = call(judged, limit, warn, required)
    label = "worst window " if len(judged) > 1 else ""
    message = f"{label}{format_value(worst, unit)} vs {limit.text}"
    if warn is not None:
        message += f" (alert {warn.text})"
    if len(parts) > 1:
        message += f"; {passed}/{len(judged)} windows passed"
        if objective.windows_required < 1:
            message += f", {objective.windows_required:.0%} required"
    if status == "marginal":
        message += f"; too close to call at {CONFIDENCE * 100:g} %: "
        if len(judged) == 1:
            message += "the interval straddles the limit"
        else:
            # the value and interval reported are the window that made the call: its interval
            # reaches past the limit (the worst value's own interval may be narrow and clear)
            part, reading = _deciding_window(judged_windows, limit, warn)
            assert reading.value is not None
            worst, interval = reading.value, reading.interval
            message += (
                f"the window at {_offset(part.start_t - span.start_t)} "
                f"({part.duration_s} s, {reading.samples:,} samples) reads "
                f"{format_value(worst, unit)} {_interval_text(interval, unit)}, "
                "straddling the limit"
            )
    return Judgement(status, worst, scope_samples, len(judged), passed, message, interval)


def _deciding_window(
    judged: list[tuple[Span, Reading]], limit: Limit, warn: Limit | None
) -> tuple[Span, Reading]:
    """Of the windows whose interval reaches past the limit, the one reaching furthest (an
    unbounded end furthest of all)."""

    def reach(item: tuple[Span, Reading]) -> float:
        interval = item[1].interval
        if interval is None:
            return -math.inf
        end = interval.high if limit.is_upper else interval.low
        if end is None:
            return math.inf
        return end if limit.is_upper else -end

    straddling = [
        item
        for item in judged
        if item[1].value is not None
        and plausible_grades(item[1].value, item[1].interval, limit, warn)[1] != "pass"
    ]
    return max(straddling or judged, key=reach)


def _offset(offset_s: int) -> str:
    """Seconds into the judged scope as m:ss."""
    return f"{offset_s // 60}:{offset_s % 60:02d}"


def _interval_text(interval: Interval | None, unit: str) -> str:
    return "" if interval is None else interval_text(interval.low, interval.high, unit)
