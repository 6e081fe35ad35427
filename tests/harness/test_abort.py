"""Abort on breach stops a run only when a breach has lasted, never in warm-up."""

from __future__ import annotations

from pathlib import Path

from harness.spec.sla import load_sla
from harness.timeline import WindowRecord
from harness.verdict.abort import AbortWatch

START = 1_800_000_000


def _watch(tmp_path: Path, after: str = "10s", warmup_s: float = 0.0) -> AbortWatch:
    path = tmp_path / "sla.yaml"
    path.write_text(
        "version: 1\nname: t\nobjectives:\n"
        f'  - {{operation: search, metric: latency, statistic: p95, limit: "< 300 ms", abort: {{after: {after}}}}}\n'
        '  - {operation: search, metric: error_rate, limit: "< 5 %"}\n'
    )
    return AbortWatch(load_sla(path).objectives, started_t=START, warmup_s=warmup_s)


def _second(offset: int, latency_ms: float, count: int = 30) -> dict[str, object]:
    record = WindowRecord(START + offset, "search")
    for _ in range(count):
        record.record("ok", latency_ms)
    return record.to_line()


def test_only_objectives_with_an_abort_rule_are_watched(tmp_path: Path) -> None:
    watch = _watch(tmp_path)
    assert [objective.id for objective in watch.objectives] == ["search.latency.p95"]


def test_a_sustained_breach_aborts_with_a_reason(tmp_path: Path) -> None:
    watch = _watch(tmp_path, after="10s")
    watch.observe(_second(t, 50.0) for t in range(20))
    watch.observe(_second(t, 900.0) for t in range(20, 40))
    assert watch.check(START + 25) is None  # breached, not for long enough yet
    decision = watch.check(START + 45)
    assert decision is not None
    assert decision.objective_id == "search.latency.p95"
    assert "for 10s" in decision.reason
    assert decision.measured > 300


def test_a_short_spike_does_not_abort(tmp_path: Path) -> None:
    watch = _watch(tmp_path, after="10s")
    seconds = [_second(t, 900.0 if 20 <= t < 22 else 50.0) for t in range(60)]
    watch.observe(seconds)
    assert watch.check(START + 62) is None


def test_breach_during_warm_up_never_aborts(tmp_path: Path) -> None:
    watch = _watch(tmp_path, after="5s", warmup_s=30.0)
    watch.observe(_second(t, 900.0 if t < 30 else 50.0) for t in range(60))
    assert watch.check(START + 62) is None


def test_a_breach_inside_the_warning_band_does_not_abort(tmp_path: Path) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(
        "version: 1\nname: t\nobjectives:\n"
        '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", warn: "< 1000 ms", abort: {after: 5s}}\n'
    )
    watch = AbortWatch(load_sla(path).objectives, started_t=START, warmup_s=0.0)
    watch.observe(_second(t, 600.0) for t in range(30))
    assert watch.check(START + 32) is None
    watch.observe(_second(t, 1500.0) for t in range(30, 45))
    decision = watch.check(START + 47)
    assert decision is not None
    assert "< 1000 ms" in decision.reason
