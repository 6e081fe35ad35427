"""The stress run's breaking point: the highest load at which every latency objective held,
overall and per operation, from the windows of a synthetic ramp."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.spec._sla import load_sla
from harness.verdict._breaking_point import planned_rate_per_s
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._model import Check
from tests.harness._synthetic_run import SyntheticRun, open_plan

SLA = """version: 1
name: stress
objectives:
  - {operation: search, metric: latency, statistic: p95, limit: "< 500 ms"}
  - {operation: recommendations, metric: latency, statistic: p95, limit: "< 800 ms"}
  - {id: bp, operation: "*", metric: breaking_point, limit: "%s", window: 10s, scenarios: [stress]}
"""


def _ramp(tmp_path: Path, search_breaks_at_s: int | None) -> Path:
    """A 100 s ramp of 10 → 110 arrivals/s; search answers in 50 ms, then 900 ms from
    `search_breaks_at_s`; recommendations answer in 100 ms throughout (2 per second)."""
    plan = open_plan(operations=("search", "recommendations"))
    run = SyntheticRun(tmp_path / "run", plan)
    for second in range(100):
        slow = search_breaks_at_s is not None and second >= search_breaks_at_s
        run.add("search", second, [900.0 if slow else 50.0] * (10 + second))
        run.add("recommendations", second, [100.0, 100.0])
    return run.finish()


def _check(tmp_path: Path, run_dir: Path, limit: str) -> Check:
    path = tmp_path / "sla.yaml"
    path.write_text(SLA % limit)
    verdict = evaluate(read_judged_run(run_dir), load_sla(path))
    return next(check for check in verdict.checks if check.id == "bp")


def test_the_breaking_point_is_the_load_of_the_last_window_before_the_break(
    tmp_path: Path,
) -> None:
    run_dir = _ramp(tmp_path, search_breaks_at_s=65)
    check = _check(tmp_path, run_dir, ">= 60 rps")
    # window [50, 60) held at (60..69 search + 2 recommendations) per second = 66.5 rps;
    # window [60, 70) broke: half its search requests took 900 ms
    assert check.measured == pytest.approx(66.5)
    assert check.status == "pass"
    assert check.unit == "rps"
    assert "search: held up to 66.5 rps" in check.message
    assert "search.latency.p95 broke at 76.5 rps" in check.message
    assert "recommendations: held throughout" in check.message
    assert "planned arrivals 65/s" in check.message


def test_a_breaking_point_below_the_limit_fails(tmp_path: Path) -> None:
    check = _check(tmp_path, _ramp(tmp_path, search_breaks_at_s=30), ">= 60 rps")
    assert check.status == "fail"
    assert check.measured == pytest.approx(36.5)


def test_a_run_that_never_broke_reports_the_highest_load_it_held(tmp_path: Path) -> None:
    check = _check(tmp_path, _ramp(tmp_path, search_breaks_at_s=None), ">= 60 rps")
    assert check.status == "pass"
    assert check.measured == pytest.approx(106.5)
    assert check.message.startswith("never broke")


def test_the_planned_rate_follows_the_ramp() -> None:
    plan = open_plan(stages=(("a", 10.0, 0.0, 100.0), ("b", 10.0, 100.0, 100.0)))
    assert planned_rate_per_s(plan, 5.0) == pytest.approx(50.0)
    assert planned_rate_per_s(plan, 15.0) == pytest.approx(100.0)
    assert planned_rate_per_s(plan, 25.0) is None
