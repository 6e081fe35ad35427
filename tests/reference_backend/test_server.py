"""`perfctl serve` as a real subprocess: ready line, clean stops, one-line errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess

import httpx
import psutil
import pytest

from harness.errors import EXIT_RUN
from tests.reference_backend._infra import PERFCTL, REPO, ServeProcess, free_port

pytestmark = pytest.mark.slow


def run_serve(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCTL, "serve", *args], capture_output=True, text=True, timeout=timeout_s, cwd=REPO
    )


def test_serve_prints_its_url_answers_and_stops_cleanly_on_ctrl_c() -> None:
    server = ServeProcess("--catalog-size", "200")
    try:
        assert server.ready_line.startswith(f"perfctl backend ready at {server.url} ")
        assert httpx.get(f"{server.url}/ready").status_code == 200
        assert httpx.get(f"{server.url}/health").status_code == 200
    finally:
        code = server.stop(signal.SIGINT)
    assert code == 0
    assert "Traceback" not in server.stderr_text()


def test_sigterm_stops_every_worker_and_removes_the_work_directory() -> None:
    server = ServeProcess("--workers", "2", "--catalog-size", "200")
    try:
        children = psutil.Process(server.process.pid).children(recursive=True)
        workers = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
        assert len(workers) == 2
        metrics_dir = workers[0].environ()["PROMETHEUS_MULTIPROC_DIR"]
        assert os.path.isdir(metrics_dir)
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    assert not os.path.exists(metrics_dir)


def test_a_port_in_use_is_a_one_line_error_with_exit_3() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve("--port", str(port))
    assert result.returncode == EXIT_RUN
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database-url", "mysql://root@localhost/shop"], "must be a postgresql:// URL"),
        (["--redis-url", "http://127.0.0.1:6379"], "--redis-url 'http://127.0.0.1:6379'"),
        (["--host", "no-such-host.invalid"], "cannot listen on no-such-host.invalid"),
    ],
)
def test_bad_settings_are_one_line_errors_with_exit_3(args: list[str], message: str) -> None:
    result = run_serve("--port", str(free_port()), *args)
    assert result.returncode == EXIT_RUN
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]


@pytest.mark.postgres
def test_an_unreachable_database_is_a_one_line_error_with_exit_3() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    result = run_serve("--port", str(free_port()), "--database-url", url)
    assert result.returncode == EXIT_RUN
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot prepare the database")
