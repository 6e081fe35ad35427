"""`perfctl run` against a target too slow for the journey slots: the arrivals it made the
engine drop are the target's failure (FAIL, exit 1), never an inconclusive generator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PERFCTL = str(Path(sys.executable).with_name("perfctl"))

SCENARIO = """\
version: 1
title: A slow target and two journey slots
model: open
arrivals: uniform
max_concurrency: 2
sla: false
stages:
  - {name: steady, duration: 8s, rate: 20/s}
journeys:
  slow:
    weight: 1
    steps:
      - {operation: slow, method: GET, path: /fixed/500}
objectives:
  - {operation: slow, metric: latency, statistic: p50, limit: "< 5000 ms"}
  - {operation: slow, metric: error_rate, limit: "< 1 %"}
  - {operation: slow, metric: availability, limit: ">= 99 %"}
"""


def test_arrivals_the_target_caused_to_drop_fail_the_gate(tmp_path: Path, target_url: str) -> None:
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(SCENARIO)
    done = subprocess.run(
        [
            PERFCTL,
            "run",
            str(scenario),
            "--target",
            target_url,
            "--out",
            str(tmp_path),
            "--run-id",
            "slow",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    verdict = json.loads((tmp_path / "slow" / "verdict.json").read_text())
    checks = {check["metric"]: check for check in verdict["checks"]}
    assert checks["latency"]["status"] == "pass"
    assert checks["error_rate"]["status"] == "fail"
    assert checks["availability"]["status"] == "fail"
    # two slots of 0.5 s requests start about 4 of the 20 arrivals a second
    assert checks["error_rate"]["measured"] > 0.5
    assert verdict["status"] == "fail"
    assert any(
        "dropped because the target kept all 2 journey slots" in r for r in verdict["reasons"]
    )
    assert not any("load generator delivered" in r for r in verdict["reasons"])
