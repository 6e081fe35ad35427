"""The live view's server on a real loopback socket: the page, Server-Sent Events, /metrics,
the report, and a port in use refused before anything starts."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.errors import UsageError
from harness.live import LiveView
from tests.harness.live._support import GrowingRun


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read()


def _raw_status(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def _events(url: str, wanted: int) -> list[dict[str, Any]]:
    """The first `wanted` snapshots /events sends."""
    snapshots: list[dict[str, Any]] = []
    with urllib.request.urlopen(url + "events", timeout=10) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        event = ""
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "snapshot":
                snapshots.append(json.loads(line.removeprefix("data: ")))
                if len(snapshots) == wanted:
                    return snapshots
    return snapshots


def test_a_port_in_use_is_a_usage_error_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=rf"--ui {port} is already in use"):
            LiveView(port)


def test_the_page_events_metrics_and_report_are_served(tmp_path: Path) -> None:
    run = GrowingRun(tmp_path / "r1")
    for offset in range(3):
        run.second(offset, latency_ms=20.0)
    with LiveView(0) as live:
        status, kind, page = _get(live.url)
        assert status == 200
        assert kind.startswith("text/html")
        assert b'new EventSource("events")' in page
        assert b'src="plotly.min.js"' in page
        live.follow(run.run_dir)
        live.feed.step()
        live.hub.publish()
        first, second = _events(live.url, wanted=2)
        assert first["full"] is True
        assert [point["t"] for point in first["points"]] == [p["t"] for p in live.state.history]
        assert first["totals"]["requests"] == 60
        assert second["full"] is False  # an open page gets only the new points
        status, kind, metrics = _get(live.url + "metrics")
        assert kind.startswith("text/plain")
        assert b'perfctl_requests_total{operation="search",outcome="ok"} 60.0' in metrics
        status, kind, body = _get(live.url + "snapshot")
        assert json.loads(body)["run"]["run_id"] == "r1"

        # the report, once written, from the run directory; nothing outside it
        assert _raw_status(live.server.port, "/report/index.html") == 404
        (run.run_dir / "index.html").write_text("<html>the report</html>")
        status, kind, body = _get(live.url + "report/index.html")
        assert (status, body) == (200, b"<html>the report</html>")
        assert kind == "text/html"
        assert _raw_status(live.server.port, "/report/../sla.yaml") == 404
        assert _raw_status(live.server.port, "/report/%2e%2e/sla.yaml") == 404
        assert _raw_status(live.server.port, "/nothing") == 404


def test_plotly_comes_from_this_server_not_a_cdn() -> None:
    with LiveView(0) as live:
        status, kind, script = _get(live.url + "plotly.min.js")
        _, _, page = _get(live.url)
    assert status == 200
    assert kind.startswith("text/javascript")
    assert len(script) > 1_000_000
    assert b"https://" not in page.split(b"<script>")[0]
