"""Confidence intervals for the figures the verdict judges: how sure a measured value is.

A p95 from 200 requests and one from 200,000 read the same as point values; the interval
around each says how far the truth may lie from it (at `CONFIDENCE`, 95 %). Each kind of
figure gets the interval that fits how it is measured:

- **Percentiles** (latency p50/p95/p99 from the merged HDR histogram): the distribution-free
  interval for a quantile. With n samples, the number below the true q-quantile is
  binomial(n, q), so the order statistics X(r) and X(s) bracket the quantile with probability
  P(r <= B < s). The ranks come from that binomial (scipy), and are mapped to latencies
  through the histogram's cumulative counts: the lower end at the lowest value of its HDR
  bucket, the upper end at the highest (at most 0.1 % wider than the exact order
  statistics, never narrower). No assumption
  about the latency distribution is needed, which matters for the queueing tails and
  bimodal shapes that load tests produce.
- **Ratios** (error rate, availability, checks): the Wilson score interval for a proportion.
- **Throughput** (requests per second over a window): a t interval over the window's
  per-second request counts.
- **Mean latency**: a normal interval from the histogram's mean and standard deviation.

A min or max, a drift slope (judged by its own t-test), a server-side figure, a comparison
with a baseline and a figure extrapolated from a capacity search get no interval: there is no
sampling interval that would be honest for them, so the check says so (`ci_method` None)
rather than inventing one.

The simulation in tests/harness/verdict/test_interval_coverage.py draws samples from known
distributions into `LatencyHistogram` and counts how often these intervals hold the truth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from harness.spec import CONFIDENCE
from harness.timeline import LatencyHistogram


class IntervalMethod(StrEnum):
    """How a check's interval was computed (verdict.json's `ci_method`)."""

    ORDER_STATISTICS = "order_statistics"
    """Distribution-free binomial interval for a quantile, on the HDR histogram."""
    WILSON = "wilson"
    """Wilson score interval for a proportion."""
    T_PER_SECOND = "t_per_second"
    """t interval over the per-second request counts of the window."""
    NORMAL_MEAN = "normal_mean"
    """Normal interval for a mean: mean ± z·sd/√n."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval around a measured figure, in the figure's unit."""

    low: float | None
    """Lower end; None when unbounded (too few samples for the lower rank to exist)."""
    high: float | None
    """Upper end; None when unbounded (too few samples for the upper rank to exist)."""
    method: IntervalMethod
    """How it was computed."""
    confidence: float = CONFIDENCE
    """The probability the interval was built to hold the true value with."""

    def contains(self, value: float) -> bool:
        """Whether `value` lies inside (an unbounded end holds everything on its side)."""
        return (self.low is None or self.low <= value) and (self.high is None or value <= self.high)


def _z(confidence: float) -> float:
    """The two-sided standard normal quantile: 1.96 for 0.95."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


@lru_cache(maxsize=4096)
def quantile_ranks(n: int, q: float, confidence: float = CONFIDENCE) -> tuple[int, int]:
    """The 1-based ranks (r, s) of the order statistics that bracket the q-quantile of n samples.

    B, the number of samples below the true quantile, is binomial(n, q); [X(r), X(s)] holds
    the quantile exactly when r <= B < s. Each end's rank is the one whose tail probability
    (P(B < r) below, P(B >= s) above) lies *nearest* to (1 - confidence)/2, not the one that
    keeps it below: the binomial's steps are coarse in the tail, and the conservative choice
    makes a 95 % interval of a p99 from 1,000 samples hold the truth 97.6 % of the time (wider
    than the data warrants, so more checks would be called too close to call). The nearest
    choice holds it 95 % on average over n (92–97 % for a given n; the simulation test
    measures it). r = 0 means no lower end, s = n + 1 no upper end (too few samples: see
    `harness.spec.percentile_sample_minimum`).
    """
    from scipy.stats import binom

    if n <= 0:
        return 0, 1
    tail = (1.0 - confidence) / 2
    # smallest k with P(B <= k) >= tail: r = k (P(B < r) < tail) or k + 1 (>= tail)
    k_low = int(binom.ppf(tail, n, q))
    low_candidates = [r for r in (k_low, k_low + 1) if 0 <= r <= n]
    r = min(low_candidates, key=lambda rank: abs(float(binom.cdf(rank - 1, n, q)) - tail))
    # smallest k with P(B <= k) >= 1 - tail: s = k + 1 (P(B >= s) <= tail) or k (> tail)
    k_high = int(binom.ppf(1.0 - tail, n, q))
    high_candidates = [s for s in (k_high, k_high + 1) if 1 <= s <= n + 1]
    s = min(high_candidates, key=lambda rank: abs(float(binom.sf(rank - 1, n, q)) - tail))
    return r, s


def percentile_interval(
    histogram: LatencyHistogram, percentile: float, confidence: float = CONFIDENCE
) -> Interval | None:
    """The interval for `percentile` (0–100) of the latencies in `histogram`, in ms; None when
    the histogram is empty."""
    n = histogram.count
    if n == 0:
        return None
    r, s = quantile_ranks(n, percentile / 100, confidence)
    inside = [rank for rank in (r, s) if 1 <= rank <= n]
    buckets = dict(zip(inside, histogram.rank_buckets_ms(inside), strict=True))
    low = buckets[r][0] if r >= 1 else None
    high = buckets[s][1] if s <= n else None
    return Interval(low, high, IntervalMethod.ORDER_STATISTICS, confidence)


def proportion_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval | None:
    """The Wilson score interval for a proportion `successes`/`n` (0–1); None when n is 0.

    Wilson rather than Clopper–Pearson: Clopper–Pearson guarantees at least the nominal
    coverage, so for the small ratios an SLA is about (0.1 % errors) it holds the truth 97–99 %
    of the time and is wider than the data warrants, which would call checks too close to call
    that are not. Wilson's coverage sits near the nominal level on average (Brown, Cai and
    DasGupta, 2001, recommend it over the exact interval), it never leaves [0, 1], gives a
    non-zero upper end for zero errors (3 errors in 1,000 is not "0.3 % exactly"), and it is
    closed-form. Its known dip below nominal is for n·p of a few units; the simulation test
    measures its coverage where SLAs live.
    """
    if n <= 0:
        return None
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # 0 of n and n of n have an exact end (the formula leaves a rounding error there)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high, IntervalMethod.WILSON, confidence)


def rate_interval(per_second: Sequence[int], confidence: float = CONFIDENCE) -> Interval | None:
    """A t interval for the mean requests per second over a window, from its per-second
    counts (zeros included); None for fewer than two seconds.

    Throughput is judged as requests over the window's seconds, which is the mean of the
    per-second counts, so the interval is the mean's: mean ± t(k−1)·sd/√k over k seconds. It
    treats seconds as independent; a closed model's seconds are correlated (users wait on
    responses), which makes the interval somewhat narrow, not wrong in direction.
    """
    k = len(per_second)
    if k < 2:
        return None
    from scipy.stats import t

    mean = math.fsum(per_second) / k
    variance = math.fsum((count - mean) ** 2 for count in per_second) / (k - 1)
    half = float(t.ppf(0.5 + confidence / 2, k - 1)) * math.sqrt(variance / k)
    return Interval(max(0.0, mean - half), mean + half, IntervalMethod.T_PER_SECOND, confidence)


def mean_interval(histogram: LatencyHistogram, confidence: float = CONFIDENCE) -> Interval | None:
    """A normal interval for the mean latency (ms), mean ± z·sd/√n, from the histogram's
    buckets; None with fewer than two samples. Latencies are skewed, so for a few dozen
    samples the interval is rough; the mean of thousands is close to normal."""
    n = histogram.count
    if n < 2:
        return None
    buckets = histogram.buckets_ms()
    mean = math.fsum(value * count for value, count in buckets) / n
    variance = math.fsum(count * (value - mean) ** 2 for value, count in buckets) / (n - 1)
    half = _z(confidence) * math.sqrt(variance / n)
    measured = histogram.mean_ms or mean
    return Interval(
        max(0.0, measured - half), measured + half, IntervalMethod.NORMAL_MEAN, confidence
    )
