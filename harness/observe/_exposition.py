"""One read of a Prometheus text exposition, flattened into samples that can be summed.

`prometheus_client.parser` turns the text into metric families; a `Snapshot` keeps every
sample with its name, labels and value, each family's `# TYPE` (counter, gauge, histogram,
...), and the moment it was read, so two snapshots give
rates (counter increase / elapsed time) and histogram quantiles over the interval between
them, the way Prometheus's `rate()` and `histogram_quantile()` do over a range.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

LabelFilter = Callable[[Mapping[str, str]], bool]


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample line: `name{labels} value`."""

    name: str
    """Sample name as exposed, suffix included (`tickets_sold_total`, `..._bucket`)."""
    labels: dict[str, str]
    """Its labels (`le` for histogram buckets)."""
    value: float
    """Its value."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every sample of one scrape and when it was taken."""

    t: float
    """Unix time of the scrape."""
    samples: tuple[Sample, ...]
    """Samples in exposition order."""
    kinds: Mapping[str, str] = field(default_factory=dict)
    """Family name -> its `# TYPE` ("counter", "gauge", "histogram", "summary", "unknown"...),
    in exposition order. A counter's family name is without `_total` (prometheus_client's
    parser strips it; its samples are `<family>_total`)."""

    def has(self, name: str) -> bool:
        return any(sample.name == name for sample in self.samples)

    def total(self, name: str, where: LabelFilter | None = None) -> float | None:
        """Sum of every sample called `name` (whose labels pass `where`); None if none."""
        values = [
            sample.value
            for sample in self.samples
            if sample.name == name and (where is None or where(sample.labels))
        ]
        return math.fsum(values) if values else None

    def by(self, name: str, label: str, where: LabelFilter | None = None) -> dict[str, float]:
        """Samples called `name` summed per value of `label`."""
        sums: dict[str, float] = defaultdict(float)
        for sample in self.samples:
            if sample.name != name or label not in sample.labels:
                continue
            if where is None or where(sample.labels):
                sums[sample.labels[label]] += sample.value
        return dict(sums)

    def buckets(self, name: str, label: str) -> dict[str, dict[float, float]]:
        """Histogram `name`'s cumulative bucket counts per value of `label`: {le: count}."""
        grouped: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
        for sample in self.samples:
            if sample.name == f"{name}_bucket" and label in sample.labels:
                bound = float(sample.labels["le"])
                grouped[sample.labels[label]][bound] += sample.value
        return {key: dict(value) for key, value in grouped.items()}


def parse_exposition(text: str, t: float) -> Snapshot:
    """The samples of a text exposition read at `t`; ValueError when it is not one."""
    from prometheus_client.parser import text_string_to_metric_families

    samples: list[Sample] = []
    kinds: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        kinds.setdefault(family.name, family.type)
        samples += (
            Sample(sample.name, dict(sample.labels), float(sample.value))
            for sample in family.samples
        )
    return Snapshot(t, tuple(samples), kinds)


def increase(before: float | None, after: float | None) -> float | None:
    """How much a counter grew; a counter that went down restarted from 0 (a process restart)."""
    if before is None or after is None:
        return None
    return after - before if after >= before else after


def histogram_quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """The q-quantile (0-1) of a histogram from its cumulative bucket counts {le: count}.

    Linear interpolation inside the bucket holding the rank, as Prometheus does; a rank in
    the +Inf bucket gives the highest finite bound. None for an empty histogram.
    """
    bounds = sorted(cumulative)
    if not bounds or not math.isinf(bounds[-1]):
        return None
    total = cumulative[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound
