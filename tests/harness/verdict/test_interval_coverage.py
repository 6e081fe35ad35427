"""The verdict's intervals hold the truth as often as they claim: samples from known
distributions, recorded into the engine's own histogram, 1,000 times each.

A 95 % interval should contain the true value in about 95 % of repetitions; 93–97 % leaves
room for the Monte Carlo error of 1,000 repetitions (±1.4 % at two standard errors) and for
the binomial's discreteness. The seed is fixed, so the figures are the same on every run;
`pytest -s` prints them, and each test records them as junit properties.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import optimize, stats

from harness.timeline import LatencyHistogram
from harness.verdict._intervals import percentile_interval, proportion_interval

REPETITIONS = 1000
SAMPLES = 1000
"""Requests per simulated run: a p99 then rests on ranks 984..996, a p50 on 470..531. (The
binomial's steps make a given n's exact coverage 92–97 %; at 1,000 it is 94.6 %, 95.0 % and
94.5 % for p50, p95 and p99, so the test measures the histogram's part, not the steps.)"""
PERCENTILES = (50.0, 95.0, 99.0)
COVERAGE_RANGE = (0.93, 0.97)


@dataclass(frozen=True)
class Distribution:
    """A latency distribution in ms whose quantiles are known exactly."""

    name: str
    draw: Callable[[np.random.Generator, tuple[int, int]], NDArray[np.float64]]
    quantile: Callable[[float], float]


def _bimodal_quantile(q: float) -> float:
    """Quantile of 80 % N(50, 5) ms and 20 % N(500, 50) ms: a fast path and a slow one."""

    def cdf(x: float) -> float:
        return float(0.8 * stats.norm.cdf(x, 50, 5) + 0.2 * stats.norm.cdf(x, 500, 50))

    return float(optimize.brentq(lambda x: cdf(x) - q, 0.0, 2000.0, xtol=1e-9))


def _bimodal(rng: np.random.Generator, shape: tuple[int, int]) -> NDArray[np.float64]:
    slow = rng.random(shape) < 0.2
    return np.where(slow, rng.normal(500, 50, shape), rng.normal(50, 5, shape))


DISTRIBUTIONS = (
    Distribution("uniform", lambda rng, shape: rng.uniform(50, 150, shape), lambda q: 50 + 100 * q),
    Distribution(
        "lognormal",
        lambda rng, shape: rng.lognormal(np.log(100), 0.5, shape),
        lambda q: float(np.exp(np.log(100) + 0.5 * stats.norm.ppf(q))),
    ),
    Distribution("bimodal", _bimodal, _bimodal_quantile),
)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS, ids=lambda d: d.name)
def test_percentile_intervals_hold_the_true_quantile_95_percent_of_the_time(
    distribution: Distribution, record_property: Callable[[str, object], None]
) -> None:
    rng = np.random.default_rng(14)
    samples_us = np.rint(distribution.draw(rng, (REPETITIONS, SAMPLES)) * 1000.0)
    truth_ms = {q: distribution.quantile(q / 100) for q in PERCENTILES}
    held = dict.fromkeys(PERCENTILES, 0)
    for run in samples_us:
        histogram = LatencyHistogram()
        values, counts = np.unique(run, return_counts=True)
        for value_us, count in zip(values.tolist(), counts.tolist(), strict=True):
            histogram.record_us(value_us, count)
        for q in PERCENTILES:
            interval = percentile_interval(histogram, q)
            assert interval is not None
            held[q] += interval.contains(truth_ms[q])
    coverage = {f"p{q:g}": held[q] / REPETITIONS for q in PERCENTILES}
    print(f"\n{distribution.name}, {SAMPLES} samples × {REPETITIONS}: {coverage}")
    record_property(f"coverage_{distribution.name}", coverage)
    for name, share in coverage.items():
        assert COVERAGE_RANGE[0] <= share <= COVERAGE_RANGE[1], (distribution.name, name, share)


@pytest.mark.parametrize(
    ("ratio", "requests"),
    [(0.001, 10_000), (0.01, 2_000), (0.05, 500), (0.2, 200)],
)
def test_proportion_intervals_hold_the_true_ratio_95_percent_of_the_time(
    ratio: float, requests: int, record_property: Callable[[str, object], None]
) -> None:
    rng = np.random.default_rng(14)
    failures = rng.binomial(requests, ratio, REPETITIONS)
    held = 0
    for count in failures.tolist():
        interval = proportion_interval(count, requests)
        assert interval is not None
        held += interval.contains(ratio)
    coverage = held / REPETITIONS
    print(f"\nratio {ratio:g} of {requests:,} requests × {REPETITIONS}: {coverage:.3f}")
    record_property(f"coverage_ratio_{ratio:g}_of_{requests}", coverage)
    assert COVERAGE_RANGE[0] <= coverage <= COVERAGE_RANGE[1]
