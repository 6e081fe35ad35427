"""A latency distribution as binned values with counts, and the statistics on it.

HDR histograms are exact to their precision, so a distribution here is the list of distinct
recorded (highest-equivalent) values with their counts. Percentiles use the same rule as HDR
(the smallest value whose cumulative count reaches the rank), and significance comes from a
bootstrap that resamples the bins (multinomial), which is exact for binned data and needs no
assumption about the shape of the latency distribution.
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


@dataclass(frozen=True, slots=True)
class ShiftEstimate:
    """How much a percentile moved from a base distribution to a new one."""

    base: float
    """Percentile of the base distribution."""
    new: float
    """Percentile of the new distribution."""
    low: float
    """Lower bound of the one-sided confidence interval of new - base."""
    probability_increase: float
    """Share of bootstrap resamples in which the new percentile exceeded the base one."""

    @property
    def delta(self) -> float:
        return self.new - self.base

    @property
    def relative(self) -> float | None:
        return None if self.base == 0 else self.delta / self.base


def bootstrap_shift(
    base: Distribution,
    new: Distribution,
    q: float,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> ShiftEstimate | None:
    """Bootstrap the increase of the q-th percentile from `base` to `new`; None if either is empty."""
    base_value, new_value = base.percentile(q), new.percentile(q)
    if base_value is None or new_value is None:
        return None
    rng = np.random.default_rng(seed)
    base_draws = _resampled_percentiles(base, q, resamples, rng)
    new_draws = _resampled_percentiles(new, q, resamples, rng)
    shifts = new_draws - base_draws
    return ShiftEstimate(
        base=base_value,
        new=new_value,
        low=float(np.quantile(shifts, 1.0 - confidence)),
        probability_increase=float(np.mean(shifts > 0)),
    )


def _resampled_percentiles(
    dist: Distribution, q: float, resamples: int, rng: np.random.Generator
) -> FloatArray:
    probabilities = dist.counts / dist.total
    rank = max(1, int(np.ceil(q / 100.0 * dist.total)))
    chunks = []
    # Resample in chunks so a histogram with thousands of distinct values stays small in memory.
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        cumulative = np.cumsum(rng.multinomial(dist.total, probabilities, size=size), axis=1)
        chunks.append(dist.values[np.argmax(cumulative >= rank, axis=1)])
    return np.concatenate(chunks)


_CHUNK = 250
