"""Engine benchmark: perfctl's engine against plain Locust, worker scaling, master memory.

Prints three figures, each against a baseline measured in the same run on this machine:
1. RPS of perfctl's engine / RPS of a plain Locust FastHttpUser, same target, same users
   (goal >= 0.9);
2. RPS with 2 workers / RPS with 1 worker against nginx (goal >= 1.7 on a machine with
   the cores for it);
3. master peak RSS for a long run / for a short run (goal: about 1.0).

Needs Debian's nginx (installed when missing). Usage:
    python benchmarks/engine_bench.py [--seconds 10] [--long-s 180] [--short-s 30]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.engine import ENGINE_LOCUSTFILE  # noqa: E402
from harness.plan import JourneyPlan, RunPlan, Scale, StagePlan, StepPlan  # noqa: E402
from harness.run._load_generators import locust_command  # noqa: E402
from harness.timeline import read_timeline  # noqa: E402

PLAIN_LOCUSTFILE = """
from locust import FastHttpUser, constant, task


class PlainUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def hit(self):
        self.client.get("/", name="hit")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_nginx() -> str:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
            check=True,
            env=env,
        )
    return binary


def start_nginx(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(
        textwrap.dedent(
            f"""
            daemon off;
            worker_processes 1;
            pid {workdir}/nginx.pid;
            error_log {workdir}/nginx-error.log;
            events {{ worker_connections 4096; }}
            http {{
                access_log off;
                keepalive_requests 1000000;
                server {{
                    listen 127.0.0.1:{port};
                    location / {{ return 200 "ok\\n"; }}
                }}
            }}
            """
        )
    )
    process = subprocess.Popen([ensure_nginx(), "-c", str(conf), "-p", str(workdir)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("nginx did not start")


def closed_plan(users: int, seconds: float) -> RunPlan:
    return RunPlan(
        scenario="bench",
        profile="bench",
        scale=Scale(),
        model="closed",
        stages=(
            StagePlan(
                "hold", 0.0, seconds, users_start=users, users_end=users, spawn_rate_per_s=users
            ),
        ),
        journeys=(
            JourneyPlan(
                name="hit",
                weight=1.0,
                kind="flow",
                think_time_min_s=0.0,
                think_time_max_s=0.0,
                steps=(StepPlan(operation="hit", method="GET", path="/"),),
            ),
        ),
    )


def open_plan(rate_per_s: float, seconds: float) -> RunPlan:
    plan = closed_plan(1, seconds)
    return RunPlan(
        scenario="bench",
        profile="bench",
        scale=Scale(),
        model="open",
        stages=(
            StagePlan("hold", 0.0, seconds, rate_start_per_s=rate_per_s, rate_end_per_s=rate_per_s),
        ),
        journeys=plan.journeys,
        arrivals="poisson",
    )


def run_engine(
    plan: RunPlan, target: str, run_dir: Path, workers: int = 0, watch_master: bool = False
) -> tuple[float, int]:
    """Runs the engine like the runner does; returns (RPS over the plan, master peak RSS)."""
    run_dir.mkdir(parents=True)
    plan_file = run_dir / "plan.json"
    plan_file.write_text(json.dumps(plan.to_dict()))
    env = {
        **os.environ,
        "PERFCTL_PLAN_FILE": str(plan_file),
        "PERFCTL_RUN_DIR": str(run_dir),
        "LOCUST_HOST": target,
    }
    if workers == 0:
        commands = [locust_command(ENGINE_LOCUSTFILE, "local")]
    else:
        port = free_port()
        commands = [
            locust_command(ENGINE_LOCUSTFILE, "master", expect_workers=workers, master_port=port)
        ]
        commands += [
            locust_command(ENGINE_LOCUSTFILE, f"worker-{n}", master_port=port)
            for n in range(1, workers + 1)
        ]
    processes = [
        subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for c in commands
    ]
    peak_rss = 0
    master = psutil.Process(processes[0].pid)
    while processes[0].poll() is None:
        if watch_master:
            with contextlib.suppress(psutil.Error):
                peak_rss = max(peak_rss, master.memory_info().rss)
        time.sleep(0.5)
    for process in processes:
        process.wait(timeout=60)
    timeline = read_timeline(run_dir)
    span = timeline.time_range()
    assert span is not None, f"no requests recorded in {run_dir}"
    start = span[0] + 1
    return timeline.achieved_rps(None, start, start + int(plan.duration_s) - 2), peak_rss


def run_plain(target: str, users: int, seconds: float, workdir: Path) -> float:
    """Plain Locust, FastHttpUser, no perfctl: RPS from its own JSON statistics."""
    locustfile = workdir / "plain_locustfile.py"
    locustfile.write_text(PLAIN_LOCUSTFILE)
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{int(seconds)}s",
            "--host",
            target,
            "--only-summary",
            "--json",
            "--exit-code-on-error",
            "0",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.monotonic() - started
    stats = json.loads(result.stdout)
    requests = sum(int(entry["num_requests"]) for entry in stats)
    return requests / min(seconds, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each RPS run")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--long-s", type=float, default=180.0)
    parser.add_argument("--short-s", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=300.0, help="open-model rate for memory runs")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="perfctl-engine-bench-"))
    nginx, target = start_nginx(workdir)
    try:
        plain, engine = [], []
        for index in range(args.rounds):
            plain.append(run_plain(target, args.users, args.seconds, workdir))
            rps, _ = run_engine(
                closed_plan(args.users, args.seconds), target, workdir / f"engine-{index}"
            )
            engine.append(rps)
        ratio = statistics.median(engine) / statistics.median(plain)
        print(
            f"1. closed model, {args.users} users x {args.seconds:g} s against nginx, {args.rounds} rounds each (median):"
        )
        print(
            f"   plain Locust FastHttpUser {statistics.median(plain):8.0f} req/s   {[round(x) for x in plain]}"
        )
        print(
            f"   perfctl engine            {statistics.median(engine):8.0f} req/s   {[round(x) for x in engine]}"
        )
        print(f"   ratio perfctl / plain     {ratio:8.2f}   (goal >= 0.9)")

        users = args.users * 2
        one, two = [], []
        for index in range(args.rounds):
            plan = closed_plan(users, args.seconds)
            one.append(run_engine(plan, target, workdir / f"one-{index}", workers=1)[0])
            two.append(run_engine(plan, target, workdir / f"two-{index}", workers=2)[0])
        scaling = statistics.median(two) / statistics.median(one)
        print(
            f"2. closed model, {users} users x {args.seconds:g} s against nginx, "
            f"master + N workers, {args.rounds} rounds each (median):"
        )
        print(f"   1 worker  {statistics.median(one):8.0f} req/s   {[round(x) for x in one]}")
        print(f"   2 workers {statistics.median(two):8.0f} req/s   {[round(x) for x in two]}")
        print(
            f"   ratio     {scaling:8.2f}   (goal >= 1.7; this machine has {os.cpu_count()} "
            "cores for nginx, the master and the workers)"
        )

        _, short_rss = run_engine(
            open_plan(args.rate, args.short_s),
            target,
            workdir / "short",
            workers=1,
            watch_master=True,
        )
        _, long_rss = run_engine(
            open_plan(args.rate, args.long_s),
            target,
            workdir / "long",
            workers=1,
            watch_master=True,
        )
        print(f"3. master peak RSS, open model {args.rate:g}/s, 1 worker:")
        print(f"   {args.short_s:g} s run  {short_rss / 2**20:7.1f} MiB")
        print(f"   {args.long_s:g} s run {long_rss / 2**20:7.1f} MiB")
        print(f"   ratio long / short {long_rss / short_rss:6.2f}   (goal: about 1.0)")
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
