"""Two runs cut into windows → every figure's change, tested so the comparison as a whole
keeps its false-alarm rate at `1 - confidence`.

Every operation the two runs share (and all requests together, "*") is compared on five
figures: p50, p95 and p99 latency, error rate and throughput. Four rules:

- **The unit is a window of several seconds, not a request.** Each figure's spread comes
  from a block bootstrap over whole windows, so the correlation between the requests of one
  stretch of a run is respected (see `harness.compare._bootstrap` for why a per-request or
  per-bin bootstrap is far too sure of itself). The test statistic is Student's t of the
  worsening beyond the threshold, with the fewer runs' windows minus one degrees of freedom.
- **A regression is judged on the interval, not the point estimate.** A figure regresses only
  when its whole confidence interval is worse than both thresholds: the relative one (of the
  base value) and an absolute floor (`Floors`: 1 ms of latency, half a percentage point of
  error rate, 1 request/s of throughput). A p50 that moved 0.9 → 1.1 ms is not a regression
  however sure the test is of it: runs one after another are not exchangeable samples (the
  backend's state moves), and a shift that small is within what two runs of one commit show.
- **Holm's correction over every figure tested** (the family-wise error rate, not the
  false-discovery rate: see `harness.compare._bootstrap`). Each figure's interval is drawn at the
  level Holm holds it to, so "its interval clears the thresholds" and "Holm rejects it" say
  the same thing.
- **A percentile is tested only with enough samples beyond it.** The q-th percentile of n
  samples is decided by the k = n(1 - q) samples above it; a distribution-free interval for
  it spans about ±2√k of those ranks, so with fewer than ~20 samples above it the interval
  reaches the run's largest sample and says nothing about the tail (a p99 from 100 samples is
  the second-largest sample). A percentile is tested only when both runs have
  `MIN_TAIL_SAMPLES / (1 - q)` samples: 40 for p50, 400 for p95, 2,000 for p99. Below that
  it is reported, marked untested, and left out of the correction. An error rate is tested
  only when some request failed in either run (selecting on the pooled failures, which say
  nothing about which run had them, keeps the test valid).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from harness.compare._bootstrap import (
    FloatArray,
    Statistic,
    WorseningTest,
    block_bootstrap,
    holm,
    percentile_columns,
    percentile_of,
    ratio,
    spread,
)
from harness.compare._distribution import Distribution

ALL_REQUESTS = "*"
PERCENTILES = (50.0, 95.0, 99.0)
MIN_TESTABLE_WINDOWS = 6
"""Below this many windows, a run is too short to be compared at all."""
MIN_TAIL_SAMPLES = 20
"""Samples expected beyond a percentile before it is tested (see the module docstring)."""
CORRECTION = "holm"
CORRECTION_REASON = (
    "Holm's step-down holds the family-wise error rate (the chance that comparing two runs of "
    "the same code flags anything) at 1 - confidence for any dependence between the figures, "
    "and every figure it flags is itself trustworthy; Benjamini-Hochberg would let a share of "
    "the flagged figures be noise."
)
Direction = Literal["higher_is_worse", "lower_is_worse"]


def min_samples(percentile: float) -> int:
    """Samples each run needs before its `percentile`-th percentile is tested."""
    return math.ceil(round(MIN_TAIL_SAMPLES * 100.0 / (100.0 - percentile), 6))


@dataclass(frozen=True, slots=True)
class Floors:
    """Absolute changes too small to be a regression, whatever their relative size."""

    latency_ms: float = 1.0
    """Latency percentiles: milliseconds."""
    error_rate: float = 0.005
    """Error rate: a 0-1 fraction (0.005 is half a percentage point)."""
    throughput_rps: float = 1.0
    """Throughput: requests per second."""


@dataclass(frozen=True, slots=True)
class OperationWindows:
    """One operation of one run, window by window (every window of the run, empty or not)."""

    latency: tuple[Distribution, ...]
    """Latencies (ms) completed in each window."""
    failed: tuple[int, ...]
    """Failed requests per window."""
    requests: tuple[int, ...]
    """Requests per window."""
    seconds: tuple[int, ...]
    """Length of each window."""

    @classmethod
    def merge(cls, parts: Sequence[OperationWindows]) -> OperationWindows:
        """Several operations of one run as one (all requests)."""
        windows = range(len(parts[0].seconds))
        return cls(
            latency=tuple(_merged([part.latency[w] for part in parts]) for w in windows),
            failed=tuple(sum(part.failed[w] for part in parts) for w in windows),
            requests=tuple(sum(part.requests[w] for part in parts) for w in windows),
            seconds=parts[0].seconds,
        )


def _merged(distributions: Sequence[Distribution]) -> Distribution:
    values = np.concatenate([d.values for d in distributions])
    counts = np.concatenate([d.counts for d in distributions])
    distinct, where = np.unique(values, return_inverse=True)
    totals = np.bincount(where, weights=counts, minlength=len(distinct))
    return Distribution(distinct.astype(np.float64), totals.astype(np.int64))


@dataclass(frozen=True, slots=True)
class Change:
    """One figure of one operation in both runs."""

    operation: str
    """Operation, or "*" for every request."""
    figure: str
    """p50_ms, p95_ms, p99_ms, error_rate, throughput_rps (or requests: in one run only)."""
    base: float | None
    """Value in the base run."""
    new: float | None
    """Value in the new run."""
    direction: Direction
    """Whether a rise or a fall is the bad direction."""
    relative: float | None = None
    """(new - base) / base; None when base is 0 or a value is missing."""
    samples_base: int = 0
    """Requests of the operation in the base run's judged span."""
    samples_new: int = 0
    """Requests of the operation in the new run's judged span."""
    tested: bool = False
    """Whether the figure was tested (enough samples and windows) and counted in the
    correction; an untested figure is reported only, and `note` says why."""
    threshold: float | None = None
    """How much worse (in the figure's unit, positive) the whole interval must be for a
    regression: the larger of the relative threshold of the base value and the floor."""
    interval_low: float | None = None
    """Lower bound of the confidence interval of new - base, erring at `level` per side."""
    interval_high: float | None = None
    """Upper bound of the confidence interval of new - base, erring at `level` per side."""
    level: float | None = None
    """Error rate Holm holds this figure to: (1 - confidence) / (figures not yet rejected)."""
    p_value: float | None = None
    """One-sided p-value of "worse by more than `threshold`", before the correction."""
    p_adjusted: float | None = None
    """Holm-adjusted p-value: a regression exactly when it is at most 1 - confidence."""
    significant: bool = False
    """The interval lies wholly on the worse side of no change (worse at all)."""
    regression: bool = False
    """The interval lies wholly beyond the threshold, and Holm rejected it."""
    note: str = ""
    """Why a figure was not tested."""

    @property
    def absolute(self) -> float | None:
        return None if self.base is None or self.new is None else self.new - self.base


def compare_windows(
    base: Mapping[str, OperationWindows],
    new: Mapping[str, OperationWindows],
    *,
    max_regression: float,
    confidence: float,
    floors: Floors,
) -> list[Change]:
    """Every figure of every operation the runs share, and of all their requests together,
    tested and decided under one Holm correction at `1 - confidence`."""
    if not base or not new:
        side = "base" if not base else "new"
        note = f"no requests in the {side} run"
        return [Change(ALL_REQUESTS, "requests", None, None, "lower_is_worse", note=note)]
    shared = sorted(set(base) & set(new))
    pair = _Pair(max_regression, floors)
    candidates: list[_Candidate] = []
    for op in [ALL_REQUESTS, *shared]:
        if op == ALL_REQUESTS:
            before = OperationWindows.merge(list(base.values()))
            after = OperationWindows.merge(list(new.values()))
        else:
            before, after = base[op], new[op]
        candidates += pair.latency(op, before, after)
        candidates.append(pair.error_rate(op, before, after))
        candidates.append(pair.throughput(op, before, after))
    return _decide(candidates, 1.0 - confidence)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A figure measured in both runs, before the correction decides it."""

    change: Change
    test: WorseningTest | None
    sign: float
    """+1 when a rise is worse, -1 when a fall is."""


def _relative(base: float | None, new: float | None) -> float | None:
    if base is None or new is None or base == 0:
        return None
    return (new - base) / base


def _measured(
    op: str,
    figure: str,
    values: tuple[float, float],
    samples: tuple[int, int],
    *,
    sign: float,
    margin: float,
    note: str,
) -> Change:
    """A figure measured in both runs (base, new), before any test: worse when it moves the
    way `sign` says (+1 a rise), a regression only beyond `margin`; `note` says why it is
    left untested."""
    base_value, new_value = values
    return Change(
        op,
        figure,
        base_value,
        new_value,
        "lower_is_worse" if sign < 0 else "higher_is_worse",
        relative=_relative(base_value, new_value),
        samples_base=samples[0],
        samples_new=samples[1],
        threshold=margin,
        note=note,
    )


def _too_short(before: OperationWindows, after: OperationWindows) -> str:
    fewer = min(len(before.seconds), len(after.seconds))
    if fewer >= MIN_TESTABLE_WINDOWS:
        return ""
    return f"untested: too short ({fewer} windows, needs {MIN_TESTABLE_WINDOWS})"


@dataclass(frozen=True, slots=True)
class _Pair:
    """The thresholds a change must clear, and the tests of each kind of figure."""

    threshold: float
    floors: Floors

    def _tests(
        self,
        base_rows: FloatArray,
        new_rows: FloatArray,
        statistic: Statistic,
        worsening: float,
        margin: float,
    ) -> WorseningTest:
        spreads = [
            spread(block_bootstrap(rows, statistic, seed=seed), len(rows))[0]
            for rows, seed in ((base_rows, 1), (new_rows, 2))
        ]
        return _worsening(spreads, len(base_rows), len(new_rows), worsening, margin)

    def latency(
        self, op: str, before: OperationWindows, after: OperationWindows
    ) -> list[_Candidate]:
        grid = np.unique(np.concatenate([d.values for d in (*before.latency, *after.latency)]))
        base_rows = _running_totals(before.latency, grid)
        new_rows = _running_totals(after.latency, grid)
        too_short = _too_short(before, after)
        return [self._percentile(op, q, grid, base_rows, new_rows, too_short) for q in PERCENTILES]

    def _percentile(
        self,
        op: str,
        q: float,
        grid: FloatArray,
        base_rows: FloatArray,
        new_rows: FloatArray,
        too_short: str,
    ) -> _Candidate:
        figure = f"p{q:g}_ms"
        n_base, n_new = int(base_rows[:, -1].sum()), int(new_rows[:, -1].sum())
        if not n_base or not n_new:
            change = Change(op, figure, None, None, "higher_is_worse", note="no samples")
            return _Candidate(change, None, 1.0)
        base_value, new_value = _whole_run(base_rows, grid, q), _whole_run(new_rows, grid, q)
        margin = max(self.threshold * base_value, self.floors.latency_ms)
        note = too_short
        if not note and min(n_base, n_new) < min_samples(q):
            note = f"untested: fewer than {min_samples(q):,} samples"
        change = _measured(
            op, figure, (base_value, new_value), (n_base, n_new), sign=1.0, margin=margin, note=note
        )
        if note:
            return _Candidate(change, None, 1.0)
        spreads = []
        for rows, seed in ((base_rows, 1), (new_rows, 2)):
            # only the value columns a resample's percentile can fall in, then the totals
            columns = percentile_columns(rows, q)
            stretch = np.column_stack([rows[:, columns], rows[:, -1]])
            replicates = block_bootstrap(stretch, percentile_of(grid[columns], q), seed=seed)
            spreads.append(spread(replicates, len(rows))[0])
        test = _worsening(spreads, len(base_rows), len(new_rows), new_value - base_value, margin)
        return _Candidate(change, test, 1.0)

    def error_rate(self, op: str, before: OperationWindows, after: OperationWindows) -> _Candidate:
        base_rows = np.array([before.failed, before.requests], dtype=np.float64).T
        new_rows = np.array([after.failed, after.requests], dtype=np.float64).T
        (failed_base, n_base), (failed_new, n_new) = base_rows.sum(0), new_rows.sum(0)
        if not n_base or not n_new:
            change = Change(op, "error_rate", None, None, "higher_is_worse", note="no requests")
            return _Candidate(change, None, 1.0)
        note = _too_short(before, after)
        if not note and not failed_base and not failed_new:
            note = "untested: no failed request in either run"
        return self._ratio(
            op,
            "error_rate",
            base_rows,
            new_rows,
            lower_is_worse=False,
            requests_column=1,
            floor=self.floors.error_rate,
            note=note,
        )

    def throughput(self, op: str, before: OperationWindows, after: OperationWindows) -> _Candidate:
        base_rows = np.array([before.requests, before.seconds], dtype=np.float64).T
        new_rows = np.array([after.requests, after.seconds], dtype=np.float64).T
        return self._ratio(
            op,
            "throughput_rps",
            base_rows,
            new_rows,
            lower_is_worse=True,
            requests_column=0,
            floor=self.floors.throughput_rps,
            note=_too_short(before, after),
        )

    def _ratio(
        self,
        op: str,
        figure: str,
        base_rows: FloatArray,
        new_rows: FloatArray,
        *,
        lower_is_worse: bool,
        requests_column: int,
        floor: float,
        note: str,
    ) -> _Candidate:
        """A figure that is a ratio of two per-window sums (failed / requests, requests /
        seconds), tested on the windows; its samples are the requests of each run, in column
        `requests_column` of the rows."""
        (top_base, bottom_base), (top_new, bottom_new) = base_rows.sum(0), new_rows.sum(0)
        base_value, new_value = float(top_base / bottom_base), float(top_new / bottom_new)
        sign = -1.0 if lower_is_worse else 1.0
        margin = max(self.threshold * base_value, floor)
        samples = int(base_rows[:, requests_column].sum()), int(new_rows[:, requests_column].sum())
        change = _measured(
            op, figure, (base_value, new_value), samples, sign=sign, margin=margin, note=note
        )
        if note:
            return _Candidate(change, None, sign)
        worsening = sign * (new_value - base_value)
        test = self._tests(base_rows, new_rows, ratio, worsening, margin)
        return _Candidate(change, test, sign)


def _running_totals(latency: Sequence[Distribution], grid: FloatArray) -> FloatArray:
    """Cumulative latency counts per window (rows) along the shared value grid (columns):
    the last column is the window's whole count."""
    rows = np.zeros((len(latency), max(len(grid), 1)), dtype=np.float64)
    for row, distribution in enumerate(latency):
        rows[row, np.searchsorted(grid, distribution.values)] = distribution.counts
    return np.cumsum(rows, axis=1)


def _whole_run(rows: FloatArray, grid: FloatArray, q: float) -> float:
    """The q-th percentile of all the windows together."""
    merged = rows.sum(axis=0)
    return float(percentile_of(grid, q)(np.append(merged, merged[-1])[None, :])[0, 0])


def _worsening(
    spreads: list[float], base_windows: int, new_windows: int, worsening: float, margin: float
) -> WorseningTest:
    """The test of two independent runs' change: their spreads add in quadrature."""
    error = math.sqrt(sum(value**2 for value in spreads))
    return WorseningTest(worsening, margin, error, min(base_windows, new_windows) - 1)


def _decide(candidates: list[_Candidate], alpha: float) -> list[Change]:
    """Holm over every tested figure; each figure's interval at the level Holm holds it to."""
    tests = [candidate.test for candidate in candidates if candidate.test is not None]
    steps = iter(holm([test.p_value() for test in tests], alpha))
    changes = []
    for candidate in candidates:
        test = candidate.test
        if test is None:
            changes.append(candidate.change)
            continue
        step = next(steps)
        half = test.half_width(step.level)
        if not math.isfinite(half):
            changes.append(replace(candidate.change, note="untested: too few windows with data"))
            continue
        # the interval of the worsening, turned back into new - base
        worse_low, worse_high = test.worsening - half, test.worsening + half
        low, high = sorted((float(candidate.sign * worse_low), float(candidate.sign * worse_high)))
        changes.append(
            replace(
                candidate.change,
                tested=True,
                interval_low=low,
                interval_high=high,
                level=step.level,
                p_value=test.p_value(),
                p_adjusted=step.adjusted_p,
                significant=bool(worse_low > 0),
                regression=bool(step.rejected and worse_low > test.margin),
            )
        )
    return changes
