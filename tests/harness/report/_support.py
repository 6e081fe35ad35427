"""Run directories for report tests: known requests, errors, load, server metrics and a verdict."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.plan import JourneyPlan, RunPlan, Scale, StagePlan
from harness.spec._sla import load_sla
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._outputs import write_verdict
from tests.harness._synthetic_run import START_T, SyntheticRun

EVIL = "<script>alert(1)</script>"
"""An operation name that must render as text."""
SECRET_TARGET = "http://user:pass@127.0.0.1:1/?token=abc"
SECRET_WORDS = ("user:pass@", "token=abc", "hunter2", "sekrit-bearer")
"""Strings of the secrets planted in a rich run; none may appear in any artefact."""
ERROR_MESSAGE = "HTTP 503 from http://admin:hunter2@db.internal/x <b>boom</b>"

SLA = """version: 1
name: report tests
objectives:
  - {operation: product_search, metric: latency, statistic: p95, limit: "< 20 ms", severity: high}
  - {operation: product_search, metric: latency, statistic: p50, limit: "< 500 ms"}
  - {operation: order_processing, metric: error_rate, limit: "< 0.1 %", severity: critical}
  - {operation: "*", metric: latency, statistic: p99, limit: "< 40 ms", warn: "< 5000 ms"}
  - {operation: "EVIL", metric: latency, statistic: p95, limit: "< 5000 ms"}
""".replace("EVIL", EVIL)

FAILED_CHECKS = ("product_search.latency.p95", "order_processing.error_rate")
WARNED_CHECKS = ("*.latency.p99",)


def shop_plan(*, model: str = "closed", target: str = SECRET_TARGET) -> RunPlan:
    """Three stages, 5 s of warm-up, the built-in shopping journeys and one evil operation."""
    stages = (
        StagePlan("ramp-up", 0.0, 20.0, users_start=0, users_end=10),
        StagePlan("steady", 20.0, 30.0, users_start=10, users_end=10),
        StagePlan("ramp-down", 50.0, 10.0, users_start=10, users_end=0),
    )
    if model == "open":
        stages = tuple(
            replace(s, users_start=None, users_end=None, rate_start_per_s=5.0, rate_end_per_s=5.0)
            for s in stages
        )
    journeys = (
        JourneyPlan("browse", 2.0, "builtin", operations=("category_list", "product_detail")),
        JourneyPlan("search", 1.0, "builtin", operations=("product_search", "product_detail")),
        JourneyPlan(
            "checkout",
            1.0,
            "builtin",
            operations=("product_search", "cart_add", "order_processing"),
        ),
        JourneyPlan("evil", 0.5, "builtin", operations=(EVIL,)),
    )
    return RunPlan(
        scenario="shop",
        profile="test",
        scale=Scale(),
        model=model,  # type: ignore[arg-type]
        stages=stages,
        journeys=journeys,
        warmup_s=5.0,
        target=target,
        tags={"api_token": "sekrit-bearer", "branch": "main"},
    )


def rich_run(
    parent: Path,
    name: str = "run-a",
    *,
    model: str = "closed",
    evaluated: bool = True,
    server: bool = True,
    capacity: dict[str, Any] | None = None,
    slow_ms: float = 30.0,
    started_at: str = "2027-01-15T08:00:00.000Z",
) -> Path:
    """A 60-second run of the shop plan with every artefact the report reads."""
    rng = random.Random(7)
    run = SyntheticRun(parent / name, shop_plan(model=model))
    open_model = model == "open"

    def latencies(n: int, mu: float) -> list[float]:
        return [rng.lognormvariate(mu, 0.4) for _ in range(n)]

    for second in range(60):
        for op, n, ms in (
            ("product_search", 20, slow_ms),
            ("category_list", 10, 8.0),
            ("product_detail", 15, 12.0),
            ("cart_add", 4, 15.0),
            ("order_processing", 3, 80.0),
            (EVIL, 2, 5.0),
        ):
            values = latencies(n, math.log(ms))
            service = [v * 0.8 for v in values] if open_model else None
            run.add(op, second, values, service_ms=service)
        if second % 5 == 0:
            run.add("order_processing", second, [900.0], "http_5xx", error=ERROR_MESSAGE)
        if second % 7 == 0:
            run.add("product_search", second, [30000.0], "timeout", error="timed out after 30 s")
        for journey, n in (("browse", 4), ("search", 2), ("checkout", 1), ("evil", 1)):
            run.add(f"journey.{journey}", second, latencies(n, 5.0))
        run.load(
            second,
            stage="steady",
            users=None if open_model else 10,
            planned_arrivals=5 if open_model else None,
            started_arrivals=4 if open_model else None,
            dropped_arrivals=1 if open_model else 0,
            achieved_rps=55.0,
            cpu_percent={"local": 35.0 + second % 10},
        )
    run.event("stage_started", 20, "stage steady started")
    run.event("worker_joined", 1, f"worker-1 joined, loading {SECRET_TARGET}")
    run.event("worker_lost", 30, "worker-2 stopped reporting")
    run_dir = run.finish()
    record = json.loads((run_dir / "run.json").read_text())
    record.update(
        started_at=started_at,
        duration_s=60.0,
        versions={"perfctl": "0.1.0", "locust": "2.x", "python": "3.11"},
        host={"hostname": "loadgen-1", "cpu_count": 2},
        exit_reason="the plan finished",
        tags={"api_token": "sekrit-bearer", "branch": "main"},
        processes=[{"role": "local", "pid": 42, "log": "logs/local.log", "exit_code": 0}],
    )
    (run_dir / "run.json").write_text(json.dumps(record))
    if server:
        _server_metrics(run_dir)
    if evaluated:
        sla_path = parent / "sla.yaml"
        sla_path.write_text(SLA)
        write_verdict(run_dir, evaluate(read_judged_run(run_dir), load_sla(sla_path)))
        if capacity is not None:
            data = json.loads((run_dir / "verdict.json").read_text())
            data["capacity"] = capacity
            (run_dir / "verdict.json").write_text(json.dumps(data))
    return run_dir


def _server_metrics(run_dir: Path) -> None:
    lines = []
    for second in range(60):
        t = START_T + second + 0.5
        for metric, labels, value in (
            ("cpu_ratio", {}, 0.4 + second / 200),
            ("memory_ratio", {}, 0.3),
            ("cache_hit_ratio", {"cache_type": "product"}, 0.9),
            ("cache_hit_ratio", {"cache_type": EVIL}, 0.5),
            ("db_pool_in_use", {}, 3.0),
            ("db_pool_size", {}, 10.0),
            ("breaker_state", {"dependency": "payments"}, 2.0 if 30 <= second < 35 else 0.0),
            ("orders_per_s", {}, 2.0),
            ("revenue_cents_per_s", {}, 5000.0),
            ("payment_declines_per_s", {}, 0.5),
        ):
            lines.append(json.dumps({"t": t, "metric": metric, "labels": labels, "value": value}))
    (run_dir / "server.jsonl").write_text("\n".join(lines) + "\n")
    (run_dir / "server.json").write_text(
        json.dumps(
            {"source": "scrape", "url": f"{SECRET_TARGET}metrics", "interval_s": 1.0, "errors": []}
        )
    )
