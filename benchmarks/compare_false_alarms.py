"""How often `perfctl compare` calls two runs of the same code a regression, and whether it
finds a real one.

Starts the reference backend (`perfctl serve --admin-token T --port P`) and makes `--runs`
runs of `perfctl run normal --profile ci --target URL` against it, one after another: the same
commit on the same backend, whose state moves from run to run. Every pair is compared (the
earlier run as the base) and the pairs that `perfctl compare` would exit 1 on are counted; the
goal is at most ~5 % (the comparison as a whole holds its false-alarm rate at 1 - confidence).

Then a fixed latency is injected into one operation (`PUT /admin/faults`, product_search
+5 ms: its p50 is ~2-3 ms, so the change is above both the 10 % threshold and the 1 ms
floor), `--slowed-runs` more runs are made, and every slowed run is compared with every
normal one (normal as the base): the goal is every pair flagged, on product_search.

The machine's one-minute load average is printed for every run: on a shared machine a run
slowed by other processes differs for real, and no statistics can tell that from a
regression. Comparisons call `harness.compare._comparison.compare_runs`, the function behind
`perfctl compare` (exit 1 exactly when it lists a regression), in this process.

    .venv/bin/python benchmarks/compare_false_alarms.py [--runs 10] [--slowed-runs 2]
        [--profile ci] [--keep DIR]

About 75 s a run with the ci profile: ~15 minutes for the defaults.
"""

from __future__ import annotations

import argparse
import itertools
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

from harness.compare._comparison import Comparison, compare_runs

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
SLOWED_OPERATION = "product_search"
ADDED_MS = 5.0


@dataclass(frozen=True, slots=True)
class Run:
    """One finished run."""

    name: str
    """Run id (directory name)."""
    path: Path
    """Run directory."""
    exit_code: int
    """`perfctl run`'s exit code (0 pass, 1 SLA failed)."""
    load_1m: float
    """One-minute load average when the run ended."""
    wall_s: float
    """How long `perfctl run` took."""


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


def make_run(name: str, target: str, profile: str, out: Path) -> Run:
    started = time.monotonic()
    command = [PERFCTL, "run", "normal", "--profile", profile, "--target", target]
    command += ["--out", str(out), "--run-id", name, "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode not in (0, 1):
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"{name}: perfctl run exited {result.returncode}: {' / '.join(tail)}")
    run = Run(name, out / name, result.returncode, os.getloadavg()[0], time.monotonic() - started)
    print(f"  {name}: exit {run.exit_code}, {run.wall_s:.0f} s, load {run.load_1m:.2f}", flush=True)
    return run


def flagged(comparison: Comparison) -> list[str]:
    return [
        f"{change.operation} {change.figure} {change.relative:+.0%}"
        if change.relative is not None
        else f"{change.operation} {change.figure}"
        for change in comparison.regressions
    ]


def compare(base: Run, new: Run) -> Comparison:
    return compare_runs(base.path, new.path, max_regression=0.10, confidence=0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--slowed-runs", type=int, default=2)
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--keep", type=Path, help="Keep the run directories here.")
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="compare-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    token, port = secrets.token_hex(8), free_port()
    target = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PERFCTL, "serve", "--port", str(port), "--admin-token", token],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    began = time.monotonic()
    try:
        wait_until_answers(f"{target}/health")
        print(f"{args.runs} runs of normal --profile {args.profile} against {target}", flush=True)
        normal = [make_run(f"same-{i:02d}", target, args.profile, out) for i in range(args.runs)]
        set_faults(
            target,
            token,
            [{"route": SLOWED_OPERATION, "latency": {"kind": "fixed", "ms": ADDED_MS}}],
        )
        print(f"{args.slowed_runs} runs with {SLOWED_OPERATION} +{ADDED_MS:g} ms", flush=True)
        slowed = [
            make_run(f"slow-{i:02d}", target, args.profile, out) for i in range(args.slowed_runs)
        ]
    finally:
        server.terminate()
        server.wait(30)

    print("\nsame commit, every pair (earlier run as the base):", flush=True)
    pairs = list(itertools.combinations(normal, 2))
    false_alarms, tested = 0, []
    for base, new in pairs:
        comparison = compare(base, new)
        tested.append(comparison.tested)
        if comparison.regressions:
            false_alarms += 1
            print(f"  {base.name} -> {new.name}: REGRESSION {', '.join(flagged(comparison))}")
    print(
        f"  {false_alarms} of {len(pairs)} pairs flagged ({false_alarms / len(pairs):.1%}; "
        f"goal <= ~5 %); {min(tested)}-{max(tested)} figures tested per comparison",
        flush=True,
    )

    print(f"\n{SLOWED_OPERATION} +{ADDED_MS:g} ms: every slowed run against every normal one:")
    detected, on_operation, missed = 0, 0, []
    for base, new in itertools.product(normal, slowed):
        comparison = compare(base, new)
        detected += bool(comparison.regressions)
        if any(change.operation == SLOWED_OPERATION for change in comparison.regressions):
            on_operation += 1
        else:
            missed.append(f"{base.name} -> {new.name}")
    total = len(normal) * len(slowed)
    print(f"  {detected} of {total} pairs flagged, {on_operation} of {total} on {SLOWED_OPERATION}")
    for pair in missed:
        print(f"  missed: {pair}")
    for base, new in itertools.combinations(slowed, 2):
        comparison = compare(base, new)
        verdict = (
            "REGRESSION " + ", ".join(flagged(comparison)) if comparison.regressions else "none"
        )
        print(f"  slowed vs slowed {base.name} -> {new.name}: {verdict}")
    loads = [run.load_1m for run in (*normal, *slowed)]
    print(
        f"\nload average over the runs: {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} "
        f"cores; {time.monotonic() - began:.0f} s in all; run directories in {out}"
    )
    if args.keep is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
