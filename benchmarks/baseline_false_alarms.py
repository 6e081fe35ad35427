"""How often `perfctl run --baseline` calls a run of the same code a regression, and whether it
finds a real one.

Starts the reference backend (`perfctl serve --admin-token T --port P`) and makes `--runs`
runs of a short open-model scenario (search and browse journeys, 40 arrivals/s for 25 s, 3 s
of warm-up: ~1,700 requests a run) against it, one after another: the same commit on the same
backend, whose state moves from run to run. They become the baseline `bench`
(`perfctl baseline add`), and each run is then judged against the others by the between-run
test (harness/compare/_between_runs.py), at the default confidence (0.95) and thresholds
(10 %, 1 ms, 0.5 points, 1 request/s):

- leave-one-out: every run against the other `runs - 1`;
- sequential: run k against the runs before it (k >= 3), as a baseline grows on main.

The goal is at most 5 % of the comparisons flagged. Each tested figure's one-sided p-value is
kept too: under the test's model about 5 % of them fall under 0.05, a check that the
between-run spread is what the test assumes.

Then product_search is slowed by `--added-ms` (5 ms: its p50 is ~2 ms, so the change is far
above both the 10 % threshold and the 1 ms floor) with fault injection
(`PUT /admin/faults`), and `--slowed-runs` runs go through the real gate,
`perfctl run ... --baseline bench`: each must exit 1 with product_search flagged. Every
slowed run is also judged against every leave-one-out subset of the baseline. The goal is
100 % detected.

    .venv/bin/python benchmarks/baseline_false_alarms.py [--runs 10] [--slowed-runs 3]
        [--added-ms 5] [--keep DIR]

About 30 s a run: ~7 minutes for the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from harness.compare._baseline import read_run_figures
from harness.compare._between_runs import baseline_bands, check_figures
from harness.rundir import BaselineRun, BaselineSettings, FigureCheck, read_baseline

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
SLOWED_OPERATION = "product_search"
BASELINE = "bench"
SCENARIO = """\
version: 1
title: Baseline benchmark
model: open
arrivals: uniform
max_concurrency: 200
warmup: 3s
sla: false
stages:
  - {name: steady, duration: 25s, rate: 40/s}
journeys:
  search: {weight: 1, think_time: 0}
  browse: {weight: 1, think_time: 0}
objectives:
  - {operation: "*", metric: error_rate, limit: "< 5 %"}
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One finished run."""

    name: str
    path: Path
    exit_code: int
    load_1m: float
    """One-minute load average when the run ended."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answers(url: str, deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {deadline_s:g} s")


def set_faults(base_url: str, token: str, faults: list[dict[str, object]]) -> None:
    request = urllib.request.Request(
        f"{base_url}/admin/faults",
        data=json.dumps({"faults": faults}).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise SystemExit(f"PUT /admin/faults answered {response.status}")


def make_run(name: str, scenario: Path, target: str, out: Path, *extra: str) -> Run:
    started = time.monotonic()
    command = [PERFCTL, "run", str(scenario), "--target", target, "--out", str(out)]
    command += ["--run-id", name, "--quiet", *extra]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode not in (0, 1):
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"{name}: perfctl run exited {result.returncode}: {' / '.join(tail)}")
    run = Run(name, out / name, result.returncode, os.getloadavg()[0])
    wall_s = time.monotonic() - started
    print(f"  {name}: exit {run.exit_code}, {wall_s:.0f} s, load {run.load_1m:.2f}", flush=True)
    return run


def judged(baseline: list[BaselineRun], new: BaselineRun) -> list[FigureCheck]:
    """The between-run test of `new` against `baseline`, at the default settings."""
    bands = baseline_bands(baseline, BaselineSettings())
    return check_figures(baseline, bands, new.operations)


def named(figures: list[FigureCheck]) -> str:
    return ", ".join(f"{f.operation} {f.figure}" for f in figures if f.regression)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--slowed-runs", type=int, default=3)
    parser.add_argument("--added-ms", type=float, default=5.0)
    parser.add_argument("--keep", type=Path, help="Keep the run directories here.")
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="baseline-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    scenario = out / "bench.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    baselines = out / "baselines"
    token, port = secrets.token_hex(8), free_port()
    target = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PERFCTL, "serve", "--port", str(port), "--admin-token", token],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    began = time.monotonic()
    gate = ["--baseline", BASELINE, "--baseline-dir", str(baselines)]
    try:
        wait_until_answers(f"{target}/ready")
        print(f"{args.runs} runs of the same commit against {target}", flush=True)
        normal = [make_run(f"same-{i:02d}", scenario, target, out) for i in range(args.runs)]
        added = subprocess.run(
            [
                PERFCTL,
                "baseline",
                "add",
                BASELINE,
                *(str(r.path) for r in normal),
                "--dir",
                str(baselines),
                "--keep",
                str(args.runs),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if added.returncode != 0:
            raise SystemExit(f"perfctl baseline add exited {added.returncode}: {added.stderr}")
        fault = {"route": SLOWED_OPERATION, "latency": {"kind": "fixed", "ms": args.added_ms}}
        set_faults(target, token, [fault])
        print(
            f"{args.slowed_runs} runs with {SLOWED_OPERATION} +{args.added_ms:g} ms, gated by "
            f"perfctl run --baseline {BASELINE}",
            flush=True,
        )
        slowed = [
            make_run(f"slow-{i:02d}", scenario, target, out, *gate) for i in range(args.slowed_runs)
        ]
    finally:
        server.terminate()
        server.wait(30)

    manifest = read_baseline(baselines, BASELINE)
    assert manifest is not None
    runs = list(manifest.runs)
    print(f"\nsame commit, leave-one-out (each run against the other {len(runs) - 1}):")
    flagged, p_values, tested = 0, [], []
    for index, run in enumerate(runs):
        figures = judged(runs[:index] + runs[index + 1 :], run)
        tested.append(sum(f.tested for f in figures))
        p_values += [f.p_value for f in figures if f.tested and f.p_value is not None]
        if any(f.regression for f in figures):
            flagged += 1
            print(f"  {run.run_id}: REGRESSION {named(figures)}")
    print(
        f"  {flagged} of {len(runs)} runs flagged ({flagged / len(runs):.0%}; stated rate "
        f"<= 5 %); {min(tested)}-{max(tested)} figures tested a run"
    )
    below = sum(p < 0.05 for p in p_values)
    print(
        f"  per figure: {below} of {len(p_values)} one-sided p-values below 0.05 "
        f"({below / len(p_values):.1%}; the model expects ~5 %)"
    )
    print("same commit, sequential (run k against the runs before it, k >= 3):")
    sequential = [judged(runs[:k], runs[k]) for k in range(3, len(runs))]
    flagged_seq = sum(any(f.regression for f in figures) for figures in sequential)
    print(f"  {flagged_seq} of {len(sequential)} runs flagged")

    print(f"\n{SLOWED_OPERATION} +{args.added_ms:g} ms:")
    gated = sum(run.exit_code == 1 for run in slowed)
    print(f"  perfctl run --baseline {BASELINE}: {gated} of {len(slowed)} runs exit 1")
    caught, total = 0, 0
    for run in slowed:
        check = json.loads((run.path / "baseline.json").read_text(encoding="utf-8"))
        on_operation = [
            f"{f['figure']} {f['value']:.2f} (limit {f['limit']:.2f})"
            for f in check["figures"]
            if f["regression"] and f["operation"] == SLOWED_OPERATION
        ]
        print(
            f"  {run.name}: {check['method']}, flagged on {SLOWED_OPERATION}: "
            f"{'; '.join(on_operation) or 'NOTHING'}"
        )
        new = read_run_figures(run.path)
        for index in range(len(runs)):
            figures = judged(runs[:index] + runs[index + 1 :], new)
            total += 1
            caught += any(f.regression and f.operation == SLOWED_OPERATION for f in figures)
    print(
        f"  against every leave-one-out baseline: {caught} of {total} flagged on "
        f"{SLOWED_OPERATION} ({caught / total:.0%}; goal 100 %)"
    )
    loads = [run.load_1m for run in (*normal, *slowed)]
    print(
        f"\nload average over the runs: {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} "
        f"cores; {time.monotonic() - began:.0f} s in all; run directories in {out}"
    )
    if args.keep is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
