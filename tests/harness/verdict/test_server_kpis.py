"""Server-side objectives judged from RUN_DIR/server.jsonl: CPU and memory per window with
the alert band, memory drift with its significance test, and honest no_data without series."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.spec._sla import Sla, load_sla
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._model import Check
from tests.harness._synthetic_run import SyntheticRun, simple_plan, write_server_series


def _sla(tmp_path: Path, objectives: str) -> Sla:
    path = tmp_path / "sla.yaml"
    path.write_text(f"version: 1\nname: test\nobjectives:\n{objectives}")
    return load_sla(path)


def _check(run_dir: Path, sla: Sla) -> Check:
    verdict = evaluate(read_judged_run(run_dir), sla)
    assert len(verdict.checks) == 1
    return verdict.checks[0]


def _run(tmp_path: Path, seconds: int = 120) -> SyntheticRun:
    plan = simple_plan(stages=(("steady", float(seconds)),))
    return SyntheticRun(tmp_path / "run", plan).steady("search", range(seconds), 5, 20.0)


CPU = '  - {operation: "*", metric: cpu, statistic: mean, limit: "< 70 %", warn: "<= 85 %", window: 1m}\n'


@pytest.mark.parametrize(
    ("second_minute_cpu", "status"),
    [
        (0.40, "pass"),
        (0.69, "pass"),
        (0.75, "warn"),
        (0.85, "warn"),
        (0.86, "fail"),
        (0.99, "fail"),
    ],
)
def test_cpu_is_judged_per_window_with_the_alert_band(
    tmp_path: Path, second_minute_cpu: float, status: str
) -> None:
    run = _run(tmp_path)
    points = [(float(t), "cpu_ratio", 0.30) for t in range(60)]
    points += [(float(t), "cpu_ratio", second_minute_cpu) for t in range(60, 120)]
    write_server_series(run.run_dir, points)
    check = _check(run.finish(), _sla(tmp_path, CPU))
    assert check.status == status
    assert check.measured == pytest.approx(second_minute_cpu)
    assert check.windows_total == 2
    assert check.unit == "ratio"


def test_memory_is_judged_on_the_statistic_asked_for(tmp_path: Path) -> None:
    run = _run(tmp_path)
    # mostly 50 %, one spike to 95 %: the mean passes, the max fails
    points = [(float(t), "memory_ratio", 0.95 if t == 30 else 0.50) for t in range(120)]
    write_server_series(run.run_dir, points)
    run_dir = run.finish()
    mean = (
        '  - {operation: "*", metric: memory, statistic: mean, limit: "< 80 %", warn: "<= 90 %"}\n'
    )
    peak = (
        '  - {operation: "*", metric: memory, statistic: max, limit: "< 80 %", warn: "<= 90 %"}\n'
    )
    assert _check(run_dir, _sla(tmp_path, mean)).status == "pass"
    assert _check(run_dir, _sla(tmp_path, peak)).status == "fail"


def test_without_server_series_the_check_is_no_data_never_pass(tmp_path: Path) -> None:
    check = _check(_run(tmp_path).finish(), _sla(tmp_path, CPU))
    assert check.status == "no_data"
    assert "no server metrics" in check.message


def test_an_objective_with_its_own_query_reads_its_own_series(tmp_path: Path) -> None:
    run = _run(tmp_path)
    default = [(float(t), "cpu_ratio", 0.20) for t in range(120)]
    own = [(float(t), "cpu_ratio", 0.95, {"objective": "my.cpu"}) for t in range(120)]
    write_server_series(run.run_dir, [*default, *own], source="prometheus")
    sla = _sla(
        tmp_path,
        '  - {id: my.cpu, operation: "*", metric: cpu, statistic: mean, limit: "< 70 %", '
        "query: 'avg(rate(my_cpu_seconds_total[1m]))'}\n",
    )
    check = _check(run.finish(), sla)
    assert check.status == "fail"
    assert check.measured == pytest.approx(0.95)


DRIFT = '  - {operation: "*", metric: memory_drift, limit: "< 50 MB/h"}\n'
MB = 1024 * 1024


def _memory(
    growth_mb_per_h: float, seconds: int, noise_mb: float, seed: int = 7
) -> list[tuple[float, str, float]]:
    rng = random.Random(seed)
    return [
        (
            float(t),
            "memory_bytes",
            (200 + growth_mb_per_h * t / 3600 + rng.gauss(0, noise_mb)) * MB,
        )
        for t in range(seconds)
    ]


def test_memory_drift_is_found_in_a_growing_series(tmp_path: Path) -> None:
    run = _run(tmp_path, 600)
    write_server_series(run.run_dir, _memory(growth_mb_per_h=300, seconds=600, noise_mb=2))
    check = _check(run.finish(), _sla(tmp_path, DRIFT))
    assert check.status == "fail"
    assert check.measured == pytest.approx(300, rel=0.15)
    assert "significant" in check.message
    assert check.unit == "mb_per_h"


def test_a_steady_series_shows_no_drift(tmp_path: Path) -> None:
    run = _run(tmp_path, 600)
    write_server_series(run.run_dir, _memory(growth_mb_per_h=0, seconds=600, noise_mb=2))
    check = _check(run.finish(), _sla(tmp_path, DRIFT))
    assert check.status == "pass"
    assert abs(check.measured or 0.0) < 50


def test_a_large_but_noisy_slope_that_is_not_significant_passes(tmp_path: Path) -> None:
    run = _run(tmp_path, 60)
    # four 10 s windows whose means wander 200, 206, 201, 207 MB: the fitted line climbs
    # 576 MB/h, but with p = 0.21 that is no evidence of growth
    levels = (200, 206, 201, 207)
    points = [(float(t), "memory_bytes", levels[t // 10] * MB) for t in range(40)]
    write_server_series(run.run_dir, points)
    check = _check(run.finish(), _sla(tmp_path, DRIFT))
    assert check.status == "pass"
    assert "not significant" in check.message
    assert (check.measured or 0.0) > 50  # the line alone would have failed
