"""Shared helpers of the runner's tests: a tiny real target and a tiny plan."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.plan import JourneyPlan, RunPlan, Scale, StagePlan
from harness.run._target import find_free_port, wait_for_target

HERE = Path(__file__).resolve().parent
FAKE_ENGINE = HERE / "_fake_engine.py"


def start_tiny_target() -> tuple[str, subprocess.Popen[bytes]]:
    """A Starlette app under uvicorn on a free loopback port, waited on with a deadline."""
    port = find_free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(HERE),
            "_tiny_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_target(url, deadline_s=20.0)
    except BaseException:
        process.kill()
        raise
    return url, process


@contextmanager
def tiny_target() -> Iterator[str]:
    """`start_tiny_target` for the length of a `with` block."""
    url, process = start_tiny_target()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


def tiny_plan(users: int = 2, run_time_s: float = 4.0) -> RunPlan:
    """One closed-model stage of `users` for `run_time_s` (the stand-in engine's users)."""
    stage = StagePlan(
        name="run",
        start_s=0.0,
        duration_s=run_time_s,
        users_start=users,
        users_end=users,
        spawn_rate_per_s=50.0,
    )
    journey = JourneyPlan(name="root", weight=1.0, kind="flow", operations=("root",))
    return RunPlan(
        scenario="tiny",
        profile="locustfile",
        scale=Scale(),
        model="closed",
        stages=(stage,),
        journeys=(journey,),
        # judged on no SLA: these plans test the runner, not the seed's objectives
        uses_sla=False,
    )


def write_plan(path: Path, plan: RunPlan) -> Path:
    path.write_text(json.dumps(plan.to_dict()))
    return path
