"""Latency histograms: HDR, microsecond units, 3 significant digits; two decoders of one format.

`LatencyHistogram` (hdrh) is what the engine records into and the verdict reads: exact
addition, percentiles, the standard V2 encoding the timeline stores.

`BucketCounts` reads the same encoding into a numpy count array, for bulk work. A one-hour
timeline holds tens of thousands of histograms; adding them through `LatencyHistogram` and
asking percentiles bucket by bucket in Python is too slow for a report that draws hundreds of
points per operation. Each histogram is decoded once (hdrh's codec), arrays are added with
numpy, and percentiles follow HDR's own rule (the first bucket whose running count reaches
`round(q x total)`, reported at its highest equivalent value), so both decoders give the same
numbers (tests/harness/timeline/test_histogram.py pins them equal).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from hdrh.codec import HdrHistogramEncoder
from hdrh.histogram import HdrHistogram

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

LOWEST_US = 1
"""Smallest distinguishable latency: one microsecond."""
HIGHEST_US = 3_600_000_000
"""Largest trackable latency: one hour; larger values are recorded as one hour."""
SIGNIFICANT_DIGITS = 3
"""Every recorded value keeps 3 significant digits (relative error at most 0.1 %)."""


class LatencyHistogram:
    """Latencies in microseconds with 3 significant digits; adding two is exact."""

    __slots__ = ("_hdr",)

    def __init__(self, hdr: HdrHistogram | None = None) -> None:
        self._hdr = (
            hdr if hdr is not None else HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        )
        # hdrh's histogram and its encoder point at each other; such a cycle is freed only by
        # the cycle collector, late, so ~190 kB counts arrays piled up between collections
        # (the master's memory crept up with run length). A weak back-reference breaks it.
        self._hdr.encoder.histogram = weakref.proxy(self._hdr)

    def record_us(self, value_us: float, count: int = 1) -> None:
        """Records one latency (or `count` equal ones), clamped to the trackable range."""
        clamped = min(max(round(value_us), 0), HIGHEST_US)
        self._hdr.record_value(clamped, count)

    def record_ms(self, value_ms: float, count: int = 1) -> None:
        """Records a latency given in milliseconds."""
        self.record_us(value_ms * 1000.0, count)

    def add(self, other: LatencyHistogram) -> None:
        """Adds every count of `other` into this histogram (exact: bucket by bucket)."""
        if other.count:
            self._hdr.add(other._hdr)

    @property
    def count(self) -> int:
        """Number of recorded latencies."""
        return int(self._hdr.get_total_count())

    def percentile_ms(self, percentile: float) -> float | None:
        """The latency at `percentile` (0-100) in ms, None when nothing was recorded.

        As HDR reports it: the value at rank round(p/100 x count) (at least the first), given
        as the highest value equivalent to its bucket, so the answer is never below the true
        sample and at most 0.1 % above it.
        """
        return self.percentiles_ms([percentile])[percentile]

    def percentiles_ms(self, percentiles: Iterable[float]) -> dict[float, float | None]:
        """Several percentiles from one cumulative sum over the buckets (HDR's rule, computed
        with numpy: the pure-Python walk over 23,552 buckets costs ~0.5 ms a percentile)."""
        import numpy

        wanted = list(percentiles)
        total = self.count
        if not total:
            return dict.fromkeys(wanted)
        counts = numpy.frombuffer(self._hdr.counts, dtype=numpy.uint64)
        length = min(len(counts), int(self._hdr.encoder.payload.counts_len))
        cumulative = numpy.cumsum(counts[:length])
        result: dict[float, float | None] = {}
        for percentile in wanted:
            rank = max(int(min(percentile, 100.0) * total / 100.0 + 0.5), 1)
            index = int(numpy.searchsorted(cumulative, rank, side="left"))
            value = self._hdr.get_value_from_index(min(index, length - 1))
            edge = (
                self._hdr.get_highest_equivalent_value(value)
                if percentile
                else self._hdr.get_lowest_equivalent_value(value)
            )
            result[percentile] = float(edge) / 1000.0
        return result

    def rank_buckets_ms(self, ranks: Sequence[int]) -> list[tuple[float, float]]:
        """The bucket (lowest and highest equivalent value, ms) holding each 1-based rank of
        the recorded latencies in ascending order: the order statistics at HDR precision.

        The verdict's percentile intervals read their ends here: the lower end at its
        bucket's lowest value and the upper end at its highest, so the rounding to 3
        significant digits never narrows an interval. A rank outside 1..count is ValueError.
        """
        import numpy

        total = self.count
        if any(not 1 <= rank <= total for rank in ranks):
            raise ValueError(f"ranks must lie in 1..{total}, got {list(ranks)}")
        counts = numpy.frombuffer(self._hdr.counts, dtype=numpy.uint64)
        length = min(len(counts), int(self._hdr.encoder.payload.counts_len))
        cumulative = numpy.cumsum(counts[:length])
        hdr = self._hdr
        found = []
        for rank in ranks:
            index = int(numpy.searchsorted(cumulative, rank, side="left"))
            value = hdr.get_value_from_index(index)
            found.append(
                (
                    float(hdr.get_lowest_equivalent_value(value)) / 1000.0,
                    float(hdr.get_highest_equivalent_value(value)) / 1000.0,
                )
            )
        return found

    @property
    def max_ms(self) -> float | None:
        """Largest recorded latency (bucket upper bound) in ms."""
        return float(self._hdr.get_max_value()) / 1000.0 if self.count else None

    @property
    def min_ms(self) -> float | None:
        """Smallest recorded latency (bucket lower bound) in ms."""
        return float(self._hdr.get_min_value()) / 1000.0 if self.count else None

    @property
    def mean_ms(self) -> float | None:
        """Mean latency in ms, at bucket precision."""
        return float(self._hdr.get_mean_value()) / 1000.0 if self.count else None

    def buckets_ms(self) -> list[tuple[float, int]]:
        """(bucket value in ms, count) for every non-empty bucket, ascending.

        The value is the highest equivalent to the bucket, as HDR's recorded iterator gives
        it; the non-empty buckets are found with numpy (hdrh's pure-Python iterator walks
        every bucket up to the largest value, ~0.4 s for one histogram).
        """
        import numpy

        if not self.count:
            return []
        counts = numpy.frombuffer(self._hdr.counts, dtype=numpy.uint64)
        length = min(len(counts), int(self._hdr.encoder.payload.counts_len))
        hdr = self._hdr
        return [
            (
                float(hdr.get_highest_equivalent_value(hdr.get_value_from_index(int(index))))
                / 1000.0,
                int(counts[index]),
            )
            for index in numpy.flatnonzero(counts[:length])
        ]

    def encode(self) -> str:
        """The standard HDR V2 compressed form, base64 (readable by every HDR library)."""
        encoded = self._hdr.encode()
        return encoded.decode("ascii") if isinstance(encoded, bytes) else str(encoded)

    @classmethod
    def decode(cls, encoded: str) -> LatencyHistogram:
        """Reads back the output of `encode` (ValueError for anything else)."""
        try:
            return cls(HdrHistogram.decode(encoded.encode("ascii")))
        except ValueError:
            raise
        except Exception as error:  # hdrh's cookie/length errors, zlib.error
            raise ValueError(f"not an HDR histogram: {type(error).__name__} {error}") from error

    def copy(self) -> LatencyHistogram:
        """An independent histogram with the same counts."""
        duplicate = LatencyHistogram()
        duplicate.add(self)
        return duplicate


class Layout(NamedTuple):
    """What fixes the meaning of a count array's indexes."""

    counts_len: int
    unit_magnitude: int
    sub_bucket_half_count_magnitude: int


@lru_cache(maxsize=8)
def _highest_values_us(layout: Layout) -> NDArray[np.float64]:
    """The highest value equivalent to each index of a count array, in microseconds."""
    return _lowest_values_us(layout) + _sizes_us(layout) - 1.0


@lru_cache(maxsize=8)
def _sizes_us(layout: Layout) -> NDArray[np.float64]:
    """The width of each index's bucket, in microseconds."""
    import numpy as np

    index = np.arange(layout.counts_len, dtype=np.int64)
    bucket = np.maximum((index >> layout.sub_bucket_half_count_magnitude) - 1, 0)
    sizes: NDArray[np.float64] = np.left_shift(1, bucket + layout.unit_magnitude).astype(np.float64)
    return sizes


@lru_cache(maxsize=8)
def _lowest_values_us(layout: Layout) -> NDArray[np.float64]:
    """The lowest value equivalent to each index of a count array, in microseconds."""
    import numpy as np

    index = np.arange(layout.counts_len, dtype=np.int64)
    half_magnitude = layout.sub_bucket_half_count_magnitude
    half = 1 << half_magnitude
    bucket = (index >> half_magnitude) - 1
    sub_bucket = (index & (half - 1)) + half
    first = bucket < 0
    sub_bucket = np.where(first, sub_bucket - half, sub_bucket)
    bucket = np.where(first, 0, bucket)
    return (sub_bucket << (bucket + layout.unit_magnitude)).astype(np.float64)


@lru_cache(maxsize=8)
def _layout(lowest_us: int, highest_us: int, digits: int) -> Layout:
    """The count-array layout HDR uses for a trackable range and a precision."""
    hdr = HdrHistogram(lowest_us, highest_us, digits)
    return Layout(hdr.counts_len, hdr.unit_magnitude, hdr.sub_bucket_half_count_magnitude)


class BucketCounts:
    """One histogram (or the sum of several) as a count array with its layout.

    `low`..`high` bounds the indexes that may hold counts, so adding a one-second histogram
    touches only its few non-empty buckets, not the whole array.
    """

    __slots__ = ("array", "high", "layout", "low")

    def __init__(
        self, layout: Layout, array: NDArray[np.uint64], low: int = 0, high: int | None = None
    ) -> None:
        self.layout = layout
        self.array = array
        self.low = low
        self.high = len(array) - 1 if high is None else high

    @classmethod
    def decode(cls, encoded: str) -> BucketCounts:
        """The count array of one encoded histogram (base64 V2, as the timeline stores it)."""
        import numpy as np

        payload = HdrHistogramEncoder.decode(encoded.encode("ascii"))
        header = payload.payload
        layout = _layout(
            header.lowest_trackable_value,
            header.highest_trackable_value,
            header.significant_figures,
        )
        found = payload.init_counts(layout.counts_len)
        # the array shares the decoded payload's memory (kept alive by the array)
        array = np.frombuffer(payload.counts, dtype=np.uint64)
        if not found["total"]:
            return cls(layout, array, len(array), -1)
        return cls(layout, array, found["min_nonzero_index"], found["max_nonzero_index"])

    @classmethod
    def empty_like(cls, other: BucketCounts) -> BucketCounts:
        """An empty array of `other`'s layout (to add histograms into)."""
        import numpy as np

        return cls(other.layout, np.zeros(other.layout.counts_len, dtype=np.uint64), 0, -1)

    def add(self, other: BucketCounts) -> None:
        """Adds `other` into this array; histograms with another layout are rebucketed."""
        if other.high < other.low:
            return
        if other.layout == self.layout:
            window = slice(other.low, other.high + 1)
            self.array[window] += other.array[window]
            self.low, self.high = min(self.low, other.low), max(self.high, other.high)
            return
        import numpy as np

        # A different layout (another precision or range): record each bucket's value anew.
        values = _highest_values_us(other.layout)
        nonzero = np.nonzero(other.array)[0]
        ours = _highest_values_us(self.layout)
        positions = np.searchsorted(ours, values[nonzero], side="left")
        positions = np.minimum(positions, len(ours) - 1)
        np.add.at(self.array, positions, other.array[nonzero])
        self.low = min(self.low, int(positions.min()))
        self.high = max(self.high, int(positions.max()))

    @property
    def total(self) -> int:
        """Number of recorded latencies."""
        if self.high < self.low:
            return 0
        return int(self.array[self.low : self.high + 1].sum())

    def percentiles_ms(self, percentiles: Sequence[float]) -> list[float | None]:
        """The latency at each percentile (0-100) in ms; None for every one when empty."""
        import numpy as np

        if self.high < self.low:
            return [None] * len(percentiles)
        cumulative = np.cumsum(self.array[self.low : self.high + 1], dtype=np.uint64)
        total = int(cumulative[-1])
        if total == 0:
            return [None] * len(percentiles)
        targets = np.array(
            [max(int(min(q, 100.0) * total / 100.0 + 0.5), 1) for q in percentiles],
            dtype=np.uint64,
        )
        positions = np.searchsorted(cumulative, targets, side="left") + self.low
        highest = _highest_values_us(self.layout)[positions]
        # HDR reports percentile 0 at the lowest value of its bucket, every other at the highest
        lowest = _lowest_values_us(self.layout)[positions]
        return [
            float(low if q == 0 else high) / 1000.0
            for q, low, high in zip(percentiles, lowest, highest, strict=True)
        ]

    def mean_ms(self) -> float | None:
        """Mean latency at bucket precision, in ms."""
        import numpy as np

        total = self.total
        if total == 0:
            return None
        # HDR's mean: each bucket counts at its median equivalent value
        values = _lowest_values_us(self.layout) + np.floor(_sizes_us(self.layout) / 2)
        return float(np.dot(self.array.astype(np.float64), values) / total / 1000.0)


def merge_encoded(encoded: Sequence[str]) -> BucketCounts | None:
    """The sum of encoded histograms, None when there are none."""
    merged: BucketCounts | None = None
    for text in encoded:
        part = BucketCounts.decode(text)
        if merged is None:
            merged = part
        else:
            merged.add(part)
    return merged
