"""The target's own families: which are kept, under which name, how many, and the PromQL the
Prometheus path asks for them."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from harness.observe import _derive
from harness.observe._discovery import Discovery, own_series_name
from harness.observe._prometheus import DEFAULT_QUERIES, WORKERS_QUERY, own_queries


@pytest.mark.parametrize(
    ("family", "kind", "series"),
    [
        ("tickets_sold", "counter", "tickets_sold_per_s"),  # as prometheus_client parses it
        ("tickets_sold_total", "counter", "tickets_sold_per_s"),  # as Prometheus's metadata
        ("revenue_cents", "counter", "revenue_cents_per_s"),
        ("seats_held", "gauge", "seats_held"),
        ("box_office_wait_seconds", "summary", None),
        ("box_office_wait_seconds", "histogram", None),
        ("build", "info", None),
        ("mystery", "unknown", None),
        ("tickets_sold_created", "gauge", None),  # prometheus_client's creation timestamps
        ("process_cpu_seconds_total", "gauge", None),
        ("process_open_fds", "gauge", None),
        ("python_gc_objects_collected", "counter", None),
        ("go_goroutines", "gauge", None),
        ("worker_cpu_seconds", "gauge", None),  # per-worker resources
        ("worker_resident_memory_bytes", "gauge", None),
        ("cache_requests", "counter", None),  # made into canonical metrics already
        ("rate_limited_total", "counter", None),
        ("backend_workers", "gauge", None),
        ("cpu_ratio", "gauge", None),  # would take a canonical metric's name
    ],
)
def test_own_families_and_their_series_names(family: str, kind: str, series: str | None) -> None:
    assert own_series_name(family, kind) == series


def _families_read(promql: str) -> set[str]:
    selectors = re.findall(r"([a-z_]+)(?=[{\[])", promql)
    alone = re.findall(r"(?<!by )\(([a-z_]+)\)", promql)
    return {re.sub(r"_(count|bucket|sum)$", "", name) for name in selectors + alone}


def test_no_family_a_canonical_metric_reads_is_discovered_again() -> None:
    read = set().union(*(_families_read(promql) for promql, _ in DEFAULT_QUERIES.values()))
    read |= _families_read(WORKERS_QUERY)
    read |= {_derive.CPU_SECONDS, _derive.RESIDENT_BYTES, _derive.WORKERS, _derive.RATE_LIMITED}
    assert "http_request_duration_seconds" in read
    assert "db_pool_in_use" in read
    for family in read:
        assert own_series_name(family, "counter") is None, family
        assert own_series_name(family, "gauge") is None, family


def test_a_run_keeps_the_first_families_seen_and_names_the_cut() -> None:
    discovery = Discovery(limit=3)
    names = [discovery.keep(f"f{index}", "counter") for index in range(10)]
    assert names == ["f0_per_s", "f1_per_s", "f2_per_s", *[None] * 7]
    # later scrapes: the same families, however the exposition is ordered now
    assert discovery.keep("f9", "counter") is None
    assert discovery.keep("f1", "counter") == "f1_per_s"
    assert discovery.kept == {"f0": "f0_per_s", "f1": "f1_per_s", "f2": "f2_per_s"}
    note = discovery.note()
    assert note is not None
    assert "10 metric families of its own" in note
    assert "the first 3 are kept, 7 left out (f3, f4, f5, f6, f7, ...)" in note


def test_without_a_cut_there_is_nothing_to_note() -> None:
    discovery = Discovery()
    assert discovery.keep("tickets_sold", "counter") == "tickets_sold_per_s"
    assert discovery.keep("process_open_fds", "gauge") is None
    assert discovery.note() is None


class _Metadata:
    """A client answering Prometheus's target metadata, in no particular order."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries
        self.asked: list[dict[str, str]] = []

    def get_target_metadata(self, target: dict[str, str]) -> list[dict[str, Any]]:
        self.asked.append(target)
        return self.entries


TARGET = {
    "labels": {"job": "ticket-office", "instance": "127.0.0.1:9100"},
    "scrapeUrl": "http://127.0.0.1:9100/metrics",
}


def test_prometheus_queries_of_the_target_s_own_families_within_its_job() -> None:
    client = _Metadata(
        [
            {"metric": "tickets_sold_total", "type": "counter"},
            {"metric": "seats_held", "type": "gauge"},
            {"metric": "refunds", "type": "counter"},  # an OpenMetrics `# TYPE` line
            {"metric": "http_request_duration_seconds", "type": "histogram"},
            {"metric": "process_cpu_seconds_total", "type": "counter"},
        ]
    )
    queries = own_queries(client, TARGET, Discovery())
    assert client.asked == [{"job": "ticket-office", "instance": "127.0.0.1:9100"}]
    assert queries == {
        "refunds_per_s": (
            'sum(rate({__name__=~"refunds|refunds_total",job="ticket-office"}[$__rate_interval]))'
        ),
        "seats_held": 'sum(seats_held{job="ticket-office"})',
        "tickets_sold_per_s": 'sum(rate(tickets_sold_total{job="ticket-office"}[$__rate_interval]))',
    }


def test_prometheus_discovery_is_bounded_and_the_same_whatever_the_order() -> None:
    entries = [{"metric": f"extra_{index:03d}_total", "type": "counter"} for index in range(80)]
    random.Random(7).shuffle(entries)
    discovery = Discovery()
    queries = own_queries(_Metadata(entries), TARGET, discovery)
    assert list(queries) == [f"extra_{index:03d}_per_s" for index in range(50)]
    assert "the first 50 are kept, 30 left out (extra_050_total" in (discovery.note() or "")
