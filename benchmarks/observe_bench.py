"""What server-side metrics cost: one scrape's parse + derivation, and judging a long series.

- scrape: the reference backend's own /metrics text (its metrics module in this process,
  with a latency histogram for every route of the contract) parsed and turned into points
  against the previous scrape, as the direct scraper does every second during a run;
- verdict: a synthetic endurance run's series (cpu_ratio and memory_bytes every second)
  judged as the SLA's cpu KPI (1-minute windows) and memory drift (10 s windows).

    .venv/bin/python benchmarks/observe_bench.py [--hours 4] [--scrapes 300]
"""

from __future__ import annotations

import argparse
import random
import time

from harness.observe._derive import derive_points
from harness.observe._discovery import Discovery
from harness.observe._exposition import parse_exposition
from harness.observe._resources import local_resources
from harness.observe._server_series import ServerPoint, ServerSeries
from harness.spec._objective import Objective
from harness.spec._units import parse_limit
from harness.verdict._scope import Span
from harness.verdict._server_kpis import judge_memory_drift, judge_utilisation
from reference_backend.faults import OPERATIONS
from reference_backend.metrics import get_metrics


def _expositions(count: int) -> list[str]:
    """`count` successive /metrics texts, a second of traffic on every route between two."""
    metrics = get_metrics()
    rng = random.Random(1)
    texts = []
    for _ in range(count):
        for name, (method, path) in OPERATIONS.items():
            for _ in range(20):
                metrics.request_duration_seconds.labels(name, path, method, "2xx").observe(
                    rng.lognormvariate(-4, 1)
                )
        for cache_type in ("product", "search", "recommendations", "pricing", "preferences"):
            metrics.cache_requests_total.labels(cache_type, "hit").inc(rng.randint(1, 100))
            metrics.cache_requests_total.labels(cache_type, "miss").inc(rng.randint(1, 10))
        texts.append(metrics.render().decode())
    return texts


def bench_scrape(scrapes: int) -> None:
    texts = _expositions(scrapes + 1)
    resources = local_resources()
    previous = parse_exposition(texts[0], 0.0)
    discovery = Discovery()  # one a run, as the scraper keeps it
    started = time.perf_counter()
    points = 0
    for index, text in enumerate(texts[1:], start=1):
        current = parse_exposition(text, float(index))
        points += len(derive_points(previous, current, resources, discovery))
        previous = current
    per_scrape_ms = (time.perf_counter() - started) / scrapes * 1000
    print(
        f"scrape: {len(texts[-1].splitlines())} exposition lines, {per_scrape_ms:.2f} ms per "
        f"parse + derive, {points // scrapes} points per scrape"
    )


def _objective(metric: str, limit: str, unit: str, window_s: float | None) -> Objective:
    return Objective(
        id=f"bench.{metric}", operation="*", metric=metric,  # type: ignore[arg-type]
        statistic="mean", limit=parse_limit(limit, unit), warn=None,  # type: ignore[arg-type]
        window_s=window_s, windows_required=1.0, scope="run", severity="low", optional=False,
        min_samples=1, abort_after_s=None, baseline=None, baseline_warn=None, query=None,
        scenarios=(), title="", description="", source="bench",
    )  # fmt: skip


def bench_verdict(hours: float) -> None:
    seconds = int(hours * 3600)
    rng = random.Random(2)
    start = 1_800_000_000
    points = [
        ServerPoint(start + t, "cpu_ratio", {}, rng.uniform(0.3, 0.5)) for t in range(seconds)
    ]
    points += [
        ServerPoint(start + t, "memory_bytes", {}, 200e6 + t * 1000 + rng.gauss(0, 1e6))
        for t in range(seconds)
    ]
    span = Span(start, start + seconds)
    started = time.perf_counter()
    series = ServerSeries.of(points)
    cpu = judge_utilisation(_objective("cpu", "< 70 %", "ratio", 60.0), parse_limit("< 70 %", "ratio"), None, series, span)  # fmt: skip
    drift = judge_memory_drift(_objective("memory_drift", "< 50 MB/h", "mb_per_h", None), parse_limit("< 50 MB/h", "mb_per_h"), None, series, span)  # fmt: skip
    elapsed_s = time.perf_counter() - started
    print(
        f"verdict: {hours:g} h of 1 s server points ({len(points):,}) judged in {elapsed_s:.2f} s "
        f"(cpu {cpu.status} over {cpu.windows_total} windows; memory drift {drift.status}, "
        f"{drift.measured:+.1f} MB/h over {drift.windows_total} windows)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--scrapes", type=int, default=300)
    args = parser.parse_args()
    bench_scrape(args.scrapes)
    bench_verdict(args.hours)


if __name__ == "__main__":
    main()
