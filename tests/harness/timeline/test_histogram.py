"""The two decoders of one histogram format agree: the numpy bulk view (`BucketCounts`) gives
exactly the percentiles of hdrh's `LatencyHistogram` on real encoded histograms."""

from __future__ import annotations

import random

import pytest
from hdrh.histogram import HdrHistogram

from harness.timeline import BucketCounts, LatencyHistogram, merge_encoded

PERCENTILES = [0.0, 1.0, 50.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0]


def _histograms(seed: int, count: int, scale: float) -> list[LatencyHistogram]:
    rng = random.Random(seed)
    parts = []
    for _ in range(count):
        histogram = LatencyHistogram()
        for _ in range(rng.randint(1, 300)):
            histogram.record_ms(rng.lognormvariate(scale, 1.2))
        parts.append(histogram)
    return parts


@pytest.mark.parametrize(("seed", "scale"), [(1, 0.0), (2, 3.0), (3, 6.0), (4, 9.0)])
def test_merged_percentiles_equal_latency_histogram_addition(seed: int, scale: float) -> None:
    parts = _histograms(seed, 6, scale)
    expected = LatencyHistogram()
    for part in parts:
        expected.add(part)
    merged = merge_encoded([part.encode() for part in parts])
    assert merged is not None
    assert merged.total == expected.count
    assert merged.percentiles_ms(PERCENTILES) == [expected.percentile_ms(q) for q in PERCENTILES]
    assert merged.mean_ms() == pytest.approx(expected.mean_ms, rel=1e-9)


@pytest.mark.parametrize(("seed", "scale"), [(5, 0.0), (6, 4.0), (7, 8.0)])
def test_each_encoded_histogram_decodes_to_the_same_figures(seed: int, scale: float) -> None:
    for part in _histograms(seed, 4, scale):
        encoded = part.encode()
        bulk = BucketCounts.decode(encoded)
        exact = LatencyHistogram.decode(encoded)
        assert bulk.total == exact.count
        assert bulk.percentiles_ms(PERCENTILES) == [exact.percentile_ms(q) for q in PERCENTILES]
        assert bulk.mean_ms() == pytest.approx(exact.mean_ms, rel=1e-9)


def test_empty_histogram_has_no_percentiles() -> None:
    empty = BucketCounts.decode(LatencyHistogram().encode())
    assert empty.total == 0
    assert empty.percentiles_ms([50.0, 99.0]) == [None, None]
    assert empty.mean_ms() is None
    assert merge_encoded([]) is None


def test_a_histogram_of_another_layout_is_rebucketed_by_value() -> None:
    ours = LatencyHistogram()
    ours.record_ms(10.0)
    other = HdrHistogram(1, 60_000_000, 2)
    other.record_value(250_000, 3)  # 250 ms, two significant digits
    merged = BucketCounts.decode(ours.encode())
    merged.add(BucketCounts.decode(other.encode().decode("ascii")))
    assert merged.total == 4
    low, high = merged.percentiles_ms([10.0, 100.0])
    assert low == pytest.approx(10.0, rel=1e-3)
    assert high == pytest.approx(250.0, rel=1e-2)


def test_rank_buckets_hold_the_order_statistics() -> None:
    histogram = LatencyHistogram()
    for value_ms in (5.0, 1.0, 250.0, 3.0):
        histogram.record_ms(value_ms)
    ranks = histogram.rank_buckets_ms([1, 2, 4])
    for (low, high), exact in zip(ranks, (1.0, 3.0, 250.0), strict=True):
        assert low <= exact <= high
        assert high - low <= exact * 1e-3
    with pytest.raises(ValueError, match=r"ranks must lie in 1\.\.4"):
        histogram.rank_buckets_ms([5])
