"""Judging server-side objectives: CPU and memory per window, and memory drift.

The values come from the run's server-side series (`harness.observe`, RUN_DIR/server.jsonl):
`cpu_ratio` and `memory_ratio` (0-1) for cpu and memory, `memory_bytes` for memory_drift.
An objective with its own PromQL `query` reads the series collected for it (labelled with
its id) when the run used Prometheus, and the default series otherwise.
"""

from __future__ import annotations

import math

from harness.observe import ServerSeries
from harness.spec import Limit, Objective
from harness.verdict._format import format_value
from harness.verdict._growth_line import fit_growth_line
from harness.verdict._judge import Judgement, grade
from harness.verdict._model import CheckStatus
from harness.verdict._scope import Span, windows

SERVER_SERIES = {"cpu": "cpu_ratio", "memory": "memory_ratio", "memory_drift": "memory_bytes"}
"""Objective metric -> the server-side series it is judged on."""

DRIFT_WINDOW_S = 10.0
"""Memory drift: the series is averaged over windows this long (unless the objective sets
one) before the line is fitted, so one noisy scrape weighs little."""

BYTES_PER_MB = 1024 * 1024
_MIN_DRIFT_POINTS = 3

NO_SERVER_DATA = (
    "no server metrics were collected for this run (the target's /metrics was not "
    "reachable, and no --prometheus-url was given)"
)


def _series(objective: Objective, data: ServerSeries) -> tuple[str, dict[str, str], str]:
    """The metric and labels to read, and a note when the objective's query could not be."""
    metric = SERVER_SERIES[objective.metric]
    own = {"objective": objective.id}
    if objective.query:
        if data.values(metric, own):
            return metric, own, ""
        return metric, {}, f" (its query ran only with --prometheus-url; {data.source} series used)"
    return metric, {}, ""


def statistic_of(statistic: str, values: list[float]) -> float:
    """mean, min, max or a percentile (p95) of `values` (nearest rank)."""
    if statistic == "max":
        return max(values)
    if statistic == "min":
        return min(values)
    if statistic.startswith("p") and statistic[1:].replace(".", "", 1).isdigit():
        ordered = sorted(values)
        rank = max(1, math.ceil(float(statistic[1:]) / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]
    return math.fsum(values) / len(values)


def judge_utilisation(
    objective: Objective, limit: Limit, warn: Limit | None, data: ServerSeries | None, span: Span
) -> Judgement:
    """cpu or memory: the statistic of the ratio in every window against limit and warn."""
    if data is None:
        return Judgement("no_data", None, 0, 0, 0, NO_SERVER_DATA)
    metric, labels, note = _series(objective, data)
    parts = windows(span, objective.window_s)
    readings = [data.values(metric, labels, part.start_t, part.end_t) for part in parts]
    samples = sum(len(points) for points in readings)
    judged = [
        statistic_of(objective.statistic, [value for _, value in points])
        for points in readings
        if points and len(points) >= objective.min_samples
    ]
    if not judged:
        return Judgement(
            "no_data",
            None,
            samples,
            0,
            0,
            f"no {metric} points in the scope ({data.source}: {len(data.values(metric))} in all)",
        )
    grades = [grade(value, limit, warn) for value in judged]
    worst = max(judged) if limit.is_upper else min(judged)
    passed = grades.count("pass")
    acceptable = passed + grades.count("warn")
    required = objective.windows_required * len(judged)
    status: CheckStatus = (
        "pass" if passed >= required else "warn" if acceptable >= required else "fail"
    )
    label = "worst window " if len(judged) > 1 else ""
    message = f"{label}{objective.statistic} {format_value(worst, 'ratio')} vs {limit.text}"
    if warn is not None:
        message += f" (alert {warn.text})"
    if len(parts) > 1:
        message += f"; {passed}/{len(judged)} windows passed"
    return Judgement(status, worst, samples, len(judged), passed, message + note)


def judge_memory_drift(
    objective: Objective, limit: Limit, warn: Limit | None, data: ServerSeries | None, span: Span
) -> Judgement:
    """Growth of resident memory in MB per hour over the scope, with a one-sided t-test on the
    slope: a growth that is not significant passes whatever its size."""
    if data is None:
        return Judgement("no_data", None, 0, 0, 0, NO_SERVER_DATA)
    metric, labels, note = _series(objective, data)
    points = []
    for part in windows(span, objective.window_s or DRIFT_WINDOW_S):
        values = [value for _, value in data.values(metric, labels, part.start_t, part.end_t)]
        if values:
            points.append((part.start_t + part.duration_s / 2, math.fsum(values) / len(values)))
    samples = len(data.values(metric, labels, span.start_t, span.end_t))
    if len(points) < _MIN_DRIFT_POINTS:
        return Judgement(
            "no_data",
            None,
            samples,
            len(points),
            0,
            f"memory drift needs {metric} in at least {_MIN_DRIFT_POINTS} windows, got {len(points)}",
        )
    line = fit_growth_line([t for t, _ in points], [value / BYTES_PER_MB for _, value in points])
    growth = line.slope_per_h
    status: CheckStatus = "pass"
    if line.significant and not limit.holds(growth):
        status = "warn" if warn is not None and warn.holds(growth) else "fail"
    verdict = "significant" if line.significant else "not significant"
    message = (
        f"memory grows {growth:+,.1f} MB per hour over {len(points)} windows "
        f"({verdict}, p={line.p_growth:.3f}) vs {limit.text}{note}"
    )
    held = 1 if status == "pass" else 0
    return Judgement(status, growth, samples, len(points), held * len(points), message)
