"""Block bootstrap over windows of a run, and Holm's step-down correction over many tests.

Why windows, not requests. The requests of one run are not independent draws: a slow second
(a GC pause, a cache refresh, a burst of checkouts) slows hundreds of requests together, and
in the closed model each user's next request waits on its last one. A bootstrap that
resamples requests (or, the same thing, an HDR histogram's bins) treats 10,000 correlated
requests as 10,000 independent ones; its interval measures the noise *within* one run and
comes out far too narrow, so any difference between two runs at all, however small, is
"significant" (the p50 of all requests moved 0.9 → 1.1 ms between two runs of one commit with
p = 0). Here the unit is a window of several seconds: a run is cut into windows, each window
keeps its own additive counts (latency counts on a value grid, failed and total requests,
requests and seconds), and a resample draws whole windows with replacement (a block
bootstrap), so the correlation inside a window stays inside it and the interval reflects how
much a figure wanders across a run's stretches of time — the nearest stand-in one run gives
for how much it wanders from run to run.

What it cannot see is a shift that holds for a whole run (a backend warmed differently). Two
runs of one commit differ by such shifts; that is what `compare`'s thresholds are for (an
absolute floor beside the relative one), and `benchmarks/compare_false_alarms.py` measures that
together they keep ten runs of one commit from flagging each other.

Holm, not Benjamini-Hochberg. A comparison tests tens of figures (every operation's p50, p95,
p99, error rate and throughput), and the gate's promise is about the comparison as a whole:
two runs of the same code exit 1 at most `1 - confidence` of the time. That is the
family-wise error rate, which Holm's step-down controls for any dependence between the tests
(and ours are strongly dependent: p50, p95 and p99 of one operation, each operation inside
"all requests"). Benjamini-Hochberg controls the false-discovery rate: it is valid only for
independent or positively dependent tests and lets a share of the flagged figures be noise
whenever one real regression is present, while every flagged figure is a line someone goes to
investigate. Holm costs little power here: a regression worth failing a build for sits far
beyond the thresholds, where its p-value is tiny.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Statistic = Callable[[FloatArray], FloatArray]
"""Maps column sums of resampled windows, shape (resamples, columns), to figures
(resamples, figures); NaN where a resample has no data for a figure."""

RESAMPLES = 1000
"""Enough for a standard error to within about 2 % (its relative error is 1 / sqrt(2 B))."""
_CELLS = 1_000_000
"""Resampled values held at once (8 MB)."""


def percentile_of(values_ms: FloatArray, percentile: float) -> Statistic:
    """A statistic: the `percentile`-th percentile (HDR's rank rule) of latency counts.

    It reads running totals: each row holds the cumulative counts along `values_ms`, then
    the window's whole count in a last column. Resampling is linear, so the running totals
    of resampled windows are the resampled windows' running totals, and `values_ms` may be
    any stretch of the value grid that holds every resample's percentile (`percentile_columns`).
    """
    fraction = percentile / 100.0

    def statistic(sums: FloatArray) -> FloatArray:
        cumulative, totals = sums[:, :-1], sums[:, -1]
        resamples, width = cumulative.shape
        ranks = np.maximum(1.0, np.ceil(fraction * totals))
        # One search over every row at once: shifting row r by r * (largest total + 1)
        # keeps the flattened running totals ascending and each rank inside its own row.
        offsets = np.arange(resamples, dtype=np.float64) * (float(totals.max()) + 1.0)
        flat = (cumulative + offsets[:, None]).ravel()
        found = np.searchsorted(flat, ranks + offsets, side="left")
        index = np.clip(found - np.arange(resamples) * width, 0, width - 1)
        return np.where(totals > 0, values_ms[index], np.nan)[:, None]

    return statistic


def percentile_columns(cumulative: FloatArray, percentile: float) -> slice:
    """The stretch of value columns that holds the percentile of any resample of windows.

    A resample's distribution is a mixture of its windows', and a mixture's percentile lies
    between the smallest and the largest of its parts' percentiles (below the smallest, every
    window has fewer than its rank's share of samples, so the mixture does too; at the
    largest, every window has at least its share). So the columns from the lowest to the
    highest window percentile are all a resample can need.
    """
    totals = cumulative[:, -1]
    ranks = np.maximum(1.0, np.ceil(percentile / 100.0 * totals))
    found = [
        int(np.searchsorted(row, rank, side="left"))
        for row, rank, total in zip(cumulative, ranks, totals, strict=True)
        if total > 0
    ]
    return slice(min(found), max(found) + 1) if found else slice(0, cumulative.shape[1])


def ratio(sums: FloatArray) -> FloatArray:
    """A statistic: column 0 over column 1 (failed / total requests, requests / seconds)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[:, 1:2] > 0, sums[:, 0:1] / sums[:, 1:2], np.nan)


def block_bootstrap(
    rows: FloatArray, statistic: Statistic, *, resamples: int = RESAMPLES, seed: int = 0
) -> FloatArray:
    """`statistic` over `resamples` resamples of whole windows (rows), drawn with replacement.

    `rows` has one row per window and additive columns; returns (resamples, figures). The
    same seed draws the same resamples, so every figure of a run is resampled alike.
    """
    weights = _window_weights(rows.shape[0], resamples, seed)
    chunk = max(1, _CELLS // max(rows.shape[1], 1))
    return np.concatenate(
        [statistic(weights[start : start + chunk] @ rows) for start in range(0, resamples, chunk)]
    )


@functools.lru_cache(maxsize=16)
def _window_weights(windows: int, resamples: int, seed: int) -> FloatArray:
    """How many times each window is drawn, per resample: (resamples, windows)."""
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(windows, np.full(windows, 1.0 / windows), size=resamples)
    weights: FloatArray = draws.astype(np.float64)
    weights.flags.writeable = False
    return weights


def spread(replicates: FloatArray, windows: int) -> FloatArray:
    """Standard error of each figure from its bootstrap replicates, per column.

    The bootstrap variance of a statistic built from n resampled blocks is low by the factor
    (n - 1) / n (it divides by n where the sample variance divides by n - 1); undone here.
    """
    with np.errstate(invalid="ignore"):
        variance = np.nanvar(replicates, axis=0)
    return np.asarray(np.sqrt(variance * windows / max(windows - 1, 1)), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class WorseningTest:
    """Whether a figure got worse by more than its threshold, from two runs' windows."""

    worsening: float
    """How much worse the new run is (new - base for latency and errors, base - new for
    throughput), point estimate."""
    margin: float
    """The threshold it must exceed: the larger of the relative and the absolute one."""
    standard_error: float
    """Standard error of `worsening` (both runs' block-bootstrap spreads added)."""
    degrees_of_freedom: int
    """Of the Student t the test uses: the fewer windows of the two runs, minus one."""

    def p_value(self) -> float:
        """One-sided p-value of `worsening > margin` (H0: worsening <= margin)."""
        from scipy import stats

        excess = self.worsening - self.margin
        if not np.isfinite(self.standard_error):
            return 1.0
        if self.standard_error == 0:
            return 0.0 if excess > 0 else 1.0
        return float(stats.t.sf(excess / self.standard_error, self.degrees_of_freedom))

    def bound(self, level: float) -> float:
        """One-sided bound of the worsening at error rate `level`: worse than this with
        probability at least 1 - level."""
        from scipy import stats

        if self.standard_error == 0:
            return self.worsening
        quantile = float(stats.t.isf(level, self.degrees_of_freedom))
        return self.worsening - quantile * self.standard_error

    def half_width(self, level: float) -> float:
        """Half the two-sided interval of the worsening whose each side errs at `level`."""
        return self.worsening - self.bound(level)


@dataclass(frozen=True, slots=True)
class HolmStep:
    """One test's place in Holm's step-down."""

    level: float
    """The error rate its own p-value is held to: alpha / (tests not yet rejected)."""
    adjusted_p: float
    """Holm-adjusted p-value: rejected exactly when it is at most alpha."""
    rejected: bool
    """The null (no worsening beyond the threshold) is rejected for the family."""


def holm(p_values: Sequence[float], alpha: float) -> list[HolmStep]:
    """Holm's step-down over `p_values` at family-wise error rate `alpha`, in input order.

    Sorted ascending, the i-th smallest (from 0) is held to alpha / (m - i); the first that
    fails stops the procedure, and every larger one is kept too.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda index: p_values[index])
    steps: list[HolmStep | None] = [None] * m
    running_max, rejecting = 0.0, True
    for rank, index in enumerate(order):
        level = alpha / (m - rank)
        running_max = max(running_max, min(1.0, (m - rank) * p_values[index]))
        rejecting = rejecting and p_values[index] <= level
        steps[index] = HolmStep(level, running_max, rejecting)
    return [step for step in steps if step is not None]
