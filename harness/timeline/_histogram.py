"""A latency histogram: HDR, microsecond units, 3 significant digits, exact addition."""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

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
