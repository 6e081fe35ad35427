"""How long a one-hour run's report takes to render, and how big the page is.

Synthesises a run directory of 3,600 one-second windows × 10 operations (every window a real
HDR histogram), then times, in the same process:
- the baseline: reading the timeline once (json lines into the verdict's index), and
- the report: `write_run_page` (read, decode every histogram once, figures, template).
Goals from issue 6: under 10 s and a page under 5 MB (plotly.js is a separate shared file).

    .venv/bin/python benchmarks/report_bench.py [--seconds 3600] [--operations 10] [--open] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from harness.plan import JourneyPlan, RunPlan, Scale, StagePlan
from harness.report._data import read_run_data
from harness.report._run_page import write_run_page
from harness.report._series import build_series
from harness.rundir import EndCause, RunRecord, open_run_dir, write_run_record
from harness.timeline import (
    EngineSummary,
    LoadSample,
    RunDirWriter,
    WindowRecord,
    read_engine_summary,
)
from harness.verdict import Measurements

START_T = 1_800_000_000
OPERATIONS = (
    "product_search",
    "product_detail",
    "category_list",
    "recommendations",
    "inventory_check",
    "price_lookup",
    "cart_add",
    "order_processing",
    "payment_processing",
    "customer_support",
)


def synthesise(
    run_dir: Path, seconds: int, operations: int, per_window: int, open_model: bool
) -> None:
    """A run that ramps, holds and ramps down; lognormal latencies, a few errors; the open
    model records service time too (twice the histograms)."""
    rng = random.Random(1)
    ops = [
        OPERATIONS[i % len(OPERATIONS)] + ("" if i < len(OPERATIONS) else f"_{i}")
        for i in range(operations)
    ]
    third = seconds / 3
    plan = RunPlan(
        scenario="endurance",
        profile="bench",
        scale=Scale(),
        model="closed",
        stages=(
            StagePlan("ramp-up", 0.0, third, users_start=0, users_end=500),
            StagePlan("steady", third, third, users_start=500, users_end=500),
            StagePlan("ramp-down", 2 * third, third, users_start=500, users_end=0),
        ),
        journeys=(JourneyPlan("mix", 1.0, "builtin", operations=tuple(ops)),),
        warmup_s=60.0,
        target="http://127.0.0.1:8000",
    )
    writer = RunDirWriter(run_dir)
    scales = {op: rng.uniform(2.0, 5.5) for op in ops}
    for second in range(seconds):
        records = []
        for op in ops:
            record = WindowRecord(START_T + second, op)
            for _ in range(per_window):
                latency = rng.lognormvariate(scales[op], 0.5)
                service = latency * 0.8 if open_model else None
                record.record("ok", latency, service_ms=service, response_bytes=800)
            if rng.random() < 0.02:
                record.record("http_5xx", 900.0, error="HTTP 503 Service Unavailable")
            records.append(record)
        writer.append_windows(records)
        writer.append_load(
            LoadSample(
                t=START_T + second,
                stage="steady",
                users=500,
                planned_arrivals=None,
                started_arrivals=None,
                dropped_arrivals=0,
                achieved_rps=float(per_window * len(ops)),
                workers=2,
                cpu_percent={"master": 5.0, "worker-1": 60.0, "worker-2": 62.0},
            )
        )
    writer.write_engine(
        EngineSummary("completed", "plan finished", float(START_T), float(START_T + seconds))
    )
    writer.close()
    write_run_record(
        run_dir,
        RunRecord(
            run_id=run_dir.name,
            status="completed",
            scenario="endurance",
            profile="bench",
            target=plan.target,
            target_embedded=False,
            plan=plan.to_dict(),
            scale=plan.to_dict()["scale"],
            planned_duration_s=plan.duration_s,
            started_at="2027-01-15T08:00:00.000Z",
            workers_expected=2,
            versions={},
            host={},
            ended_at="2027-01-15T09:00:00.000Z",
            duration_s=float(seconds),
            exit_reason="the plan finished",
            engine=read_engine_summary(run_dir),
            end_cause=EndCause.PLAN_FINISHED,
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--operations", type=int, default=10)
    parser.add_argument("--requests-per-window", type=int, default=20)
    parser.add_argument("--open", action="store_true", help="Open model: service time too.")
    parser.add_argument("--keep", type=Path, help="Write the run here and keep it.")
    args = parser.parse_args()

    parent = args.keep or Path(tempfile.mkdtemp(prefix="perfctl-report-bench-"))
    run_dir = parent / "bench-run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    began = time.perf_counter()
    synthesise(run_dir, args.seconds, args.operations, args.requests_per_window, args.open)
    timeline_mb = (run_dir / "timeline.jsonl").stat().st_size / 1e6
    print(
        f"synthesised {args.seconds} s × {args.operations} operations"
        f"{' (open model)' if args.open else ''} "
        f"({timeline_mb:.1f} MB timeline) in {time.perf_counter() - began:.1f} s"
    )

    began = time.perf_counter()
    Measurements(open_run_dir(run_dir))
    baseline_s = time.perf_counter() - began
    print(f"baseline: read the timeline once (verdict index)  {baseline_s:6.2f} s")

    began = time.perf_counter()
    data = read_run_data(run_dir)
    read_s = time.perf_counter() - began
    began = time.perf_counter()
    build_series(data)
    series_s = time.perf_counter() - began
    print(f"  report's read (index, errors, load, verdict)    {read_s:6.2f} s")
    print(f"  decode every histogram once, bin, percentiles    {series_s:6.2f} s")

    began = time.perf_counter()
    page = write_run_page(run_dir)
    render_s = time.perf_counter() - began
    size_mb = page.stat().st_size / 1e6
    print(f"report: write_run_page end to end                 {render_s:6.2f} s  (goal < 10 s)")
    print(f"page size                                         {size_mb:6.2f} MB (goal < 5 MB)")
    print(f"ratio report / baseline                           {render_s / baseline_s:6.1f} ×")
    if args.keep is None:
        shutil.rmtree(parent)
    else:
        print(f"kept: {page}")


if __name__ == "__main__":
    main()
