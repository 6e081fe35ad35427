"""The verdict's intervals hold the truth on the calibration target, through the real CLI.

`tests/harness/verdict/test_interval_coverage.py` proves the intervals' coverage by
simulation. Here the whole chain is measured instead: real Locust processes drive the
calibration target's `GET /lognormal/{p50}/{p99}` (latency drawn from a lognormal of known
median and p99), `perfctl run` judges p50, p95 and p99, and the distribution's true
quantiles lie inside the 95 % intervals written to verdict.json. The target draws from a
fixed seed and this module starts its own target, so the sample is the same in every run:
the check cannot flake, and its coverage across samples is the simulation's business.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from statistics import NormalDist

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
MEDIAN_MS = 200.0
P99_MS = 800.0
QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
RATE_PER_S = 60
DURATION_S = 12

SCENARIO = f"""\
version: 1
title: Calibration target, lognormal latency
model: open
arrivals: uniform
max_concurrency: 200
sla: false
stages:
  - {{name: ramp, duration: 1s, rate: {RATE_PER_S}/s}}
  - {{name: steady, duration: {DURATION_S}s, rate: {RATE_PER_S}/s}}
journeys:
  lognormal:
    weight: 1
    steps:
      - {{operation: lognormal, method: GET, path: /lognormal/{MEDIAN_MS:g}/{P99_MS:g}}}
objectives:
  - {{id: median, operation: lognormal, metric: latency, statistic: p50, limit: "< 60000 ms"}}
  - {{id: p95, operation: lognormal, metric: latency, statistic: p95, limit: "< 60000 ms"}}
  - {{id: p99, operation: lognormal, metric: latency, statistic: p99, limit: "< 60000 ms"}}
"""


def _true_quantile_ms(q: float) -> float:
    """The lognormal's quantile: its median times exp(sigma z_q), sigma from the p99."""
    z = NormalDist().inv_cdf
    sigma = math.log(P99_MS / MEDIAN_MS) / z(0.99)
    return MEDIAN_MS * math.exp(sigma * z(q))


def test_the_true_quantiles_lie_inside_the_reported_intervals(
    tmp_path: Path, target_url: str
) -> None:
    scenario = tmp_path / "lognormal.yaml"
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
            "calibration",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 3), done.stdout + done.stderr
    verdict = json.loads((tmp_path / "calibration" / "verdict.json").read_text())
    checks = {check["statistic"]: check for check in verdict["checks"]}
    for statistic, q in QUANTILES.items():
        check = checks[statistic]
        truth = _true_quantile_ms(q)
        assert check["samples"] >= 0.9 * RATE_PER_S * DURATION_S, check
        assert check["confidence"] == 0.95, check
        assert check["ci_low"] <= truth <= check["ci_high"], (statistic, truth, check)
        # an interval, not a point: both ends apart from the value, and not absurdly wide
        assert check["ci_low"] < check["measured"] < check["ci_high"], check
        assert check["ci_high"] - check["ci_low"] < 0.5 * truth, check
