"""perfctl's own /metrics: the live state in the Prometheus text format, parsed back with
prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from harness.live import LiveState, metrics_registry
from harness.live._feed import check_views
from harness.verdict import judge_run_dir
from tests.harness._synthetic_run import START_T, open_plan
from tests.harness.live._support import GrowingRun
from tests.harness.live.test_state import _line, _load


def _samples(state: LiveState) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics_registry(state)).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_requests_latency_users_and_cpu_are_exported(tmp_path: Path) -> None:
    run = GrowingRun(tmp_path / "run-7")
    state = LiveState()
    state.start(run.record(), run.plan)
    # 10 requests at 3 ms and 2 at 700 ms in each of 3 seconds, one timeout a second
    for offset in range(3):
        line = _line(offset, "search", [3.0] * 10 + [700.0] * 2, failed=1)
        state.add([_load(offset, users=12, cpu_percent={"local": 41.5})], [line])
    samples = _samples(state)
    search = (("operation", "search"),)
    assert samples[("perfctl_requests_total", (*search, ("outcome", "ok")))] == 36
    assert (
        samples[("perfctl_requests_total", (("operation", "search"), ("outcome", "timeout")))] == 3
    )
    bucket = "perfctl_request_duration_seconds_bucket"
    assert samples[(bucket, (("le", "0.0025"), *search))] == 0
    assert samples[(bucket, (("le", "0.005"), *search))] == 30
    assert samples[(bucket, (("le", "0.5"), *search))] == 30
    assert samples[(bucket, (("le", "1.0"), *search))] == 36
    assert samples[(bucket, (("le", "10.0"), *search))] == 39  # the timeouts took 5 s
    assert samples[(bucket, (("le", "+Inf"), *search))] == 39
    assert samples[("perfctl_request_duration_seconds_count", search)] == 39
    assert samples[("perfctl_request_duration_seconds_sum", search)] == pytest.approx(
        30 * 0.003 + 6 * 0.7 + 3 * 5.0, rel=0.01
    )
    assert samples[("perfctl_users", ())] == 12
    assert samples[("perfctl_workers", ())] == 2
    assert samples[("perfctl_generator_cpu_percent", (("process", "local"),))] == 41.5
    assert samples[("perfctl_stage_info", (("stage", "steady"),))] == 1
    info = (
        ("model", "closed"),
        ("profile", "test"),
        ("run_id", "run-7"),
        ("scenario", "synthetic"),
    )
    assert samples[("perfctl_run_info", info)] == 1
    assert samples[("perfctl_run_ended", ())] == 0
    assert not any(name == "perfctl_arrivals_total" for name, _ in samples)  # closed model


def test_open_model_arrivals_are_counters_by_kind(tmp_path: Path) -> None:
    run = GrowingRun(tmp_path / "open", plan=open_plan())
    state = LiveState()
    state.start(run.record(), run.plan)
    for offset in range(4):
        sample = _load(offset, planned_arrivals=50, started_arrivals=48, dropped_arrivals=2)
        state.add([sample], [_line(offset, "search", [10.0] * 48)])
    samples = _samples(state)
    assert samples[("perfctl_arrivals_total", (("kind", "planned"),))] == 200
    assert samples[("perfctl_arrivals_total", (("kind", "started"),))] == 192
    assert samples[("perfctl_arrivals_total", (("kind", "dropped"),))] == 8
    assert ("perfctl_users", ()) not in samples


def test_checks_count_objectives_per_status_every_status_present(tmp_path: Path) -> None:
    run = GrowingRun(tmp_path / "judged")
    for offset in range(10):
        run.second(offset, latency_ms=250.0)  # slower than the 100 ms objective
    state = LiveState()
    state.start(run.record(), run.plan)
    from harness.rundir import write_run_record

    write_run_record(run.run_dir, run.record("completed"))
    verdict = judge_run_dir(run.run_dir, find_capacity=False)
    state.set_checks(check_views(verdict.checks), "the verdict: final")
    samples = _samples(state)
    assert samples[("perfctl_checks", (("status", "fail"),))] == 1
    assert samples[("perfctl_checks", (("status", "pass"),))] == 1
    assert samples[("perfctl_checks", (("status", "inconclusive"),))] == 0


def test_before_a_run_only_empty_families_are_exported() -> None:
    text = generate_latest(metrics_registry(LiveState())).decode()
    assert [line for line in text.splitlines() if not line.startswith("#")] == []
    assert "# TYPE perfctl_requests_total counter" in text
    assert START_T  # the synthetic clock is not needed: nothing is measured
