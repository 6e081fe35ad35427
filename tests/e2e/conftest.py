"""Real processes for the engine's end-to-end tests: a target with known latency, and the
engine started exactly as harness/run/_load_generators.py starts it (local, or master and workers)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.engine import ENGINE_LOCUSTFILE
from harness.plan import RunPlan
from harness.run._load_generators import locust_command
from harness.timeline import Timeline, read_timeline

TARGET_APP = Path(__file__).resolve().parent / "_target_app.py"


def interruptible() -> None:
    """`preexec_fn` of a child the test stops with SIGINT (Ctrl-C): Python ignores SIGINT in a
    process that inherited it ignored, as children of a background shell job do, and such a
    child would outlive the test's SIGINT until its kill timeout."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {deadline_s} s")


@contextlib.contextmanager
def serving(script: Path, ready_path: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """A test server (`python SCRIPT PORT`) on a free loopback port, its URL once
    `ready_path` answers 200; stopped at the end."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}{ready_path}", 15)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def target_url() -> Iterator[str]:
    """The known-latency target (tests/e2e/_target_app.py) on a free loopback port."""
    with serving(TARGET_APP, "/health") as url:
        yield url


ADMIN_TOKEN = "engine-tests"


@pytest.fixture(scope="module")
def backend_url() -> Iterator[str]:
    """The real reference backend (`perfctl serve --admin-token ...`) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "serve",
            "--port",
            str(port),
            "--admin-token",
            ADMIN_TOKEN,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/ready", 60)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def set_faults(backend: str, faults: list[dict[str, object]]) -> None:
    """Replaces the backend's injected faults (admin API)."""
    request = urllib.request.Request(
        f"{backend}/admin/faults",
        data=json.dumps({"faults": faults}).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def fetch_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


class EngineRun:
    """The engine's Locust processes for one plan, started like the runner starts them."""

    def __init__(self, plan: RunPlan, run_dir: Path, target: str, workers: int = 0) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir
        plan_file = run_dir / "plan.json"
        plan_file.write_text(json.dumps(plan.to_dict()))
        env = {
            **os.environ,
            "PERFCTL_PLAN_FILE": str(plan_file),
            "PERFCTL_RUN_DIR": str(run_dir),
            "LOCUST_HOST": target,
            "PYTHONUNBUFFERED": "1",
        }
        logs = run_dir / "logs"
        logs.mkdir(exist_ok=True)
        if workers == 0:
            commands = [("local", locust_command(ENGINE_LOCUSTFILE, "local"))]
        else:
            port = free_port()
            commands = [
                (
                    "master",
                    locust_command(
                        ENGINE_LOCUSTFILE, "master", expect_workers=workers, master_port=port
                    ),
                )
            ]
            commands += [
                (
                    f"worker-{n}",
                    locust_command(ENGINE_LOCUSTFILE, f"worker-{n}", master_port=port),
                )
                for n in range(1, workers + 1)
            ]
        self.processes: list[subprocess.Popen[bytes]] = []
        for role, command in commands:
            with (logs / f"{role}.log").open("wb") as log:
                self.processes.append(
                    subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
                )

    @property
    def primary(self) -> subprocess.Popen[bytes]:
        return self.processes[0]

    def wait(self, timeout_s: float) -> Timeline:
        """Waits for every process to exit and returns the run's timeline."""
        deadline = time.monotonic() + timeout_s
        try:
            for process in self.processes:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        finally:
            for process in self.processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        return read_timeline(self.run_dir)


@pytest.fixture
def start_engine(tmp_path: Path) -> Iterator[Callable[..., EngineRun]]:
    """Starts the engine: `start_engine(plan, target_url, workers=0, name="run")`."""
    runs: list[EngineRun] = []

    def start(plan: RunPlan, target: str, workers: int = 0, name: str = "run") -> EngineRun:
        run = EngineRun(plan, tmp_path / name, target, workers)
        runs.append(run)
        return run

    yield start
    for run in runs:
        for process in run.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
