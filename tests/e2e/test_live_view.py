"""`perfctl run --ui PORT` as a user watches it: the page in headless chromium updates during
the run with no console error and links to the report at the end; a real Prometheus
(`perfctl prometheus`) scrapes perfctl's /metrics; a port in use is exit 2 before any load."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from harness.observe._local_prometheus import PROMETHEUS_BINARY
from harness.run._target import find_free_port
from tests.e2e._chromium import CHROMIUM, FLAGS, _devtools_port, _Session, _stop_session
from tests.e2e.conftest import interruptible
from tests.harness.run._support import tiny_target

pytestmark = pytest.mark.parallel_safe

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

SCENARIO = """\
version: 1
title: Live view
model: closed
sla: false
stages:
  - {name: warm, duration: 3s, users: 3}
  - {name: steady, duration: %(steady_s)ds, users: 3}
journeys:
  root:
    weight: 1
    think_time: 0.05s
    steps:
      - {operation: root, method: GET, path: /}
objectives:
  - {id: root-fast, operation: root, metric: latency, statistic: p95, limit: "< 2000 ms"}
"""

PROBE = """(() => {
  const text = (id) => (document.getElementById(id) || {}).textContent || '';
  const link = document.getElementById('report-link');
  const ended = document.getElementById('ended');
  return JSON.stringify({
    updates: Number(document.body.dataset.updates),
    status: text('status'),
    elapsed: text('elapsed'),
    requests: Number(text('requests')),
    stage: text('stage'),
    checksLabel: text('checks-label'),
    checks: Array.from(document.querySelectorAll('#checks td[data-status]'))
      .map(td => td.dataset.status),
    operations: Array.from(document.querySelectorAll('#operations tbody tr'))
      .map(tr => tr.dataset.operation),
    plots: Array.from(document.querySelectorAll('.js-plotly-plot'))
      .map(el => el.querySelectorAll('g.trace').length),
    verdict: ended ? ended.dataset.verdict : '',
    report: link ? link.getAttribute('href') : null
  });
})()"""


def _run_command(tmp_path: Path, url: str, ui_port: int, steady_s: int) -> list[str]:
    scenario = tmp_path / "live.yaml"
    scenario.write_text(SCENARIO % {"steady_s": steady_s})
    return [
        PERFCTL, "run", str(scenario), "--target", url, "--out", str(tmp_path),
        "--run-id", "live", "--quiet", "--ui", str(ui_port),
    ]  # fmt: skip


@pytest.fixture
def perfctl_run() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in reversed(started):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        preexec_fn=interruptible,
    )


def _wait_for(url: str, deadline_s: float) -> None:
    give_up_at = time.monotonic() + deadline_s
    while time.monotonic() < give_up_at:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {deadline_s} s")


async def _watch(port: int, url: str, process: subprocess.Popen[str]) -> tuple[list, list]:
    """Probe the page every half second until perfctl exits; (probes, console errors)."""
    probes: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        async with http.put(f"http://127.0.0.1:{port}/json/new?about:blank") as response:
            target = await response.json(content_type=None)
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = _Session(ws)
            for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
                await page.call(domain)
            await page.call("Page.navigate", url=url)
            await page.wait_for("Page.loadEventFired", 60)
            while True:
                result = await page.call("Runtime.evaluate", expression=PROBE, returnByValue=True)
                probes.append(json.loads(result["result"]["value"]))
                if process.poll() is not None:
                    break
                if probes[-1]["report"] and len(probes) > 1 and probes[-2]["report"]:
                    shot = await page.call("Page.captureScreenshot", format="png")
                    ARTIFACTS.mkdir(exist_ok=True)
                    (ARTIFACTS / "live-view.png").write_bytes(base64.b64decode(shot["data"]))
                await asyncio.sleep(0.5)
            await asyncio.sleep(0.5)  # late console messages (a reconnect would log one)
            await page.call("Runtime.evaluate", expression="1", returnByValue=True)
            return probes, page.errors


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium")
def test_the_page_updates_during_the_run_and_links_the_report(
    tmp_path: Path, perfctl_run: list[subprocess.Popen[str]]
) -> None:
    ui_port = find_free_port()
    with tiny_target() as url:
        process = _start(_run_command(tmp_path, url, ui_port, steady_s=10))
        perfctl_run.append(process)
        page_url = f"http://127.0.0.1:{ui_port}/"
        _wait_for(page_url + "snapshot", deadline_s=30)
        profile = Path(tempfile.mkdtemp(prefix="perfctl-chromium-"))
        browser = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            devtools = _devtools_port(profile, browser, 60)
            probes, errors = asyncio.run(_watch(devtools, page_url, process))
        finally:
            _stop_session(browser)
            shutil.rmtree(profile)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stdout + stderr
    assert f"live view: {page_url}" in stdout
    assert errors == []
    running = [p for p in probes if p["status"] == "running" and p["requests"] > 0]
    # it updated during the run: elapsed time and request counts moved at least twice
    assert len({p["elapsed"] for p in running}) >= 3, probes
    assert len({p["requests"] for p in running}) >= 3, probes
    assert {p["stage"] for p in running} >= {"steady"}
    assert any(p["checksLabel"] == "provisional" and p["checks"] for p in running), probes
    assert all(p["operations"] for p in running)
    assert any(len(p["plots"]) == 4 and min(p["plots"]) > 0 for p in running), probes
    last = probes[-1]
    assert last["report"] == "report/index.html", probes[-3:]
    assert last["verdict"] == "pass"
    assert last["checksLabel"] == "verdict"
    assert last["checks"] == ["pass"]
    assert (tmp_path / "live" / "index.html").is_file()


def _query(prometheus: str, expression: str) -> list[dict[str, Any]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as answer:
        result = json.loads(answer.read())["data"]["result"]
    assert isinstance(result, list)
    return result


@pytest.mark.skipif(not Path(PROMETHEUS_BINARY).is_file(), reason="prometheus not installed")
def test_a_real_prometheus_scrapes_perfctl_metrics(
    tmp_path: Path, perfctl_run: list[subprocess.Popen[str]]
) -> None:
    ui_port, prometheus_port = find_free_port(), find_free_port()
    prometheus = f"http://127.0.0.1:{prometheus_port}"
    command = [PERFCTL, "prometheus", "--port", str(prometheus_port)]
    perfctl_run.append(_start([*command, "--target", f"http://127.0.0.1:{ui_port}"]))
    _wait_for(f"{prometheus}/-/ready", deadline_s=30)
    with tiny_target() as url:
        process = _start(_run_command(tmp_path, url, ui_port, steady_s=20))
        perfctl_run.append(process)
        found: dict[str, list[dict[str, Any]]] = {}
        expressions = {
            "requests": 'perfctl_requests_total{operation="root",outcome="ok"}',
            "info": "perfctl_run_info",
            "users": "perfctl_users",
            "cpu": "perfctl_generator_cpu_percent",
            "p95": "histogram_quantile(0.95, sum by (le) "
            "(rate(perfctl_request_duration_seconds_bucket[5s])))",
            "checks": 'perfctl_checks{status="pass"}',
        }
        while process.poll() is None and len(found) < len(expressions):
            for name, expression in expressions.items():
                result = _query(prometheus, expression)
                if result and float(result[0]["value"][1]) > 0:
                    found[name] = result
            time.sleep(0.5)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stdout + stderr
    assert set(found) == set(expressions), (found, stdout)
    assert float(found["requests"][0]["value"][1]) > 10
    assert found["info"][0]["metric"]["run_id"] == "live"
    assert found["info"][0]["metric"]["scenario"] == "live"
    assert float(found["users"][0]["value"][1]) == 3
    assert 0 < float(found["p95"][0]["value"][1]) < 1.0  # seconds: the tiny target answers fast
    assert float(found["checks"][0]["value"][1]) == 1


def test_a_port_in_use_is_exit_2_in_one_line_before_any_load(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            _run_command(tmp_path, "http://127.0.0.1:9", port, steady_s=5),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: --ui {port} is already in use: choose another port (--ui PORT)"
    ]
    assert not (tmp_path / "live").exists()  # no run directory: nothing started
