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


class Counts:
    """One histogram (or the sum of several) as a count array with its layout."""

    __slots__ = ("array", "layout")

    def __init__(self, layout: Layout, array: NDArray[np.uint64]) -> None:
        self.layout = layout
        self.array = array

    @classmethod
    def decode(cls, encoded: str) -> Counts:
        """The count array of one encoded histogram (base64 V2, as the timeline stores it)."""
        import numpy as np

        hdr = HdrHistogram.decode(encoded.encode("ascii"))
        layout = Layout(hdr.counts_len, hdr.unit_magnitude, hdr.sub_bucket_half_count_magnitude)
        return cls(layout, np.frombuffer(hdr.counts, dtype=np.uint64).copy())

    @classmethod
    def empty_like(cls, other: Counts) -> Counts:
        import numpy as np

        return cls(other.layout, np.zeros_like(other.array))

    def add(self, other: Counts) -> None:
        """Adds `other` into this array; histograms with another layout are rebucketed."""
        if other.layout == self.layout:
            self.array += other.array
            return
        import numpy as np

        # A different layout (another precision or range): record each bucket's value anew.
        values = _highest_values_us(other.layout)
        nonzero = np.nonzero(other.array)[0]
        ours = _highest_values_us(self.layout)
        positions = np.searchsorted(ours, values[nonzero], side="left")
        positions = np.minimum(positions, len(ours) - 1)
        np.add.at(self.array, positions, other.array[nonzero])

    @property
    def total(self) -> int:
        return int(self.array.sum())

    def percentiles_ms(self, percentiles: Sequence[float]) -> list[float | None]:
        """The latency at each percentile (0-100) in ms; None for every one when empty."""
        import numpy as np

        cumulative = np.cumsum(self.array, dtype=np.uint64)
        total = int(cumulative[-1]) if len(cumulative) else 0
        if total == 0:
            return [None] * len(percentiles)
        targets = np.array(
            [max(int(min(q, 100.0) * total / 100.0 + 0.5), 1) for q in percentiles],
            dtype=np.uint64,
        )
        positions = np.searchsorted(cumulative, targets, side="left")
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
