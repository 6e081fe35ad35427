"""`perfctl run --baseline` against the reference backend: the first run on main creates the
baseline, more passing runs join it, and a run with a latency injected on one route exits 1
with that route flagged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import set_faults

pytestmark = pytest.mark.slow  # alone: with 3 baseline runs, a neighbour's load widens the band

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
SCENARIO = """\
version: 1
title: Baseline gate
model: open
arrivals: uniform
max_concurrency: 100
warmup: 2s
sla: false
stages:
  - {name: steady, duration: 10s, rate: 30/s}
journeys:
  search: {weight: 1, think_time: 0}
  browse: {weight: 1, think_time: 0}
objectives:
  - {operation: "*", metric: error_rate, limit: "< 5 %"}
"""


def _run(
    scenario: Path, target: str, out: Path, name: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            PERFCTL,
            "run",
            str(scenario),
            "--target",
            target,
            "--out",
            str(out),
            "--run-id",
            name,
            "--quiet",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_latency_injected_on_one_route_fails_the_run_against_its_baseline(
    tmp_path: Path, backend_url: str
) -> None:
    scenario = tmp_path / "gate.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "reports"
    first = _run(scenario, backend_url, out, "main-1", "--baseline", "main", "--baseline-update")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "baseline main: none yet" in first.stdout
    assert "run added (1 runs)" in first.stdout
    for name in ("main-2", "main-3"):
        assert _run(scenario, backend_url, out, name).returncode == 0
    added = subprocess.run(
        [
            PERFCTL,
            "baseline",
            "add",
            "main",
            str(out / "main-2"),
            str(out / "main-3"),
            "--dir",
            str(out / "baselines"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    set_faults(backend_url, [{"route": "product_search", "latency": {"kind": "fixed", "ms": 25}}])
    try:
        slowed = _run(scenario, backend_url, out, "slowed", "--baseline", "main")
    finally:
        set_faults(backend_url, [])
    assert slowed.returncode == 1, slowed.stdout + slowed.stderr
    assert "PASS" in slowed.stdout  # the SLA held: the regression alone fails the run
    assert "❌ REGRESSION" in slowed.stdout
    check = json.loads((out / "slowed" / "baseline.json").read_text(encoding="utf-8"))
    assert check["method"] == "between_runs"
    assert check["baseline_runs"] == 3
    flagged = {(f["operation"], f["figure"]) for f in check["figures"] if f["regression"]}
    assert ("product_search", "p50_ms") in flagged
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Red crosses: the 1 runs" in index
