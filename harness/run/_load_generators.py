"""The Locust processes that generate a run's load: one local process, or a master and workers.

Each runs `python -m locust -f harness/engine/locustfile.py` (the engine reads the plan from
PERFCTL_PLAN_FILE and writes into PERFCTL_RUN_DIR) with stdout and stderr in RUN_DIR/logs.
They start in their own session so a Ctrl-C at the terminal reaches perfctl alone, and
perfctl stops them in order: the master first (SIGINT, see `request_stop`: the engine stops
the load and flushes), the workers after it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness.engine import ENGINE_LOCUSTFILE
from harness.errors import EngineError, UsageError
from harness.processes import die_with_parent

DEFAULT_MASTER_PORT = 5557
"""Locust's own default port for workers to reach the master."""

EXPECT_WORKERS_MAX_WAIT_S = 30
"""How long a master waits for its workers to connect before it gives up."""


def parse_master_address(text: str, default_port: int | None) -> tuple[str, int | None]:
    """`HOST[:PORT]` as (host, port); a UsageError for a bad port."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        return text, default_port
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"expected HOST[:PORT] with a port in 1..65535, got {text!r}")
    return host, int(port_text)


@dataclass(frozen=True, slots=True)
class EngineEnvironment:
    """What every engine process is told through its environment."""

    plan_file: Path | None
    """PERFCTL_PLAN_FILE: the plan.json to execute; None for a remote worker, which gets
    the plan from its master."""
    run_dir: Path
    """PERFCTL_RUN_DIR: where the engine writes timeline, load, events and engine.json."""
    target: str
    """LOCUST_HOST: the real target URL (through the environment, not argv, so `ps` shows
    no secret)."""

    def variables(self, role: str) -> dict[str, str]:
        variables = {
            **os.environ,
            "PERFCTL_RUN_DIR": str(self.run_dir),
            "PERFCTL_ROLE": role,
            "PYTHONUNBUFFERED": "1",
        }
        variables.pop("PERFCTL_PLAN_FILE", None)
        if self.plan_file is not None:
            variables["PERFCTL_PLAN_FILE"] = str(self.plan_file)
        if self.target:
            variables["LOCUST_HOST"] = self.target
        return variables


def locust_command(
    locustfile: Path,
    role: str,
    *,
    expect_workers: int = 0,
    master_host: str = "127.0.0.1",
    master_port: int | None = None,
) -> list[str]:
    """The command line of one Locust process: role is local, master or worker-N."""
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--loglevel", "INFO"]
    if role == "local":
        return [*command, "--headless", "--only-summary", "--exit-code-on-error", "0"]
    if master_port is None:
        raise ValueError("a master or worker needs master_port")
    if role == "master":
        return [
            *command,
            "--headless",
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--master",
            "--expect-workers",
            str(expect_workers),
            "--expect-workers-max-wait",
            str(EXPECT_WORKERS_MAX_WAIT_S),
            "--master-bind-host",
            master_host,
            "--master-bind-port",
            str(master_port),
        ]
    return [*command, "--worker", "--master-host", master_host, "--master-port", str(master_port)]


class LocustProcess:
    """One running Locust process and its log."""

    def __init__(self, role: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.role = role
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            try:
                self._popen = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )
            except OSError as error:
                raise EngineError(f"cannot start the Locust {role} process: {error}") from None

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def exit_code(self) -> int | None:
        return self._popen.poll()

    @property
    def running(self) -> bool:
        return self._popen.poll() is None

    def send(self, signum: signal.Signals) -> None:
        """Send `signum` to the process's group (Locust may have children of its own)."""
        if self.running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._popen.pid, signum)

    def wait(self, timeout_s: float) -> bool:
        """True when the process ended within `timeout_s`."""
        try:
            self._popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True

    def request_stop(self) -> None:
        """Ask Locust to stop the load and shut down cleanly (its quitting event runs, so the
        engine flushes). SIGINT, not SIGTERM: a headless run with a load shape waits on the
        shape before Locust installs its SIGTERM handler, so SIGTERM would kill it unflushed,
        while SIGINT is handled at every stage."""
        self.send(signal.SIGINT)

    def stop(self, grace_s: float) -> None:
        """SIGTERM, then SIGKILL after `grace_s`; returns once the process is gone."""
        self.send(signal.SIGTERM)
        if not self.wait(grace_s):
            self.kill()

    def kill(self) -> None:
        self.send(signal.SIGKILL)
        self.wait(5.0)


class LoadGenerators:
    """The Locust processes of one run: `primary` (local or master) and its workers."""

    def __init__(
        self,
        environment: EngineEnvironment,
        logs_dir: Path,
        *,
        workers: int,
        expect_workers: int | None = None,
        master_host: str = "127.0.0.1",
        master_port: int | None = None,
        locustfile: Path = ENGINE_LOCUSTFILE,
    ) -> None:
        if not locustfile.is_file():
            raise EngineError(f"the engine's locustfile {locustfile} is missing")
        self._environment = environment
        self._logs_dir = logs_dir
        self._workers_wanted = workers
        self._expect_workers = workers if expect_workers is None else expect_workers
        self._master_host = master_host
        self._master_port = master_port
        self._locustfile = locustfile
        self.primary: LocustProcess | None = None
        self.workers: list[LocustProcess] = []

    @property
    def processes(self) -> list[LocustProcess]:
        return ([self.primary] if self.primary is not None else []) + self.workers

    def start(self) -> None:
        """Start the local process, or the master and then every worker."""
        if self._expect_workers == 0:
            self.primary = self._spawn("local", locust_command(self._locustfile, "local"))
            return
        self.primary = self._spawn(
            "master",
            locust_command(
                self._locustfile,
                "master",
                expect_workers=self._expect_workers,
                master_host=self._master_host,
                master_port=self._master_port,
            ),
        )
        for number in range(1, self._workers_wanted + 1):
            role = f"worker-{number}"
            command = locust_command(
                self._locustfile,
                role,
                master_host=self._worker_host(),
                master_port=self._master_port,
            )
            self.workers.append(self._spawn(role, command))

    def _worker_host(self) -> str:
        # a master bound to every interface is reached over loopback by local workers
        wildcard = self._master_host in ("", "*", "0.0.0.0", "::")
        return "127.0.0.1" if wildcard else self._master_host

    def _spawn(self, role: str, command: list[str]) -> LocustProcess:
        return LocustProcess(
            role, command, self._environment.variables(role), self._logs_dir / f"{role}.log"
        )

    def stop_workers(self, grace_s: float) -> None:
        """SIGTERM every worker still running, then SIGKILL what is left after `grace_s`."""
        for worker in self.workers:
            worker.send(signal.SIGTERM)
        give_up_at = time.monotonic() + grace_s
        for worker in self.workers:
            if not worker.wait(max(0.0, give_up_at - time.monotonic())):
                worker.kill()

    def kill_all(self) -> None:
        for process in self.processes:
            process.send(signal.SIGKILL)
        for process in self.processes:
            process.wait(2.0)
