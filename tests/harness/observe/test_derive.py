"""Two scrapes → canonical points: CPU from the counter's rate against the cores the target
may use, rps without probes, errors, p95 per route, cache hit ratio, gauges; and the
target's own counters and gauges, whatever they are called."""

from __future__ import annotations

import pytest

from harness.observe._derive import derive_points
from harness.observe._discovery import Discovery
from harness.observe._exposition import parse_exposition
from harness.observe._resources import Resources
from harness.observe._server_series import ServerPoint
from tests.harness.observe._ticket_office import (
    SEATS_HELD_TOTAL,
    TICKETS_PER_S_TOTAL,
)
from tests.harness.observe._ticket_office import exposition as ticket_office_metrics

BEFORE = """# TYPE process_cpu_seconds_total gauge
process_cpu_seconds_total 10.0
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 100000000.0
# TYPE backend_workers gauge
backend_workers 1.0
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{route="/api/x",status_class="2xx",le="0.01"} 0.0
http_request_duration_seconds_bucket{route="/api/x",status_class="2xx",le="0.1"} 0.0
http_request_duration_seconds_bucket{route="/api/x",status_class="2xx",le="+Inf"} 0.0
http_request_duration_seconds_count{route="/api/x",status_class="2xx"} 0.0
http_request_duration_seconds_sum{route="/api/x",status_class="2xx"} 0.0
http_request_duration_seconds_count{route="/metrics",status_class="2xx"} 50.0
http_request_duration_seconds_sum{route="/metrics",status_class="2xx"} 0.1
# TYPE cache_requests_total counter
cache_requests_total{cache_type="product",result="hit"} 0.0
cache_requests_total{cache_type="product",result="miss"} 0.0
# TYPE orders_total counter
orders_total 4.0
# TYPE circuit_breaker_state gauge
circuit_breaker_state{dependency="redis"} 0.0
"""

AFTER = """# TYPE process_cpu_seconds_total gauge
process_cpu_seconds_total 11.6
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 200000000.0
# TYPE backend_workers gauge
backend_workers 1.0
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{route="/api/x",status_class="2xx",le="0.01"} 80.0
http_request_duration_seconds_bucket{route="/api/x",status_class="2xx",le="0.1"} 180.0
http_request_duration_seconds_bucket{route="/api/x",status_class="2xx",le="+Inf"} 180.0
http_request_duration_seconds_count{route="/api/x",status_class="2xx"} 180.0
http_request_duration_seconds_sum{route="/api/x",status_class="2xx"} 5.0
http_request_duration_seconds_bucket{route="/api/x",status_class="5xx",le="0.01"} 20.0
http_request_duration_seconds_bucket{route="/api/x",status_class="5xx",le="0.1"} 20.0
http_request_duration_seconds_bucket{route="/api/x",status_class="5xx",le="+Inf"} 20.0
http_request_duration_seconds_count{route="/api/x",status_class="5xx"} 20.0
http_request_duration_seconds_sum{route="/api/x",status_class="5xx"} 0.1
http_request_duration_seconds_count{route="/metrics",status_class="2xx"} 52.0
http_request_duration_seconds_sum{route="/metrics",status_class="2xx"} 0.1
# TYPE cache_requests_total counter
cache_requests_total{cache_type="product",result="hit"} 30.0
cache_requests_total{cache_type="product",result="miss"} 10.0
# TYPE orders_total counter
orders_total 10.0
# TYPE circuit_breaker_state gauge
circuit_breaker_state{dependency="redis"} 2.0
"""

MACHINE = Resources(cpu_cores=2.0, memory_bytes=1_000_000_000.0)


def _by_name(points: list[ServerPoint]) -> dict[str, list[ServerPoint]]:
    named: dict[str, list[ServerPoint]] = {}
    for point in points:
        named.setdefault(point.metric, []).append(point)
    return named


def _derive(resources: Resources = MACHINE) -> dict[str, list[ServerPoint]]:
    before = parse_exposition(BEFORE, t=1000.0)
    after = parse_exposition(AFTER, t=1002.0)
    return _by_name(derive_points(before, after, resources))


def test_cpu_is_the_counter_rate_against_the_cores_one_worker_can_use() -> None:
    points = _derive()
    assert points["cpu_cores"][0].value == pytest.approx(0.8)  # 1.6 s of CPU in 2 s
    # one worker process can use one of the two cores
    assert points["cpu_ratio"][0].value == pytest.approx(0.8)


def test_configured_cores_are_not_capped_by_workers() -> None:
    points = _derive(Resources(cpu_cores=4.0, memory_bytes=1e9, cpu_cores_configured=True))
    assert points["cpu_ratio"][0].value == pytest.approx(0.2)


def test_requests_errors_latency_and_business_rates() -> None:
    points = _derive()
    assert points["rps"][0].value == pytest.approx(100.0)  # 200 in 2 s; /metrics left out
    assert points["error_ratio"][0].value == pytest.approx(0.1)
    p95 = points["latency_p95_ms"]
    assert [point.labels for point in p95] == [{"route": "/api/x"}]
    # 200 requests: 100 up to 10 ms, 100 in (10, 100] ms; rank 190 is 90 % into that bucket
    assert p95[0].value == pytest.approx(91.0)
    assert points["cache_hit_ratio"][0].labels == {"cache_type": "product"}
    assert points["cache_hit_ratio"][0].value == pytest.approx(0.75)
    assert points["orders_per_s"][0].value == pytest.approx(3.0)


def test_gauges_are_read_as_they_are() -> None:
    points = _derive()
    assert points["memory_bytes"][0].value == 200_000_000.0
    assert points["memory_ratio"][0].value == pytest.approx(0.2)
    assert points["breaker_state"][0].labels == {"dependency": "redis"}
    assert points["breaker_state"][0].value == 2.0


def test_the_first_scrape_gives_gauges_only() -> None:
    first = _by_name(derive_points(None, parse_exposition(AFTER, t=1.0), MACHINE))
    assert "memory_bytes" in first
    assert "cpu_ratio" not in first
    assert "rps" not in first


def test_a_target_s_own_counters_are_rates_and_its_gauges_values_summed_over_labels() -> None:
    before = parse_exposition(ticket_office_metrics(10.0), t=1000.0)
    after = parse_exposition(ticket_office_metrics(12.0), t=1002.0)
    points = _by_name(derive_points(before, after, MACHINE))
    assert [(p.labels, p.value) for p in points["tickets_sold_per_s"]] == [
        ({}, pytest.approx(TICKETS_PER_S_TOTAL))
    ]
    assert [(p.labels, p.value) for p in points["seats_held"]] == [({}, SEATS_HELD_TOTAL)]
    assert points["cpu_cores"][0].value == pytest.approx(0.25)  # the standard process metric
    # creation timestamps, summaries and the runtime's own families are not the target's own
    assert set(points) == {
        "tickets_sold_per_s",
        "seats_held",
        "cpu_cores",
        "cpu_ratio",
        "memory_bytes",
        "memory_ratio",
    }


def test_one_discovery_keeps_the_same_families_from_the_first_scrape_to_the_last() -> None:
    discovery = Discovery(limit=3)
    scrapes = [parse_exposition(ticket_office_metrics(t, extra_families=5), t) for t in (1, 2, 3)]
    kept = [
        {p.metric for p in derive_points(previous, current, MACHINE, discovery)}
        for previous, current in zip([None, *scrapes], scrapes, strict=False)
    ]
    own = {"tickets_sold_per_s", "seats_held", "extra_000_per_s"}
    assert "seats_held" in kept[0]  # gauges from the first scrape on, rates from the second
    assert "tickets_sold_per_s" not in kept[0]
    assert kept[1] >= own
    assert kept[2] >= own
    assert not any(metric.startswith("extra_001") for metric in kept[2])
    assert "the first 3 are kept, 4 left out" in (discovery.note() or "")
