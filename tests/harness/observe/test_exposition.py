"""Reading the Prometheus text format: sums over labels, counter increases, histogram
quantiles with Prometheus's interpolation."""

from __future__ import annotations

import math

import pytest

from harness.observe._exposition import histogram_quantile, increase, parse_exposition

TEXT = """# HELP cache_requests_total Cache look-ups.
# TYPE cache_requests_total counter
cache_requests_total{cache_type="product",result="hit"} 30.0
cache_requests_total{cache_type="product",result="miss"} 10.0
cache_requests_total{cache_type="search",result="miss"} 5.0
# TYPE process_cpu_seconds_total gauge
process_cpu_seconds_total 12.5
# TYPE lat_seconds histogram
lat_seconds_bucket{route="/a",le="0.1"} 8.0
lat_seconds_bucket{route="/a",le="0.2"} 10.0
lat_seconds_bucket{route="/a",le="+Inf"} 10.0
lat_seconds_count{route="/a"} 10.0
lat_seconds_sum{route="/a"} 0.9
"""


def test_samples_are_summed_and_grouped_by_label() -> None:
    snapshot = parse_exposition(TEXT, t=100.0)
    assert snapshot.t == 100.0
    assert snapshot.total("process_cpu_seconds_total") == 12.5
    assert snapshot.total("cache_requests_total") == 45.0
    assert snapshot.total("absent") is None
    hits = snapshot.by(
        "cache_requests_total", "cache_type", lambda labels: labels["result"] == "hit"
    )
    assert hits == {"product": 30.0}
    assert snapshot.by("cache_requests_total", "cache_type") == {"product": 40.0, "search": 5.0}
    assert snapshot.buckets("lat_seconds", "route") == {"/a": {0.1: 8.0, 0.2: 10.0, math.inf: 10.0}}


def test_text_that_is_not_an_exposition_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"(?i)invalid"):
        parse_exposition("<html>not metrics</html>\n", t=0.0)


@pytest.mark.parametrize(
    ("before", "after", "grown"),
    [(10.0, 15.0, 5.0), (10.0, 10.0, 0.0), (10.0, 3.0, 3.0), (None, 3.0, None), (1.0, None, None)],
)
def test_a_counter_that_went_down_restarted_from_zero(
    before: float | None, after: float | None, grown: float | None
) -> None:
    assert increase(before, after) == grown


INF = math.inf


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.5, {0.1: 50.0, 0.2: 100.0, INF: 100.0}, 0.1),  # rank 50 at the top of the first bucket
        (0.95, {0.1: 50.0, 0.2: 100.0, INF: 100.0}, 0.19),  # 45 of 50 into (0.1, 0.2]
        (0.95, {0.1: 0.0, 0.2: 100.0, INF: 100.0}, 0.195),
        (0.5, {0.1: 10.0, INF: 10.0}, 0.05),  # interpolated from 0 in the first bucket
        (0.99, {0.1: 90.0, 0.2: 90.0, INF: 100.0}, 0.2),  # in +Inf: the highest finite bound
        (0.95, {0.1: 0.0, INF: 0.0}, None),  # no observations
        (0.95, {0.1: 5.0}, None),  # no +Inf bucket: not a histogram
    ],
)
def test_histogram_quantile_interpolates_like_prometheus(
    q: float, buckets: dict[float, float], expected: float | None
) -> None:
    got = histogram_quantile(q, buckets)
    assert got == (pytest.approx(expected) if expected is not None else None)
