"""`perfctl run` as CI runs it: the verdict decides the exit code, even when the run is cut short."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.harness.run._support import start_tiny_target

PERFCTL = str(Path(sys.executable).with_name("perfctl"))

FLOW_SCENARIO = """\
version: 1
title: Root flow
model: closed
sla: false
stages:
  - {name: early, duration: 4s, users: 4}
  - {name: late, duration: %(late_s)ds, users: 4}
journeys:
  root:
    weight: 1
    think_time: 0.05s
    steps:
      - {operation: root, method: GET, path: /}
objectives:
%(objectives)s
"""


def _scenario(tmp_path: Path, objectives: str, late_s: int) -> Path:
    path = tmp_path / "flow.yaml"
    path.write_text(FLOW_SCENARIO % {"objectives": objectives, "late_s": late_s})
    return path


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


def test_a_sustained_breach_aborts_the_run_and_fails_the_gate(tmp_path: Path) -> None:
    scenario = _scenario(
        tmp_path,
        "  - {id: impossible, operation: root, metric: latency, statistic: p50, "
        'limit: "< 0.001 ms", abort: {after: 3s}}',
        late_s=60,
    )
    url, server = start_tiny_target()
    started = time.monotonic()
    try:
        done = subprocess.run(
            [
                PERFCTL,
                "run",
                str(scenario),
                "--target",
                url,
                "--out",
                str(tmp_path),
                "--run-id",
                "breach",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.kill()
        server.wait()
    assert done.returncode == 1, done.stdout + done.stderr
    assert time.monotonic() - started < 45  # stopped long before the 64 s plan ended
    record = _json(tmp_path / "breach" / "run.json")
    assert record["status"] == "aborted"
    assert record["exit_reason"].startswith("abort on breach: impossible broke < 0.001 ms for 3s")
    verdict = _json(tmp_path / "breach" / "verdict.json")
    assert verdict["status"] == "fail"
    assert any("abort on breach" in reason for reason in verdict["reasons"])
    assert (tmp_path / "breach" / "index.html").is_file()


def test_a_target_that_stops_answering_fails_availability_with_no_latency(tmp_path: Path) -> None:
    scenario = _scenario(
        tmp_path,
        '  - {operation: root, metric: latency, statistic: p50, limit: "< 1000 ms", scope: late}\n'
        '  - {operation: root, metric: availability, limit: ">= 99 %", scope: late}',
        late_s=6,
    )
    url, server = start_tiny_target()
    process = subprocess.Popen(
        [
            PERFCTL,
            "run",
            str(scenario),
            "--target",
            url,
            "--out",
            str(tmp_path),
            "--run-id",
            "gone",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "gone" / "timeline.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        server.kill()  # the target dies during the first stage
        server.wait()
        stdout, stderr = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, stdout + stderr
    checks = {
        check["metric"]: check for check in _json(tmp_path / "gone" / "verdict.json")["checks"]
    }
    assert checks["latency"]["status"] == "no_data"
    assert checks["availability"]["status"] == "fail"
    assert checks["availability"]["measured"] == 0.0
