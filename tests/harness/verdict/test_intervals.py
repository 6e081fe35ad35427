"""The interval math: ranks from the binomial, Wilson's interval, the t interval of a rate, and
the rule that calls a check too close to call."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from scipy.stats import binom

from harness.spec import Limit, percentile_sample_minimum
from harness.timeline import LatencyHistogram
from harness.verdict._intervals import (
    Interval,
    IntervalMethod,
    mean_interval,
    percentile_interval,
    proportion_interval,
    quantile_ranks,
    rate_interval,
)
from harness.verdict._judge import call, plausible_grades


@pytest.mark.parametrize(("n", "q"), [(1000, 0.5), (1000, 0.95), (1000, 0.99), (72, 0.95)])
def test_ranks_bracket_the_quantile_with_about_the_stated_probability(n: int, q: float) -> None:
    r, s = quantile_ranks(n, q)
    assert 1 <= r < s <= n
    coverage = binom.cdf(s - 1, n, q) - binom.cdf(r - 1, n, q)  # P(r <= B < s)
    assert 0.93 <= coverage <= 0.97
    # each tail is the one nearest 2.5 %: moving a rank outward or inward is no nearer
    below = binom.cdf(r - 1, n, q)
    assert abs(below - 0.025) <= min(
        abs(binom.cdf(r - 2, n, q) - 0.025), abs(binom.cdf(r, n, q) - 0.025)
    )


def test_the_sample_minimum_is_where_both_ends_of_the_interval_exist() -> None:
    for percentile in (50.0, 90.0, 95.0, 99.0):
        n = percentile_sample_minimum(percentile)
        r, s = quantile_ranks(n, percentile / 100)
        assert r >= 1, (percentile, n, r)
        assert s <= n, (percentile, n, s)
    # the old rule, 1/(1-q): a p99 from 100 requests has no upper end
    assert quantile_ranks(100, 0.99)[1] == 101
    assert (percentile_sample_minimum(95.0), percentile_sample_minimum(99.0)) == (72, 368)


def test_a_percentile_interval_reads_the_order_statistics_from_the_histogram() -> None:
    histogram = LatencyHistogram()
    for value_ms in range(1, 1001):  # the k-th smallest sample is k ms
        histogram.record_ms(float(value_ms))
    interval = percentile_interval(histogram, 95.0)
    assert interval is not None
    r, s = quantile_ranks(1000, 0.95)
    assert interval.method is IntervalMethod.ORDER_STATISTICS
    # the lower end at its bucket's lowest value, the upper at its highest: never narrower
    assert interval.low == pytest.approx(r, rel=1e-3)
    assert interval.high == pytest.approx(s, rel=1e-3)
    assert interval.low <= r
    assert interval.high >= s
    assert interval.low is not None
    assert interval.high is not None
    assert interval.low <= (histogram.percentile_ms(95.0) or 0) <= interval.high


def test_too_few_samples_leave_the_upper_end_open_and_none_leave_no_interval() -> None:
    histogram = LatencyHistogram()
    for value_ms in range(1, 51):
        histogram.record_ms(float(value_ms))
    interval = percentile_interval(histogram, 99.0)
    assert interval is not None
    assert interval.high is None
    assert interval.contains(1e9)
    assert percentile_interval(LatencyHistogram(), 95.0) is None


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (10, 100, 0.0552, 0.1744),  # textbook Wilson values
        (0, 100, 0.0, 0.0370),  # no error is not "exactly 0 %"
        (100, 100, 0.9630, 1.0),
        (1, 1000, 0.00018, 0.00565),
    ],
)
def test_wilson_interval(successes: int, n: int, low: float, high: float) -> None:
    interval = proportion_interval(successes, n)
    assert interval is not None
    assert interval.method is IntervalMethod.WILSON
    assert interval.low == pytest.approx(low, abs=2e-4)
    assert interval.high == pytest.approx(high, abs=2e-4)
    assert proportion_interval(0, 0) is None


def test_rate_interval_is_the_t_interval_of_the_per_second_counts() -> None:
    steady = rate_interval([10] * 30)
    assert steady is not None
    assert (steady.low, steady.high) == (10.0, 10.0)
    varied = rate_interval([8, 12] * 15)  # mean 10, sd 2.034, t(29) 2.045: ±0.760
    assert varied is not None
    assert varied.low == pytest.approx(9.240, abs=1e-3)
    assert varied.high == pytest.approx(10.760, abs=1e-3)
    assert rate_interval([10]) is None


def test_mean_interval_narrows_with_the_square_root_of_the_samples() -> None:
    small, large = LatencyHistogram(), LatencyHistogram()
    for value_ms in (100.0, 200.0) * 50:
        small.record_ms(value_ms)
    for value_ms in (100.0, 200.0) * 5000:
        large.record_ms(value_ms)
    few, many = mean_interval(small), mean_interval(large)
    assert few is not None
    assert many is not None
    assert few.low is not None
    assert few.high is not None
    assert many.low is not None
    assert many.high is not None
    assert (few.high - few.low) / (many.high - many.low) == pytest.approx(10.0, rel=0.02)


_BELOW_300 = Limit("<", 300.0, "ms", "< 300 ms")
_ALERT_400 = Limit("<=", 400.0, "ms", "<= 400 ms")
_AT_LEAST_99 = Limit(">=", 0.99, "ratio", ">= 99 %")


def _interval(low: float | None, high: float | None) -> Interval:
    return Interval(low, high, IntervalMethod.ORDER_STATISTICS)


@pytest.mark.parametrize(
    ("value", "low", "high", "limit", "warn", "status"),
    [
        (250.0, 240.0, 260.0, _BELOW_300, None, "pass"),
        (
            290.0,
            280.0,
            310.0,
            _BELOW_300,
            None,
            "marginal",
        ),  # the value passes, the interval straddles
        (
            305.0,
            295.0,
            315.0,
            _BELOW_300,
            None,
            "marginal",
        ),  # the value fails, the interval straddles
        (330.0, 320.0, 340.0, _BELOW_300, None, "fail"),
        (
            290.0,
            280.0,
            None,
            _BELOW_300,
            None,
            "marginal",
        ),  # no upper end: cannot rule a breach out
        (350.0, 320.0, 380.0, _BELOW_300, _ALERT_400, "warn"),
        (395.0, 380.0, 420.0, _BELOW_300, _ALERT_400, "warn"),  # straddles the alert threshold only
        (350.0, 290.0, 410.0, _BELOW_300, _ALERT_400, "marginal"),
        (0.995, 0.985, 0.999, _AT_LEAST_99, None, "marginal"),  # a lower limit: the low end decides
        (0.998, 0.995, 0.999, _AT_LEAST_99, None, "pass"),
    ],
)
def test_a_check_whose_interval_straddles_its_limit_is_marginal(
    value: float, low: float, high: float | None, limit: Limit, warn: Limit | None, status: str
) -> None:
    assert call([(value, _interval(low, high))], limit, warn, 1.0) == status


def test_without_an_interval_the_value_alone_decides() -> None:
    assert plausible_grades(299.0, None, _BELOW_300, None) == ("pass", "pass")
    assert call([(301.0, None)], _BELOW_300, None, 1.0) == "fail"


def test_windows_are_marginal_only_when_the_required_share_could_go_either_way() -> None:
    sure = (250.0, _interval(240.0, 260.0))
    close = (290.0, _interval(280.0, 310.0))
    broken = (330.0, _interval(320.0, 340.0))
    assert call([sure, sure, close, broken], _BELOW_300, None, 2.0) == "pass"  # 2 sure passes
    assert call([sure, close, broken, broken], _BELOW_300, None, 2.0) == "marginal"
    assert call([sure, broken, broken, broken], _BELOW_300, None, 2.0) == "fail"


def test_the_schema_names_every_interval_method() -> None:
    schema = json.loads(
        (resources.files("harness.verdict") / "schemas" / "verdict.schema.json").read_text()
    )
    methods = schema["$defs"]["check"]["properties"]["ci_method"]["enum"]
    assert set(methods) == {method.value for method in IntervalMethod} | {None}
