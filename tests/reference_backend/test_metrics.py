"""Metrics: the exposition, multiprocess merging across worker processes, the real server."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from reference_backend.metrics import MULTIPROC_DIR_ENV, get_metrics, metrics_endpoint
from tests.reference_backend._infra import ServeProcess

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(exposition: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(exposition):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def test_get_metrics_is_one_object_per_process() -> None:
    assert get_metrics() is get_metrics()


def test_the_endpoint_serves_prometheus_text_with_process_figures() -> None:
    app = Starlette(routes=[Route("/metrics", metrics_endpoint)])
    with TestClient(app) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = parse(response.text)
    assert total(samples, "process_cpu_seconds_total") > 0
    assert total(samples, "process_resident_memory_bytes") > 10_000_000
    for name in ("cache_requests_total", "http_request_duration_seconds", "circuit_breaker_state"):
        assert f"# TYPE {name.removesuffix('_total')}" in response.text


def _worker(requests: int, conn: Connection) -> None:
    metrics = get_metrics()
    observe = metrics.request_duration_seconds.labels("search", "/api/x", "GET", "2xx").observe
    for _ in range(requests):
        observe(0.004)
        metrics.orders_total.inc()
    metrics.requests_in_flight.inc()  # held while this worker lives
    conn.send("ready")
    conn.recv()


def _scrape(conn: Connection) -> None:
    conn.send(get_metrics().render().decode())


def _scrape_in_new_process(ctx: multiprocessing.context.SpawnContext) -> Samples:
    here, there = ctx.Pipe()
    scraper = ctx.Process(target=_scrape, args=(there,))
    scraper.start()
    text = here.recv()
    scraper.join(30)
    return parse(text)


def test_samples_of_every_worker_are_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROC_DIR_ENV, str(tmp_path))
    ctx = multiprocessing.get_context("spawn")
    pipes = [ctx.Pipe() for _ in range(2)]
    workers = [
        ctx.Process(target=_worker, args=(requests, there))
        for requests, (_, there) in zip((10, 20), pipes, strict=True)
    ]
    for worker in workers:
        worker.start()
    try:
        for here, _ in pipes:
            assert here.recv() == "ready"
        alive = _scrape_in_new_process(ctx)
    finally:
        for here, _ in pipes:
            here.send("exit")
        for worker in workers:
            worker.join(30)
    after = _scrape_in_new_process(ctx)

    assert total(alive, "orders_total") == 30
    assert total(alive, "http_request_duration_seconds_count", agent="search") == 30
    assert total(alive, "http_request_duration_seconds_bucket", le="0.005") == 30
    assert total(alive, "http_requests_in_flight") == 2
    assert total(alive, "backend_workers") == 3  # two workers and the scraper
    pids = {dict(labels)["pid"] for (name, labels) in alive if name == "worker_cpu_seconds"}
    assert {str(w.pid) for w in workers} <= pids
    assert total(alive, "process_resident_memory_bytes") > 3 * 10_000_000

    assert total(after, "orders_total") == 30  # counters outlive their workers
    assert total(after, "http_requests_in_flight") == 0  # live gauges do not
    assert total(after, "backend_workers") == 1


@pytest.mark.slow
def test_two_server_workers_report_every_request_once() -> None:
    requests = 300
    with ServeProcess("--workers", "2", "--catalog-size", "200") as server:
        for _ in range(requests):
            # a fresh connection each time, so the kernel spreads them over both workers
            assert httpx.get(f"{server.url}/api/categories").status_code == 200
        samples = parse(httpx.get(f"{server.url}/metrics").text)
    counted = total(samples, "http_request_duration_seconds_count", route="/api/categories")
    assert counted == requests
    pids = {dict(labels)["pid"] for (name, labels) in samples if name == "worker_cpu_seconds"}
    assert len(pids) == 2
    assert total(samples, "backend_workers") == 2
    assert os.getpid() not in {int(pid) for pid in pids}
