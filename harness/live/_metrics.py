"""perfctl's own /metrics: the live state in the Prometheus text format, at each scrape.

A collector on a registry of its own (not prometheus_client's global one, which would also
export this process's runtime metrics under another meaning), read under the state's lock:

    perfctl_run_info{scenario,profile,run_id,model}   1 for the run being followed
    perfctl_stage_info{stage}                         1 for the stage running now
    perfctl_run_elapsed_seconds                       since the load started
    perfctl_run_planned_duration_seconds              the plan's length
    perfctl_requests_total{operation,outcome}         requests completed (journeys left out)
    perfctl_request_duration_seconds{operation}       histogram, 1 ms .. 60 s (+Inf)
    perfctl_users                                     closed model: users running
    perfctl_arrivals_total{kind}                      open model: planned, started, dropped
    perfctl_workers                                   load-generating processes reporting
    perfctl_generator_cpu_percent{process}            CPU of each Locust process, % of a core
    perfctl_checks{status}                            objectives per status (provisional until
                                                      the verdict; every status, 0 included)
    perfctl_run_ended                                 1 once the load has stopped

The counters and the histogram are the merged seconds written so far (they lag the load by
about a second), so `rate(perfctl_requests_total[1m])` is the achieved RPS.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from harness.live._state import DURATION_BUCKETS_S, LiveState
from harness.timeline import OUTCOMES
from harness.verdict import CHECK_STATUSES


class LiveCollector(Collector):
    """The live state as metric families, computed at each scrape."""

    def __init__(self, state: LiveState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        with state.lock:
            yield from self._run(state)
            yield from self._requests(state)
            yield from self._load(state)
            yield from self._checks(state)

    def _run(self, state: LiveState) -> Iterator[Metric]:
        info = InfoMetricFamily(
            "perfctl_run", "The run perfctl is driving (1).", labels=("scenario", "profile")
        )
        stage = GaugeMetricFamily(
            "perfctl_stage_info", "The stage of the plan running now (1).", labels=("stage",)
        )
        elapsed = GaugeMetricFamily(
            "perfctl_run_elapsed_seconds", "Seconds since the load started."
        )
        planned = GaugeMetricFamily(
            "perfctl_run_planned_duration_seconds", "The plan's length in seconds."
        )
        ended = GaugeMetricFamily("perfctl_run_ended", "1 once the load has stopped.")
        record, plan = state.record, state.plan
        if record is not None and plan is not None:
            info.add_metric(
                (plan.scenario, plan.profile),
                {"run_id": record.run_id, "model": plan.model},
            )
            started_t = state.started_t
            if started_t is not None:
                elapsed.add_metric((), round(max(time.time() - started_t, 0.0), 3))
            planned.add_metric((), plan.duration_s)
            ended.add_metric((), 0.0 if record.status == "running" else 1.0)
        if state.load is not None and state.load.stage is not None:
            stage.add_metric((state.load.stage,), 1.0)
        yield from (info, stage, elapsed, planned, ended)

    def _requests(self, state: LiveState) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "perfctl_requests",
            "Requests completed, by operation and outcome (journey timings left out).",
            labels=("operation", "outcome"),
        )
        duration = HistogramMetricFamily(
            "perfctl_request_duration_seconds",
            "Request latency (from the intended start in the open model), by operation.",
            labels=("operation",),
        )
        bounds = [*(repr(float(bound)) for bound in DURATION_BUCKETS_S), "+Inf"]  # as Go writes le
        for name, operation in state.request_operations():
            for outcome in OUTCOMES:
                requests.add_metric((name, outcome), getattr(operation.counts, outcome))
            cumulative, buckets = 0, []
            for bound, count in zip(bounds, operation.buckets, strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            duration.add_metric((name,), buckets, round(operation.latency_sum_s, 6))
        yield from (requests, duration)

    def _load(self, state: LiveState) -> Iterator[Metric]:
        users = GaugeMetricFamily("perfctl_users", "Closed model: users running.")
        arrivals = CounterMetricFamily(
            "perfctl_arrivals",
            "Open model: arrivals the plan asked for (planned), started, and dropped at the "
            "concurrency cap.",
            labels=("kind",),
        )
        workers = GaugeMetricFamily("perfctl_workers", "Load-generating processes reporting.")
        cpu = GaugeMetricFamily(
            "perfctl_generator_cpu_percent",
            "CPU of each Locust process, percent of one core.",
            labels=("process",),
        )
        load, plan = state.load, state.plan
        if load is not None:
            if load.users is not None:
                users.add_metric((), load.users)
            workers.add_metric((), load.workers)
            for process, percent in sorted(load.cpu_percent.items()):
                cpu.add_metric((process,), percent)
        if plan is not None and plan.model == "open":
            for kind, count in state.arrivals.items():
                arrivals.add_metric((kind,), count)
        yield from (users, arrivals, workers, cpu)

    def _checks(self, state: LiveState) -> Iterator[Metric]:
        checks = GaugeMetricFamily(
            "perfctl_checks",
            "Objectives per status: judged on the data so far while the run goes (provisional), "
            "the verdict's once it is written.",
            labels=("status",),
        )
        if state.plan is not None:
            for status in CHECK_STATUSES:
                checks.add_metric(
                    (status,), sum(1 for check in state.checks if check.status == status)
                )
        yield checks


def metrics_registry(state: LiveState) -> CollectorRegistry:
    """A registry of its own holding the live state's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LiveCollector(state))
    return registry
