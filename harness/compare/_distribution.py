"""A latency distribution as binned values with counts, and the statistics on it.

HDR histograms are exact to their precision, so a distribution here is the list of distinct
recorded (highest-equivalent) values with their counts. Percentiles take the smallest value
whose cumulative count reaches the rank ceil(q/100 x n). `perfctl compare` cuts a run into
windows of these (see `harness.compare._changes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Distribution:
    """Distinct values (ascending) and how many samples fell on each."""

    values: FloatArray
    """Distinct sample values, ascending."""
    counts: IntArray
    """Samples per value."""

    @classmethod
    def from_pairs(cls, pairs: list[tuple[float, int]]) -> Distribution:
        merged: dict[float, int] = {}
        for value, count in pairs:
            if count > 0:
                merged[value] = merged.get(value, 0) + count
        ordered = sorted(merged.items())
        return cls(
            values=np.array([value for value, _ in ordered], dtype=np.float64),
            counts=np.array([count for _, count in ordered], dtype=np.int64),
        )

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def percentile(self, q: float) -> float | None:
        """The q-th percentile (0 < q <= 100) by HDR's rule; None when empty."""
        return _percentile(self.values, self.counts, q)


def _percentile(values: FloatArray, counts: IntArray, q: float) -> float | None:
    total = int(counts.sum())
    if total == 0:
        return None
    rank = max(1, int(np.ceil(q / 100.0 * total)))
    index = int(np.searchsorted(np.cumsum(counts), rank))
    return float(values[min(index, len(values) - 1)])
