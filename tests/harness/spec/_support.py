"""Helpers of the spec tests: small valid documents and a runner that goes through `main()`."""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from harness import cli

REPO = Path(__file__).resolve().parents[3]

VALID_SLA: dict[str, Any] = {
    "version": 1,
    "name": "shop",
    "monitoring": {"response_time": {"every": "1m"}, "throughput": {"every": "5m"}},
    "tiers": {
        "critical": {"availability": "99.95 %", "rto": "15m", "rpo": "5m", "severity": "critical"}
    },
    "services": {
        "product_search": {
            "title": "Product Search",
            "tier": "critical",
            "latency": {"p50": "< 200 ms", "p95": "< 500 ms"},
            "error_rate": "< 0.1 %",
        }
    },
    "components": {
        "api_gateway": {
            "operation": "*",
            "runs_on": "gateway",
            "throughput": {"target": ">= 100 rps", "peak": ">= 500 rps"},
        }
    },
    "scaling": {
        "gateway": {
            "min_instances": 2,
            "max_instances": 50,
            "target_cpu": "70 %",
            "target_memory": "80 %",
            "scale_out_cooldown": "300s",
        }
    },
    "kpis": {
        "cpu": {"metric": "cpu", "limit": "< 70 %", "warn": "<= 85 %"},
    },
    "objectives": [
        {
            "operation": "product_search",
            "metric": "latency",
            "statistic": "p99",
            "limit": "< 1 s",
            "abort": {"after": "30s"},
            "baseline": "<= +10 %",
        }
    ],
}

VALID_SCENARIO: dict[str, Any] = {
    "version": 1,
    "model": "closed",
    "warmup": "10s",
    "stages": [
        {"name": "ramp-up", "duration": "10s", "users": 10},
        {"name": "steady", "duration": "1m", "users": 10},
    ],
    "journeys": {
        "search": {"weight": 3, "think_time": "1s..2s"},
        "flow": {
            "weight": 1,
            "variables": {"user_id": {"range": [1, 5]}},
            "steps": [
                {
                    "operation": "cart_view",
                    "method": "GET",
                    "path": "/api/cart/{user_id}",
                    "check": {"status": [200]},
                    "extract": {"first": "items.0.product_id"},
                },
                {
                    "operation": "product_detail",
                    "path": "/api/products/{first}",
                    "think_time": "1s",
                },
            ],
        },
    },
    "profiles": {"quick": {"duration": "10s", "max_users": 2}},
}


def valid_sla() -> dict[str, Any]:
    return copy.deepcopy(VALID_SLA)


def valid_scenario() -> dict[str, Any]:
    return copy.deepcopy(VALID_SCENARIO)


@dataclass(frozen=True)
class Outcome:
    """What the `perfctl` console script did: exit code and both streams."""

    code: int
    stdout: str
    stderr: str


def run_main(*args: str) -> Outcome:
    """Run `harness.cli.main()` (the console script's entry) with `args`, in-process.

    CliRunner.invoke would call `app` and bypass the one error catch in `main()`; this runs
    main itself inside CliRunner's stream isolation. Any exception other than SystemExit
    escapes, so a traceback fails the calling test.
    """
    runner = CliRunner()
    saved = sys.argv
    with runner.isolation() as streams:
        sys.argv = ["perfctl", *args]
        try:
            cli.main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        finally:
            sys.argv = saved
        stdout, stderr = streams[0].getvalue(), streams[1].getvalue()
    return Outcome(code, stdout.decode(), stderr.decode())
