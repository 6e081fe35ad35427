"""An objective as the verdict reads it: every default applied, every limit in canonical units."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from harness.spec._sla_models import Metric
from harness.spec._types import Severity
from harness.spec._units import CanonicalUnit, Limit, RelativeLimit

OPERATION_ALL = "*"
"""The operation name that stands for every request of the run (k6's `http_req_duration`)."""

METRIC_UNITS: dict[Metric, CanonicalUnit] = {
    "latency": "ms",
    "error_rate": "ratio",
    "availability": "ratio",
    "throughput": "rps",
    "cpu": "ratio",
    "memory": "ratio",
    "latency_drift": "ratio_per_h",
    "memory_drift": "mb_per_h",
    "breaking_point": "rps",
    "checks": "ratio",
}
"""The canonical unit every limit of a metric is converted to."""

SERVER_METRICS: frozenset[Metric] = frozenset({"cpu", "memory", "memory_drift"})
"""Metrics measured on the server (Prometheus or /metrics), not on the requests."""

LOAD_SCALED_METRICS: frozenset[Metric] = frozenset({"throughput"})
"""Metrics whose limits follow the profile's load scale."""

_PERCENTILE = re.compile(r"^p\(?(\d+(?:\.\d+)?)\)?$")


def percentile_of(statistic: str) -> float | None:
    """50.0 for "p50", 99.9 for "p99.9" (or k6's "p(99.9)"), None for other statistics."""
    match = _PERCENTILE.match(statistic)
    return float(match[1]) if match else None


CONFIDENCE = 0.95
"""The confidence of every interval the verdict states, and of the sample minimum below."""


def percentile_sample_minimum(percentile: float, confidence: float = CONFIDENCE) -> int:
    """The fewest samples whose interval for the percentile has both ends inside the sample.

    The verdict states a percentile with its distribution-free interval: the order statistics
    whose ranks come from binomial(n, q) (harness/verdict/_intervals.py). With too few
    samples the upper rank falls past the largest sample (for a p99 of 100 requests, the
    chance that all 100 lie below the true p99 is 0.99^100 = 37 %): the figure has no upper
    bound, and a limit could not be judged either way. So the minimum is the smallest n at
    which that chance, max(q, 1 - q)^n, is at most (1 - confidence)/2:
    n >= ln((1 - confidence)/2) / ln(max(q, 1 - q)). At 95 %: p50 needs 6, p90 36, p95 72,
    p99 368, p99.9 3,688. (It replaces 1/(1 - q), which gave a p99 from 100 requests whose
    interval reached past every one of them.)
    """
    q = percentile / 100
    if not 0 < q < 1:
        return 1
    tail = (1 - confidence) / 2
    side = max(q, 1 - q)
    n = max(1, math.ceil(math.log(tail) / math.log(side)))
    # the logarithms round: settle the exact integer on the inequality itself
    while n > 1 and side ** (n - 1) <= tail:
        n -= 1
    while side**n > tail:
        n += 1
    return n


def auto_min_samples(statistic: str) -> int:
    """An objective's sample minimum when it gives none: `percentile_sample_minimum` for a
    percentile, 1 for any other statistic (a mean or ratio has a value from one sample)."""
    percentile = percentile_of(statistic)
    if percentile is None:
        return 1
    return percentile_sample_minimum(percentile)


@dataclass(frozen=True, slots=True)
class Objective:
    """One judged objective of the SLA (or of a scenario), fully resolved."""

    id: str
    """Stable identifier, e.g. "product_search.latency.p95" or "kpi.cpu"."""
    operation: str
    """Operation name (join key with scenarios and timeline); "*" means every request."""
    metric: Metric
    """latency, error_rate, availability, throughput, cpu, memory, latency_drift, ..."""
    statistic: str
    """p50 / p95 / p99.9 (percentiles), mean, min, max, ratio, rate or slope."""
    limit: Limit | None
    """Pass condition in the metric's canonical unit; None for a purely relative objective."""
    warn: Limit | None
    """Looser bound: between `limit` and `warn` is a warning, beyond `warn` a failure."""
    window_s: float | None
    """Length of each judged window; None means one value over the whole scope."""
    windows_required: float
    """Fraction (0-1) of windows that must pass; 1.0 means every window."""
    scope: str
    """"run" (whole run after warm-up) or the name of the stage the objective is judged in."""
    severity: Severity
    """critical, high, medium or low; selects the incident-response actions."""
    optional: bool
    """An optional objective may name an operation the scenario never produces."""
    min_samples: int
    """Fewer samples than this in the scope (or a window) makes the check no_data."""
    abort_after_s: float | None
    """Failing (beyond `warn` if set, else `limit`) this long stops the run; None: never."""
    baseline: RelativeLimit | None
    """Allowed change against a baseline run (judged by `evaluate --baseline`)."""
    baseline_warn: RelativeLimit | None
    """Looser change against the baseline that is only a warning."""
    query: str | None
    """PromQL for server-side metrics; None means perfctl's default for the metric."""
    scenarios: tuple[str, ...]
    """Scenarios this objective applies to; empty means every scenario."""
    title: str
    """Human label, e.g. "Product Search p95" (the SLA table's wording)."""
    description: str
    """Why the objective exists, from the file."""
    source: str
    """Where it was declared: "sla.yaml:42"."""
    scope_written: bool = True
    """Whether `scope` was written in the file; False for the stage a table implies (a
    component's peak and burst figures are judged in the stages `peak` and `spike`), which
    may be a stage no scenario has (then the figure is out of scope, not a typo)."""

    @property
    def unit(self) -> CanonicalUnit:
        """Canonical unit of measured values and limits."""
        return METRIC_UNITS[self.metric]

    @property
    def percentile(self) -> float | None:
        """The percentile for p-statistics (95.0 for p95), else None."""
        return percentile_of(self.statistic)

    @property
    def server_side(self) -> bool:
        """True for metrics read from the server rather than from the requests."""
        return self.metric in SERVER_METRICS

    @property
    def scales_with_load(self) -> bool:
        """True when the limit follows the profile's load scale (throughput)."""
        return self.metric in LOAD_SCALED_METRICS

    def applies_to(self, scenario: str) -> bool:
        """Whether this objective is judged in runs of `scenario`."""
        return not self.scenarios or scenario in self.scenarios

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (a plan carries a scenario's own objectives this way)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Objective:
        """The objective `to_dict` wrote, also after a JSON round trip."""

        def limit(value: dict[str, Any] | None) -> Limit | None:
            return Limit(**value) if value is not None else None

        def relative(value: dict[str, Any] | None) -> RelativeLimit | None:
            return RelativeLimit(**value) if value is not None else None

        return cls(
            **{
                **data,
                "limit": limit(data["limit"]),
                "warn": limit(data["warn"]),
                "baseline": relative(data["baseline"]),
                "baseline_warn": relative(data["baseline_warn"]),
                "scenarios": tuple(data["scenarios"]),
            }
        )
