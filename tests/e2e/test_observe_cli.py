"""Server metrics as a user gets them: `perfctl serve`, `perfctl prometheus`, then
`perfctl run --prometheus-url` and `perfctl evaluate`, all as subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from harness.observe._local_prometheus import PROMETHEUS_BINARY
from harness.plan import StagePlan
from harness.run._target import find_free_port
from harness.spec import plan_run
from tests.e2e.conftest import interruptible
from tests.harness.observe._support import scraped_once, wait_for

PERFCTL = str(Path(sys.executable).with_name("perfctl"))

SLA = """version: 1
name: observe-e2e
scaling:
  tasks: {min_instances: 1, max_instances: 2, target_cpu: 70 %, target_memory: 75 %, scale_out_cooldown: 60s}
components:
  gateway: {operation: "*", runs_on: tasks, throughput: {burst: ">= 100000 rps"}}
kpis:
  cpu: {metric: cpu, statistic: mean, limit: "< 70 %", warn: "<= 85 %"}
  memory: {metric: memory, statistic: mean, limit: "< 80 %", warn: "<= 90 %"}
"""


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in reversed(processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.skipif(not Path(PROMETHEUS_BINARY).is_file(), reason="prometheus not installed")
def test_serve_prometheus_run_evaluate(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    backend = f"http://127.0.0.1:{find_free_port()}"
    prometheus_port = find_free_port()
    started.append(
        subprocess.Popen(
            [PERFCTL, "serve", "--port", backend.rsplit(":", 1)[1], "--catalog-size", "300"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=interruptible,
        )
    )
    started.append(
        subprocess.Popen(
            [PERFCTL, "prometheus", "--port", str(prometheus_port), "--target", backend],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=interruptible,
        )
    )
    prometheus = f"http://127.0.0.1:{prometheus_port}"
    wait_for(f"{backend}/ready", deadline_s=60)
    wait_for(f"{prometheus}/-/ready", deadline_s=30)
    scraped_once(prometheus)
    # the smoke scenario, cut to 6 s so the test stays short
    plan = plan_run("smoke", profile="smoke")
    stage = StagePlan("steady", 0.0, 6.0, users_start=5, users_end=5, spawn_rate_per_s=50.0)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(replace(plan, stages=(stage,), warmup_s=1.0).to_dict()))
    sla = tmp_path / "sla.yaml"
    sla.write_text(SLA)
    run = subprocess.run(
        [
            PERFCTL, "run", str(plan_file), "--target", backend, "--sla", str(sla),
            "--prometheus-url", prometheus, "--prometheus-auth", "ops:do-not-store",
            "--out", str(tmp_path / "reports"), "--run-id", "e1", "--quiet",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    run_dir = tmp_path / "reports" / "e1"
    info = json.loads((run_dir / "server.json").read_text())
    assert info["source"] == "prometheus"
    assert info["samples"] > 0
    judged = subprocess.run(
        [PERFCTL, "evaluate", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert judged.returncode == 0, judged.stdout + judged.stderr
    verdict = json.loads((run_dir / "verdict.json").read_text())
    checks = {check["id"]: check for check in verdict["checks"]}
    assert checks["kpi.cpu"]["status"] == "pass"
    assert checks["kpi.cpu"]["measured"] is not None
    assert checks["kpi.memory"]["status"] == "pass"
    assert "Capacity estimate from this run's CPU" in judged.stdout
    assert verdict["capacity"]["components"][0]["name"] == "gateway"
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert "do-not-store" not in path.read_text(errors="replace"), path
