"""HDR histograms as numpy count arrays: fast merging and percentiles for display.

The timeline stores one encoded HDR histogram per (second, operation). A one-hour run holds
tens of thousands; adding them through `LatencyHistogram` and asking percentiles bucket by
bucket in Python is too slow for a report that draws hundreds of points per operation. Here
each histogram is decoded once into its count array (the standard V2 encoding, read by
`hdrh`), arrays are added with numpy, and percentiles follow HDR's own rule (the first
bucket whose running count reaches `round(q × total)`, reported at its highest equivalent
value), so the figures agree with the verdict's numbers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from hdrh.codec import HdrHistogramEncoder
from hdrh.histogram import HdrHistogram

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray


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


class Counts:
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
    def decode(cls, encoded: str) -> Counts:
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
    def empty_like(cls, other: Counts) -> Counts:
        import numpy as np

        return cls(other.layout, np.zeros(other.layout.counts_len, dtype=np.uint64), 0, -1)

    def add(self, other: Counts) -> None:
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


def merge(encoded: Sequence[str]) -> Counts | None:
    """The sum of encoded histograms, None when there are none."""
    merged: Counts | None = None
    for text in encoded:
        part = Counts.decode(text)
        if merged is None:
            merged = part
        else:
            merged.add(part)
    return merged
