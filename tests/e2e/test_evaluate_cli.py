"""perfctl evaluate and compare as a CI job runs them: a subprocess, its exit code, its files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.spec import plan_run
from tests.harness._synthetic_run import SyntheticRun, simple_plan

pytestmark = pytest.mark.parallel_safe

PERFCTL = str(Path(sys.executable).with_name("perfctl"))

SLA = """version: 1
name: e2e
objectives:
  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", severity: high}
  - {operation: search, metric: availability, limit: ">= 99 %"}
"""


def _perfctl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCTL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def sla_file(tmp_path: Path) -> Path:
    path = tmp_path / "sla.yaml"
    path.write_text(SLA)
    return path


def _run(tmp_path: Path, name: str, latency_ms: float, **finish: object) -> Path:
    run = SyntheticRun(tmp_path / name, simple_plan()).steady("search", range(120), 10, latency_ms)
    return run.finish(**finish)  # type: ignore[arg-type]


def test_a_met_sla_exits_0_and_writes_the_three_files(tmp_path: Path, sla_file: Path) -> None:
    run_dir = _run(tmp_path, "good", 50.0)
    result = _perfctl("evaluate", run_dir, "--sla", sla_file)
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stdout
    for name in ("verdict.json", "junit.xml", "summary.md"):
        assert (run_dir / name).is_file()
    assert json.loads((run_dir / "verdict.json").read_text())["status"] == "pass"


def test_a_broken_sla_exits_1_naming_the_check(tmp_path: Path, sla_file: Path) -> None:
    result = _perfctl("evaluate", _run(tmp_path, "slow", 900.0), "--sla", sla_file)
    assert result.returncode == 1
    assert "search.latency.p95" in result.stdout
    assert "FAIL" in result.stdout


def test_an_interrupted_run_stays_130(tmp_path: Path, sla_file: Path) -> None:
    run_dir = _run(tmp_path, "stopped", 50.0, status="aborted", interrupted=True)
    assert _perfctl("evaluate", run_dir, "--sla", sla_file).returncode == 130


def test_a_missing_run_exits_3_with_one_line(tmp_path: Path, sla_file: Path) -> None:
    result = _perfctl("evaluate", tmp_path / "nope", "--sla", sla_file)
    assert result.returncode == 3
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_corrupt_timeline_exits_3(tmp_path: Path, sla_file: Path) -> None:
    run_dir = _run(tmp_path, "corrupt", 50.0)
    lines = (run_dir / "timeline.jsonl").read_text().splitlines(keepends=True)
    lines.insert(1, "{not json\n")
    (run_dir / "timeline.jsonl").write_text("".join(lines))
    result = _perfctl("evaluate", run_dir, "--sla", sla_file)
    assert result.returncode == 3
    assert "corrupt" in result.stderr


def test_a_malformed_sla_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nname: x\nobjectives:\n  - {operation: search, metric: latency, limit: fast}\n"
    )
    result = _perfctl("evaluate", _run(tmp_path, "any", 50.0), "--sla", bad)
    assert result.returncode == 2
    assert "bad.yaml:4" in result.stderr
    assert "Traceback" not in result.stderr


def test_compare_exits_1_on_a_regression_and_0_without(tmp_path: Path) -> None:
    base, same, slower = (
        _run(tmp_path, "base", 100.0),
        _run(tmp_path, "same", 100.0),
        _run(tmp_path, "slower", 150.0),
    )
    assert _perfctl("compare", base, same).returncode == 0
    result = _perfctl("compare", base, slower, "--max-regression", "10%")
    assert result.returncode == 1
    assert "REGRESSION" in result.stdout
    assert json.loads((slower / "compare.json").read_text())["regression"] is True


def test_a_misspelt_operation_is_a_spec_error_not_a_pass(tmp_path: Path) -> None:
    """Issue 10: an SLA that `run` and `sla lint` reject passed `evaluate --strict`."""
    run = SyntheticRun(tmp_path / "smoke", plan_run("smoke", "smoke"))
    run_dir = run.steady("product_search", range(4, 20), 10, 50.0).finish()
    sla = tmp_path / "typo.yaml"
    sla.write_text(
        "version: 1\nname: typo\nobjectives:\n"
        '  - {operation: product_search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
        '  - {operation: prodcut_search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'
    )
    result = _perfctl("evaluate", run_dir, "--sla", sla, "--strict")
    assert result.returncode == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert "prodcut_search" in result.stderr
    assert "closest: 'product_search'" in result.stderr
