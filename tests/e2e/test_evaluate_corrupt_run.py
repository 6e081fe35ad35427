"""`perfctl evaluate` on a corrupt, truncated or killed run directory, as a CI job runs it.

Every corrupt artefact is exit 3 with one line naming the file, the line and the field; a run
whose perfctl was killed is judged on what it measured, never passes, and exits 3.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.rundir import EndCause, RunnerProcess, read_run_record, write_run_record
from tests.harness._synthetic_run import SyntheticRun, simple_plan

PERFCTL = str(Path(sys.executable).with_name("perfctl"))

SLA = """version: 1
name: e2e
objectives:
  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms", severity: high}
  - {operation: search, metric: error_rate, limit: "< 1 %"}
"""


def _perfctl(*args: str | Path, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCTL, *map(str, args)], capture_output=True, text=True, timeout=timeout_s, check=False
    )


@pytest.fixture
def sla_file(tmp_path: Path) -> Path:
    path = tmp_path / "sla.yaml"
    path.write_text(SLA)
    return path


def _completed(tmp_path: Path) -> Path:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(120), 10, 50.0)
    return run.finish()


def _engine_lost(tmp_path: Path) -> Path:
    """A run whose engine died before engine.json: nothing to check the files against."""
    run_dir = _completed(tmp_path)
    (run_dir / "engine.json").unlink()
    record = read_run_record(run_dir)
    failed = replace(
        record, status="failed", end_cause=EndCause.ENGINE_FAILED, engine=None, exit_reason="x"
    )
    write_run_record(run_dir, failed)
    return run_dir


def _killed(tmp_path: Path) -> Path:
    """A run whose perfctl was killed -9 with its engine: run.json still says running."""
    run_dir = _engine_lost(tmp_path)
    record = read_run_record(run_dir)
    gone = RunnerProcess(pid=os.getpid(), hostname=socket.gethostname(), started_at=1.0)
    running = replace(
        record,
        status="running",
        end_cause=None,
        ended_at=None,
        duration_s=None,
        exit_reason="load running",
        runner=gone,
    )
    write_run_record(run_dir, running)
    return run_dir


def _edit_line(run_dir: Path, number: int, change: Callable[[dict[str, Any]], object]) -> None:
    path = run_dir / "timeline.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    line = json.loads(lines[number - 1])
    change(line)
    lines[number - 1] = json.dumps(line) + "\n"
    path.write_text("".join(lines))


def _edit_record(run_dir: Path, **changes: object) -> None:
    path = run_dir / "run.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}, indent=2))


def _assert_one_line_error(result: subprocess.CompletedProcess[str], pattern: str) -> None:
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert re.search(pattern, lines[0]), lines[0]


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda line: line.clear() or line.update(t=1), r"timeline\.jsonl:7: op is missing"),
        (
            lambda line: line.update(latency_us="not-base64!"),
            r"timeline\.jsonl:7: latency_us must be an HDR histogram in base64",
        ),
        (
            lambda line: line["counts"].update(http_4xx="x"),
            r"timeline\.jsonl:7: counts\.http_4xx must be a non-negative integer, got 'x'",
        ),
        (
            lambda line: line["counts"].update(http_5xx=-50),
            r"timeline\.jsonl:7: counts\.http_5xx must be a non-negative integer, got -50",
        ),
    ],
    ids=["no-op", "histogram-not-base64", "count-not-a-number", "negative-count"],
)
def test_a_malformed_timeline_line_is_exit_3_naming_file_line_and_field(
    tmp_path: Path, sla_file: Path, change: Callable[[dict[str, Any]], object], pattern: str
) -> None:
    """Old code: KeyError 'op' / binascii / ValueError tracebacks (exit 1), and negative counts
    judged as PASS. Without engine.json the line itself must be checked."""
    run_dir = _engine_lost(tmp_path)
    _edit_line(run_dir, 7, change)
    _assert_one_line_error(_perfctl("evaluate", run_dir, "--sla", sla_file), pattern)


def test_a_changed_line_of_a_completed_run_is_caught_by_the_engines_tally(
    tmp_path: Path, sla_file: Path
) -> None:
    run_dir = _completed(tmp_path)
    _edit_line(run_dir, 7, lambda line: line["counts"].update(http_5xx=-50))
    result = _perfctl("evaluate", run_dir, "--sla", sla_file)
    _assert_one_line_error(result, r"timeline\.jsonl: .* bytes, but the engine wrote")


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"status": 123}, r"run\.json:\d+: status must be one of .*got 123"),
        ({"interrupted": "no"}, r"run\.json:\d+: interrupted must be true or false, got 'no'"),
    ],
    ids=["status-123", "interrupted-no"],
)
def test_a_malformed_run_record_is_exit_3(
    tmp_path: Path, sla_file: Path, changes: dict[str, object], pattern: str
) -> None:
    """Old code: `"status": 123` exit 1, `"interrupted": "no"` exit 130."""
    run_dir = _completed(tmp_path)
    _edit_record(run_dir, **changes)
    _assert_one_line_error(_perfctl("evaluate", run_dir, "--sla", sla_file), pattern)


def test_a_timeline_cut_mid_line_with_half_its_lines_gone_is_exit_3(
    tmp_path: Path, sla_file: Path
) -> None:
    """Old code: PASS, exit 0, no warning."""
    run_dir = _completed(tmp_path)
    path = run_dir / "timeline.jsonl"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    result = _perfctl("evaluate", run_dir, "--sla", sla_file)
    _assert_one_line_error(result, r"timeline\.jsonl: .* bytes, but the engine wrote .* lines")
    assert not (run_dir / "verdict.json").exists()


def test_a_killed_run_is_judged_never_passes_and_exits_3(tmp_path: Path, sla_file: Path) -> None:
    """Old code: exit 1, "the run is running". What was measured is judged, the verdict says
    perfctl was killed and names the cut-off last line."""
    run_dir = _killed(tmp_path)
    path = run_dir / "timeline.jsonl"
    path.write_text(path.read_text()[:-40])  # the engine died mid-line
    result = _perfctl("evaluate", run_dir, "--sla", sla_file)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["run_status"] == "killed"
    assert verdict["status"] != "pass"
    assert verdict["exit_code"] == 3
    reasons = " ".join(verdict["reasons"])
    assert "perfctl was killed during the run" in reasons
    assert "timeline.jsonl:120: the last line was cut off mid-write" in reasons
    judged = {check["id"]: check for check in verdict["checks"]}
    assert judged["search.latency.p95"]["samples"] > 1000  # what was measured is not lost


def test_a_run_still_going_is_refused_with_exit_3(tmp_path: Path, sla_file: Path) -> None:
    run_dir = _killed(tmp_path)
    record = read_run_record(run_dir)
    write_run_record(run_dir, replace(record, runner=RunnerProcess.this_process()))
    result = _perfctl("evaluate", run_dir, "--sla", sla_file)
    _assert_one_line_error(result, r"the run is still running \(perfctl pid \d+")


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def test_a_real_run_killed_with_sigkill_is_judged_and_exits_3(tmp_path: Path) -> None:
    """`kill -9` of perfctl and everything it started, mid-run: evaluate judges what was
    measured and exits 3, never 1 ("the run is running") and never 0."""
    out = tmp_path / "reports"
    runner = subprocess.Popen(
        [PERFCTL, "run", "smoke", "--profile", "smoke", "--out", str(out), "--run-id", "k"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    run_dir = out / "k"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            load = run_dir / "load.jsonl"
            if load.exists() and load.read_text().count("\n") >= 4:
                break
            assert runner.poll() is None, "the run ended before it could be killed"
            time.sleep(0.2)
        else:
            pytest.fail("the run never recorded four seconds of load")
        children = _descendants(runner.pid)
        runner.send_signal(signal.SIGKILL)
        for pid in children:  # what a CI runner's cancel does to the whole job
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    record = read_run_record(run_dir)
    assert record.status == "running"
    assert record.runner is not None
    assert record.runner.pid == runner.pid
    result = _perfctl("evaluate", run_dir)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["run_status"] == "killed"
    assert verdict["status"] != "pass"
    assert any("perfctl was killed during the run" in reason for reason in verdict["reasons"])
    assert any(check["samples"] for check in verdict["checks"])
