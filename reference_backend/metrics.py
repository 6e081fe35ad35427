"""Prometheus metrics of the reference backend, correct with one or many uvicorn workers.

With several workers `serve_backend` sets `PROMETHEUS_MULTIPROC_DIR` before any worker
starts; prometheus_client then writes every sample to a per-process mmap file and
`/metrics` merges them (`MultiProcessCollector`): counters and histograms are summed over
every process that ever ran, gauges follow the mode each one names (`livesum` sums the
workers alive now). The default process collector reads only its own process, so each
worker samples its own CPU time and resident memory once a second into gauges that are
exported summed (`process_*`) and per worker (`worker_*`, labelled `pid`).

Without the variable (tests, a single process) the same metrics live in a private registry.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from dataclasses import dataclass

import psutil
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_DURATION_BUCKETS_S = (
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
)
"""Upper bounds of the latency histogram: fine below 200 ms, where the seed's limits sit."""

BREAKER_STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2}
"""Value of `circuit_breaker_state` for each breaker state."""

_PROCESS_SAMPLE_INTERVAL_S = 1.0


def is_multiprocess() -> bool:
    """Tell whether prometheus_client was imported in multiprocess mode in this process."""
    return values.ValueClass is not values.MutexValue


@dataclass(slots=True)
class BackendMetrics:
    """Every metric the backend exports; one instance per process (see `get_metrics`)."""

    registry: CollectorRegistry
    """Registry of this process (single-process mode) or unused (multiprocess mode)."""
    multiprocess: bool
    """True when samples go to the shared mmap files of PROMETHEUS_MULTIPROC_DIR."""
    orders_total: Counter
    """Orders placed (2xx checkouts)."""
    revenue_cents_total: Counter
    """Revenue of placed orders, in cents."""
    payment_declines_total: Counter
    """Charges the payment provider declined."""
    payments_total: Counter
    """Charges by outcome (approved | declined)."""
    cache_requests_total: Counter
    """Cache look-ups by cache type and result (hit | miss); a miss is a loader call."""
    db_pool_in_use: Gauge
    """Database connections checked out, summed over live workers."""
    db_pool_size: Gauge
    """Database connections open, summed over live workers."""
    breaker_state: Gauge
    """Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open (worst worker)."""
    rate_limited_total: Counter
    """Requests the gateway refused with 429."""
    coordination_fallbacks_total: Counter
    """Shared primitives (rate limit, checkout lock) answered in-process: Redis failed."""
    requests_in_flight: Gauge
    """Requests being served now, summed over live workers."""
    request_duration_seconds: Histogram
    """Gateway latency per agent, route template, method and status class."""
    process_cpu_seconds: Gauge
    """CPU time (user + system) of the live workers, summed."""
    process_resident_memory_bytes: Gauge
    """Resident memory of the live workers, summed."""
    worker_cpu_seconds: Gauge
    """CPU time of each worker (labelled pid in multiprocess mode)."""
    worker_resident_memory_bytes: Gauge
    """Resident memory of each worker (labelled pid in multiprocess mode)."""
    workers: Gauge
    """Live worker processes."""

    def sample_process(self) -> None:
        """Record this process's CPU time and resident memory now."""
        process = psutil.Process()
        with process.oneshot():
            cpu = process.cpu_times()
            rss = process.memory_info().rss
        cpu_s = cpu.user + cpu.system
        self.process_cpu_seconds.set(cpu_s)
        self.worker_cpu_seconds.set(cpu_s)
        self.process_resident_memory_bytes.set(rss)
        self.worker_resident_memory_bytes.set(rss)

    def render(self) -> bytes:
        """Return the Prometheus text exposition of every process's metrics."""
        self.sample_process()
        if not self.multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def _build_metrics() -> BackendMetrics:
    disable_created_metrics()  # type: ignore[no-untyped-call]  # `*_created` doubles the output
    multiprocess = is_multiprocess()
    registry = CollectorRegistry()
    return BackendMetrics(
        registry=registry,
        multiprocess=multiprocess,
        orders_total=Counter("orders", "Orders placed.", registry=registry),
        revenue_cents_total=Counter(
            "revenue_cents", "Revenue of placed orders, in cents.", registry=registry
        ),
        payment_declines_total=Counter(
            "payment_declines", "Charges the payment provider declined.", registry=registry
        ),
        payments_total=Counter("payments", "Charges by outcome.", ["outcome"], registry=registry),
        cache_requests_total=Counter(
            "cache_requests",
            "Cache look-ups by cache type and result (hit, miss).",
            ["cache_type", "result"],
            registry=registry,
        ),
        db_pool_in_use=Gauge(
            "db_pool_in_use",
            "Database connections checked out.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        db_pool_size=Gauge(
            "db_pool_size",
            "Database connections open.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        breaker_state=Gauge(
            "circuit_breaker_state",
            "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.",
            ["dependency"],
            registry=registry,
            multiprocess_mode="livemax",
        ),
        rate_limited_total=Counter(
            "rate_limited", "Requests refused with 429 by the gateway.", registry=registry
        ),
        coordination_fallbacks_total=Counter(
            "coordination_fallbacks",
            "Shared primitives answered in-process because Redis failed, by primitive and reason.",
            ["primitive", "reason"],
            registry=registry,
        ),
        requests_in_flight=Gauge(
            "http_requests_in_flight",
            "Requests being served now.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        request_duration_seconds=Histogram(
            "http_request_duration_seconds",
            "Gateway latency per agent, route template, method and status class.",
            ["agent", "route", "method", "status_class"],
            buckets=REQUEST_DURATION_BUCKETS_S,
            registry=registry,
        ),
        process_cpu_seconds=Gauge(
            "process_cpu_seconds_total",
            "CPU time (user + system) of the live workers, summed.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        process_resident_memory_bytes=Gauge(
            "process_resident_memory_bytes",
            "Resident memory of the live workers, summed.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        worker_cpu_seconds=Gauge(
            "worker_cpu_seconds",
            "CPU time (user + system) of each worker.",
            registry=registry,
            multiprocess_mode="liveall",
        ),
        worker_resident_memory_bytes=Gauge(
            "worker_resident_memory_bytes",
            "Resident memory of each worker.",
            registry=registry,
            multiprocess_mode="liveall",
        ),
        workers=Gauge(
            "backend_workers",
            "Live worker processes.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
    )


def _forget_dead_workers(directory: str) -> None:
    """Drop the live-gauge files of workers that died (uvicorn restarts them silently)."""
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        pid_text = path.rsplit("_", 1)[-1].removesuffix(".db")
        if pid_text.isdigit() and not psutil.pid_exists(int(pid_text)):
            mark_process_dead(int(pid_text), directory)  # type: ignore[no-untyped-call]


def _sample_forever(metrics: BackendMetrics) -> None:
    while True:
        time.sleep(_PROCESS_SAMPLE_INTERVAL_S)
        try:
            metrics.sample_process()
        except psutil.Error:
            return


_metrics: BackendMetrics | None = None
_metrics_lock = threading.Lock()


def get_metrics() -> BackendMetrics:
    """Return this process's metrics, creating them (and the process sampler) on first use."""
    global _metrics
    with _metrics_lock:
        if _metrics is None:
            directory = os.environ.get(MULTIPROC_DIR_ENV)
            if directory and is_multiprocess():
                _forget_dead_workers(directory)
            metrics = _build_metrics()
            metrics.workers.set(1)
            metrics.sample_process()
            threading.Thread(
                target=_sample_forever, args=(metrics,), name="process-sampler", daemon=True
            ).start()
            _metrics = metrics
        return _metrics


async def metrics_endpoint(request: Request) -> Response:
    """Serve `/metrics` in the Prometheus text format, merged over every worker."""
    return Response(get_metrics().render(), media_type=CONTENT_TYPE_LATEST)
