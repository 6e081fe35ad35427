"""The between-run test: a new run's figure against the same figure in n baseline runs.

`perfctl compare` sees one run's noise within the run (windows of a few seconds). What it
cannot see is how much a whole run moves from one run to the next: the backend warmed
differently, another process on the machine, a cache's state. A baseline of n passing runs
measures exactly that, and the test here uses it:

- **Per figure, a one-sided prediction interval** from the baseline runs' values. Latencies
  and throughput are taken on a log scale (a run-to-run change is a factor, and a log-normal
  keeps them positive), the error rate as it is. With the baseline's mean m and standard
  deviation s (n - 1 degrees of freedom), a new run of the same code lies beyond
  `m + t(1 - a, n - 1) * s * sqrt(1 + 1/n)` with probability exactly `a` when the runs'
  values are independent and normal (Student's prediction interval; the sqrt(1 + 1/n) holds
  the uncertainty of m itself). Throughput is worse the other way: `m - t * s * sqrt(...)`.
- **Bonferroni over the figures the baseline tests** (m figures: p50/p95/p99, error rate and
  throughput of every operation and of all requests): each at a = (1 - confidence) / m, so a
  run of the same code is flagged on any figure at most 1 - confidence of the time, for any
  dependence between the figures (p95 and p99 of one operation move together). Unlike Holm,
  each figure's limit depends on the baseline alone, so it is written into the baseline and
  drawn in the runs index as a band; a regression worth failing a build for lies far beyond
  it, where the two corrections agree.
- **Thresholds beside the interval**: a figure regresses only when it is also worse than the
  centre by more than the relative threshold (10 %) and the absolute floor (1 ms, 0.5
  percentage points of error rate, 1 request/s): a change a person would not act on is not a
  regression, however sure the test is. These only remove flags, so the false-positive rate
  above is an upper bound.
- **Enough runs and samples**: with fewer than `MIN_BASELINE_RUNS` runs the spread between runs
  is unknown (n - 1 < 2 degrees of freedom) and the caller falls back to `perfctl compare`'s
  within-run test against the newest baseline run. A percentile is tested only when every
  run has the samples `perfctl compare` asks for (20 beyond it: 400 requests for a p95).

A baseline of runs whose figures are all equal (an error rate of 0 in every run) has s = 0:
any worse value lies beyond the interval, and only the thresholds decide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from harness.compare._changes import ALL_REQUESTS, Direction, min_samples
from harness.rundir import (
    BaselineBand,
    BaselineRun,
    BaselineSettings,
    FigureCheck,
    OperationFigures,
)

MIN_BASELINE_RUNS = 3
"""Fewer runs and the spread between runs is unknown: the within-run test is used instead."""
FIGURES = ("p50_ms", "p95_ms", "p99_ms", "error_rate", "throughput_rps")
_PERCENTILES = {"p50_ms": 50.0, "p95_ms": 95.0, "p99_ms": 99.0}
_TINY = 1e-9
"""A value on a log scale is taken at least this (a throughput of 0: the operation vanished)."""

METHOD = (
    "Per figure, the new run's value against a one-sided Student prediction interval from the "
    "baseline runs' values (log scale for latency and throughput, n - 1 degrees of freedom); "
    "Bonferroni over every figure the baseline tests, so a run of the same code is flagged at "
    "most 1 - confidence of the time; a figure regresses only beyond the interval and beyond "
    "both the relative threshold and the absolute floor."
)


@dataclass(frozen=True, slots=True)
class _Scale:
    """How a figure is tested: on which scale, and which way is worse."""

    log: bool
    sign: float
    """+1 when a rise is worse, -1 when a fall is."""
    floor: float

    def to_scale(self, value: float) -> float:
        return math.log(max(value, _TINY)) if self.log else value

    def from_scale(self, value: float) -> float:
        return math.exp(value) if self.log else value


def _scale(figure: str, settings: BaselineSettings) -> _Scale:
    if figure == "error_rate":
        return _Scale(False, 1.0, settings.min_error_rate_change)
    if figure == "throughput_rps":
        return _Scale(True, -1.0, settings.min_throughput_change_rps)
    return _Scale(True, 1.0, settings.min_change_ms)


def _direction(sign: float) -> Direction:
    return "higher_is_worse" if sign > 0 else "lower_is_worse"


def _testable(figure: str, figures: OperationFigures) -> bool:
    """Whether one run's figure can be tested: it exists, with enough samples."""
    if figures.value(figure) is None:
        return False
    percentile = _PERCENTILES.get(figure)
    return percentile is None or figures.requests >= min_samples(percentile)


def baseline_bands(
    runs: Sequence[BaselineRun], settings: BaselineSettings
) -> tuple[BaselineBand, ...]:
    """The band and limit of every figure the baseline tests (none below MIN_BASELINE_RUNS)."""
    if len(runs) < MIN_BASELINE_RUNS:
        return ()
    shared = set.intersection(*(set(run.operations) for run in runs))
    ordered = sorted(shared, key=lambda op: (op != ALL_REQUESTS, op))
    tested = [
        (op, figure)
        for op in ordered
        for figure in FIGURES
        if all(_testable(figure, run.operations[op]) for run in runs)
    ]
    if not tested:
        return ()
    level = (1.0 - settings.confidence) / len(tested)
    bands = []
    for op, figure in tested:
        values = [run.operations[op].value(figure) or 0.0 for run in runs]
        bands.append(prediction_band(op, figure, values, level=level, settings=settings))
    return tuple(bands)


def prediction_band(
    operation: str,
    figure: str,
    values: Sequence[float],
    *,
    level: float,
    settings: BaselineSettings,
) -> BaselineBand:
    """The prediction interval of `figure` from the baseline runs' `values`, each side at
    `level`, and the limit beyond it and both thresholds."""
    from scipy import stats

    scale = _scale(figure, settings)
    n = len(values)
    points = [scale.to_scale(value) for value in values]
    mean = sum(points) / n
    deviation = math.sqrt(sum((p - mean) ** 2 for p in points) / (n - 1))
    half = float(stats.t.isf(level, n - 1)) * deviation * math.sqrt(1.0 + 1.0 / n)
    center = scale.from_scale(mean)
    low, high = scale.from_scale(mean - half), scale.from_scale(mean + half)
    if not scale.log:
        low = max(low, 0.0)
    margin = max(settings.max_regression * center, scale.floor)
    limit = max(high, center + margin) if scale.sign > 0 else min(low, center - margin)
    return BaselineBand(
        operation=operation,
        figure=figure,
        direction=_direction(scale.sign),
        runs=n,
        center=center,
        low=low,
        high=high,
        limit=limit,
        level=level,
    )


def p_value(band: BaselineBand, values: Sequence[float], value: float) -> float:
    """One-sided: the chance that a run of the same code is at least as much worse as `value`
    (the baseline runs' `values` give the centre and the spread)."""
    from scipy import stats

    sign = 1.0 if band.direction == "higher_is_worse" else -1.0
    scale = _scale(band.figure, BaselineSettings())  # only the scale and the sign matter
    n = len(values)
    points = [scale.to_scale(v) for v in values]
    mean = sum(points) / n
    deviation = math.sqrt(sum((p - mean) ** 2 for p in points) / (n - 1))
    worse = sign * (scale.to_scale(value) - mean)
    if deviation == 0:
        return 0.0 if worse > 0 else 1.0
    return float(stats.t.sf(worse / (deviation * math.sqrt(1.0 + 1.0 / n)), n - 1))


def check_figures(
    runs: Sequence[BaselineRun],
    bands: Sequence[BaselineBand],
    new: dict[str, OperationFigures],
) -> list[FigureCheck]:
    """Every band of the baseline against the new run's figures: a regression beyond its
    limit; untested (with a note) where the new run lacks the figure or its samples."""
    checks = []
    for band in bands:
        figures = new.get(band.operation)
        value = figures.value(band.figure) if figures is not None else None
        shown = FigureCheck(
            operation=band.operation,
            figure=band.figure,
            direction=band.direction,
            value=value,
            center=band.center,
            low=band.low,
            high=band.high,
            limit=band.limit,
            level=band.level,
        )
        if figures is None or value is None:
            checks.append(replace(shown, note="not in this run"))
            continue
        if not _testable(band.figure, figures):
            samples = min_samples(_PERCENTILES[band.figure])
            checks.append(replace(shown, note=f"untested: fewer than {samples:,} samples here"))
            continue
        values = [run.operations[band.operation].value(band.figure) or 0.0 for run in runs]
        worse = value > band.limit if band.direction == "higher_is_worse" else value < band.limit
        checks.append(
            replace(shown, p_value=p_value(band, values, value), tested=True, regression=worse)
        )
    return checks
