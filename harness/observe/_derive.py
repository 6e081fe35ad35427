"""Two consecutive scrapes of the target's /metrics → the server-side points.

Gauges (memory, DB pool, breakers) are read from the latest scrape; everything that is a
counter in the exposition (CPU seconds, requests, cache look-ups) becomes a rate over the
interval between the two scrapes, and the latency histogram's bucket increases give p95 per
route, the same arithmetic as Prometheus's `rate()` and `histogram_quantile()`. The
canonical metrics read conventional family names (the process ones are prometheus_client's
standard process metrics); every other counter or gauge the target exposes is its own and
is kept as `<counter>_per_s` or the gauge's name, summed over labels (`_discovery.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.observe._discovery import Discovery
from harness.observe._exposition import LabelFilter, Snapshot, histogram_quantile, increase
from harness.observe._resources import Resources
from harness.observe._server_series import ServerPoint

CPU_SECONDS = "process_cpu_seconds_total"
RESIDENT_BYTES = "process_resident_memory_bytes"
WORKERS = "backend_workers"
REQUEST_HISTOGRAM = "http_request_duration_seconds"
RATE_LIMITED = "rate_limited_total"
UNMEASURED_ROUTES = frozenset({"/metrics", "/health", "/ready", "/admin/faults"})
"""Routes that are probes or tooling, not load: left out of rps, errors and latency."""


def _served(labels: Mapping[str, str]) -> bool:
    return labels.get("route") not in UNMEASURED_ROUTES


def _server_error(labels: Mapping[str, str]) -> bool:
    return _served(labels) and labels.get("status_class") == "5xx"


def derive_points(
    previous: Snapshot | None,
    current: Snapshot,
    resources: Resources,
    discovery: Discovery | None = None,
) -> list[ServerPoint]:
    """The points at `current.t`; rates only when a previous scrape exists.

    `discovery` is the run's record of the target's own families (one per run, so the same
    families are kept from the first scrape to the last); None discovers afresh.
    """
    t = current.t
    discovery = discovery if discovery is not None else Discovery()
    own = [
        (family, kind, name)
        for family, kind in current.kinds.items()
        if (name := discovery.keep(family, kind)) is not None
    ]
    points: list[ServerPoint] = []

    def add(metric: str, value: float | None, labels: dict[str, str] | None = None) -> None:
        if value is not None:
            points.append(ServerPoint(t, metric, labels or {}, value))

    resident = current.total(RESIDENT_BYTES)
    add("memory_bytes", resident)
    if resident is not None and resources.memory_bytes > 0:
        add("memory_ratio", resident / resources.memory_bytes)
    add("db_pool_in_use", current.total("db_pool_in_use"))
    add("db_pool_size", current.total("db_pool_size"))
    for dependency, state in sorted(current.by("circuit_breaker_state", "dependency").items()):
        add("breaker_state", state, {"dependency": dependency})
    for family, kind, name in own:
        if kind == "gauge":
            add(name, current.total(family))
    if previous is None or current.t <= previous.t:
        return points
    elapsed_s = current.t - previous.t

    def rate(name: str, where: LabelFilter | None = None) -> float | None:
        before = previous.total(name, where)
        if before is None and previous.has(name):
            before = 0.0  # a labelled series born since (the first 5xx): it counted nothing
        grown = increase(before, current.total(name, where))
        return grown / elapsed_s if grown is not None else None

    cpu_cores = rate(CPU_SECONDS)
    add("cpu_cores", cpu_cores)
    if cpu_cores is not None:
        capacity = resources.cpu_capacity(current.total(WORKERS))
        add("cpu_ratio", cpu_cores / capacity if capacity > 0 else None)
    requests_per_s = rate(f"{REQUEST_HISTOGRAM}_count", _served)
    add("rps", requests_per_s)
    errors_per_s = rate(f"{REQUEST_HISTOGRAM}_count", _server_error)
    if requests_per_s and errors_per_s is not None:
        add("error_ratio", errors_per_s / requests_per_s)
    add("rate_limited_per_s", rate(RATE_LIMITED))
    for family, kind, name in own:
        if kind == "counter":
            # the text parser names a counter's samples `<family>_total`, suffix or not
            add(name, rate(f"{family}_total"))
    points += _cache_hit_ratios(previous, current)
    points += _route_p95(previous, current)
    return points


def _cache_hit_ratios(previous: Snapshot, current: Snapshot) -> list[ServerPoint]:
    name = "cache_requests_total"
    hits_now = current.by(name, "cache_type", lambda labels: labels.get("result") == "hit")
    hits_before = previous.by(name, "cache_type", lambda labels: labels.get("result") == "hit")
    all_now, all_before = current.by(name, "cache_type"), previous.by(name, "cache_type")
    points = []
    for cache_type in sorted(all_now):
        lookups = increase(all_before.get(cache_type, 0.0), all_now[cache_type])
        hits = increase(hits_before.get(cache_type, 0.0), hits_now.get(cache_type, 0.0))
        if lookups and hits is not None:
            points.append(
                ServerPoint(
                    current.t, "cache_hit_ratio", {"cache_type": cache_type}, hits / lookups
                )
            )
    return points


def _route_p95(previous: Snapshot, current: Snapshot) -> list[ServerPoint]:
    before = previous.buckets(REQUEST_HISTOGRAM, "route")
    points = []
    for route, cumulative in sorted(current.buckets(REQUEST_HISTOGRAM, "route").items()):
        if route in UNMEASURED_ROUTES:
            continue
        old = before.get(route, {})
        grown = {
            bound: increase(old.get(bound, 0.0), count) or 0.0
            for bound, count in cumulative.items()
        }
        p95_s = histogram_quantile(0.95, grown)
        if p95_s is not None:
            points.append(ServerPoint(current.t, "latency_p95_ms", {"route": route}, p95_s * 1000))
    return points
