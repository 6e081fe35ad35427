"""perfctl report and perfctl reports serve as a person runs them: subprocesses, exit codes, files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.harness.report._support import rich_run

pytestmark = pytest.mark.parallel_safe

PERFCTL = str(Path(sys.executable).with_name("perfctl"))


def _perfctl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCTL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def test_report_writes_the_run_page_and_the_index_and_prints_the_path(tmp_path: Path) -> None:
    run_dir = rich_run(tmp_path, server=False)
    result = _perfctl("report", run_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"report: {run_dir / 'index.html'}"
    assert (run_dir / "index.html").is_file()
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "plotly.min.js").is_file()


def test_report_on_a_missing_run_is_one_line_and_exit_3(tmp_path: Path) -> None:
    result = _perfctl("report", tmp_path / "nope")
    assert result.returncode == 3
    assert result.stderr.strip() == f"error: {tmp_path / 'nope'}: no such run directory"
    assert "Traceback" not in result.stderr


def _wait_for_line(process: subprocess.Popen[str], deadline_s: float) -> str:
    deadline = time.monotonic() + deadline_s
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            return line.strip()
        if process.poll() is not None:
            break
    raise AssertionError(f"no output before exit {process.poll()}")


def test_reports_serve_serves_the_directory_on_loopback_until_ctrl_c(tmp_path: Path) -> None:
    run_dir = rich_run(tmp_path, server=False)
    assert _perfctl("report", run_dir).returncode == 0
    process = subprocess.Popen(
        [PERFCTL, "reports", "serve", "--port", "0", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = _wait_for_line(process, 30)
        assert line.startswith(f"serving {tmp_path} at http://127.0.0.1:")
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert "perfctl runs" in response.read().decode()
        with urllib.request.urlopen(f"{url}run-a/", timeout=10) as response:
            assert 'data-verdict="fail"' in response.read().decode()
        with urllib.request.urlopen(f"{url}plotly.min.js", timeout=10) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_reports_serve_on_a_busy_port_is_a_usage_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _perfctl("reports", "serve", "--port", str(port), "--dir", tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: --port {port} is already in use: choose another port"


def test_reports_serve_without_the_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = _perfctl("reports", "serve", "--dir", tmp_path / "absent")
    assert result.returncode == 2
    assert "no such directory" in result.stderr
