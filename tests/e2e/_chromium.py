"""Debian's headless chromium driven over the Chrome DevTools protocol (aiohttp websocket).

`inspect_page` loads a page, waits until every plotly figure is drawn, and returns what the
page showed: console errors and uncaught exceptions, the figures with their drawn traces, the
verdict banner's text and size, and a full-page screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
)

_PAGE_STATE = """(() => {
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  const banner = document.querySelector('[data-verdict]');
  const box = banner ? banner.getBoundingClientRect() : null;
  return JSON.stringify({
    figures: document.querySelectorAll('[data-figure]').length,
    plots: plots.map(el => ({
      traces: el.querySelectorAll('g.trace').length,
      points: (el.data || []).reduce((n, t) => n + [].concat(t.y || [], t.x || [])
        .filter(v => v !== null && v !== undefined).length, 0),
      title: (el.layout && el.layout.title && el.layout.title.text) || ''
    })),
    verdict: banner ? banner.getAttribute('data-verdict') : null,
    verdictText: banner ? banner.innerText : '',
    verdictVisible: !!box && box.width > 0 && box.height > 0,
    bodyText: document.body.innerText,
    alerted: window.__alerted || false
  });
})()"""


@dataclass
class PageReport:
    """What a page showed in the browser."""

    console_errors: list[str] = field(default_factory=list)
    figures: int = 0
    plots: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None
    verdict_text: str = ""
    verdict_visible: bool = False
    body_text: str = ""
    alerted: bool = False
    screenshot: bytes = b""
    after: Any = None
    """What the `after` expression returned (JSON-decoded), when one was given."""


class _Session:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.errors: list[str] = []
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        wanted = self.next_id
        await self.ws.send_str(json.dumps({"id": wanted, "method": method, "params": params}))
        while True:
            message = await self.ws.receive(timeout=60)
            data = json.loads(message.data)
            if data.get("id") == wanted:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return dict(data.get("result", {}))
            self._event(data)

    def _event(self, data: dict[str, Any]) -> None:
        method, params = data.get("method"), data.get("params", {})
        self.events.append(data)
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(
                "console: "
                + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(
                "exception: "
                + str(details.get("exception", {}).get("description") or details.get("text"))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}")

    async def wait_for(self, method: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        if any(event.get("method") == method for event in self.events):
            return
        while time.monotonic() < deadline:
            message = await self.ws.receive(timeout=max(deadline - time.monotonic(), 0.1))
            data = json.loads(message.data)
            self._event(data)
            if data.get("method") == method:
                return
        raise TimeoutError(f"no {method} within {timeout_s} s")


async def _inspect(port: int, url: str, timeout_s: float, after: str | None) -> PageReport:
    async with aiohttp.ClientSession() as http:
        async with http.put(f"http://127.0.0.1:{port}/json/new?about:blank") as response:
            target = await response.json(content_type=None)
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = _Session(ws)
            for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
                await page.call(domain)
            # an alert() would block the page: record it instead, so a test can assert none ran
            await page.call(
                "Page.addScriptToEvaluateOnNewDocument",
                source="window.alert = function () { window.__alerted = true; };",
            )
            await page.call("Page.navigate", url=url)
            await page.wait_for("Page.loadEventFired", timeout_s)
            deadline = time.monotonic() + timeout_s
            state: dict[str, Any] = {}
            while time.monotonic() < deadline:
                result = await page.call(
                    "Runtime.evaluate", expression=_PAGE_STATE, returnByValue=True
                )
                state = json.loads(result["result"]["value"])
                if len(state["plots"]) >= state["figures"]:
                    break
                await asyncio.sleep(0.2)
            after_value = None
            if after is not None:
                result = await page.call(
                    "Runtime.evaluate", expression=after, returnByValue=True, awaitPromise=True
                )
                after_value = json.loads(result["result"]["value"])
            await asyncio.sleep(0.3)  # let late console messages arrive
            shot = await page.call(
                "Page.captureScreenshot", format="png", captureBeyondViewport=True
            )
            return PageReport(
                console_errors=page.errors,
                figures=state.get("figures", 0),
                plots=state.get("plots", []),
                verdict=state.get("verdict"),
                verdict_text=state.get("verdictText", ""),
                verdict_visible=state.get("verdictVisible", False),
                body_text=state.get("bodyText", ""),
                alerted=state.get("alerted", False),
                screenshot=base64.b64decode(shot["data"]),
                after=after_value,
            )


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], timeout_s: float) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        if marker.exists():
            first = marker.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        time.sleep(0.05)
    raise TimeoutError("chromium did not open its DevTools port")


def inspect_page(url: str, timeout_s: float = 60.0, after: str | None = None) -> PageReport:
    """Load `url` in a fresh headless chromium and report what it showed; `after` is a
    JavaScript expression returning a JSON string, run once every figure is drawn."""
    profile = Path(tempfile.mkdtemp(prefix="perfctl-chromium-"))
    try:
        process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port = _devtools_port(profile, process, timeout_s)
            return asyncio.run(_inspect(port, url, timeout_s, after))
        finally:
            _stop_session(process)
    finally:
        # only now, with no process of the browser left to write into it (a helper still
        # writing `Default/` made the removal fail with "Directory not empty")
        shutil.rmtree(profile)


STOP_TIMEOUT_S = 10.0
"""How long the browser's processes get to exit after SIGTERM before they are killed."""


def _stop_session(process: subprocess.Popen[bytes]) -> None:
    """Stop chromium and every helper process it started, and return once all have exited.

    The browser was started in a session of its own (its id is the browser's pid), so the
    session's members are exactly its processes: SIGTERM to them all, a bounded wait for
    the last one to exit, then SIGKILL to whatever is left and a wait for that too.
    """
    session = process.pid
    _signal_session(session, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)
    while _session_members(session) and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is None or _session_members(session):
        _signal_session(session, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _session_members(session) and time.monotonic() < deadline:
            time.sleep(0.05)
    left = _session_members(session)
    if left:
        raise RuntimeError(f"chromium processes {left} outlived SIGKILL")


def _signal_session(session: int, signum: signal.Signals) -> None:
    for pid in _session_members(session):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _session_members(session: int) -> list[int]:
    """Live (not zombie) processes of `session`, read from /proc: a helper that chromium
    moved to a process group of its own is still in the browser's session."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # pid (comm) state ppid pgrp session ...: comm may hold spaces, so split after ")"
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            members.append(int(entry.name))
    return members
