"""Every request accounted for: `perfctl run` against a server that counts what it serves.

The server answers `GET /slow?ms=N` after N ms and counts every request it received (parsed)
and completed (answer written). perfctl's count of the requests it sent is the sum of every
outcome of the step's operation in timeline.jsonl. Requests in flight when the plan ends
get the scenario's `graceful_stop` to finish; a request still in flight after it is
recorded as `interrupted` with the time it had been in flight. Either way the two counts
are equal, closed and open model, with one and two workers. A user in its think time at the
plan's end stops without starting (and cutting off) another iteration, even when hundreds stop
at once.

Arrivals dropped at the concurrency cap while every slot waits on a slow target are the
target's failure: `dropped` requests of the journey's first operation, seen by error rate.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.engine import ENGINE_LOCUSTFILE
from harness.timeline import OutcomeCounts, WindowRecord
from tests.e2e.conftest import set_faults

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ENGINE_LOCUSTFILE.is_file(), reason="no engine"),
]

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
OPERATION = "slow"


@dataclass
class Served:
    """What the counting server saw."""

    received: int = 0
    """Requests whose head it parsed (the request reached the server)."""
    completed: int = 0
    """Requests it answered in full."""
    active: int = 0
    """Requests it is still handling."""


class CountingServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server that counts the `/slow` requests it serves."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.served = Served()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (the engine stopped it) is not an error."""

    def reset(self) -> None:
        with self.lock:
            self.served = Served()

    def settled(self, deadline_s: float = 15.0) -> Served:
        """The counts once no request is being handled any more."""
        give_up_at = time.monotonic() + deadline_s
        while time.monotonic() < give_up_at:
            with self.lock:
                if self.served.active == 0:
                    return Served(self.served.received, self.served.completed, 0)
            time.sleep(0.05)
        raise AssertionError(f"the server still handles requests after {deadline_s} s")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/slow":
            self._answer(b"ok")  # the runner's reachability check, not counted
            return
        delay_s = float(parse_qs(url.query).get("ms", ["0"])[0]) / 1000.0
        counting = self.server
        with counting.lock:
            counting.served.received += 1
            counting.served.active += 1
        try:
            time.sleep(delay_s)
            self._answer(b"ok")
            with counting.lock:
                counting.served.completed += 1
        except OSError:
            pass  # the client went away
        finally:
            with counting.lock:
                counting.served.active -= 1

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _scenario(tmp_path: Path, model: str, graceful_stop: str, delay_ms: int) -> Path:
    load = (
        "{name: steady, duration: 4s, users: 30, spawn_rate: 1000}"
        if model == "closed"
        else "{name: steady, duration: 4s, rate: 20}"
    )
    path = tmp_path / f"count-{model}.yaml"
    path.write_text(
        f"""\
version: 1
model: {model}
arrivals: uniform
max_concurrency: 200
graceful_stop: {graceful_stop}
sla: false
stages:
  - {load}
journeys:
  slow:
    think_time: 0
    steps:
      - {{operation: {OPERATION}, path: /slow, query: {{ms: {delay_ms}}}}}
objectives:
  - {{operation: {OPERATION}, metric: availability, limit: ">= 0 %"}}
"""
    )
    return path


def _run(
    scenario: Path, target: str, out: Path, workers: int, timeout_s: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            PERFCTL,
            "run",
            str(scenario),
            "--target",
            target,
            "--workers",
            str(workers),
            "--out",
            str(out),
            "--run-id",
            "run",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def _windows(run_dir: Path, operation: str) -> list[WindowRecord]:
    lines = (run_dir / "timeline.jsonl").read_text().splitlines()
    windows = [WindowRecord.from_line(json.loads(line)) for line in lines if line.strip()]
    return [window for window in windows if window.op == operation]


def _sent(windows: list[WindowRecord]) -> OutcomeCounts:
    return sum((window.outcome_counts for window in windows), OutcomeCounts())


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("model", ["closed", "open"])
def test_every_request_in_flight_at_the_end_finishes_and_is_counted(
    tmp_path: Path, counting_server: CountingServer, model: str, workers: int
) -> None:
    counting_server.reset()
    # 1.5 s answers: at the plan's end every user (closed) or ~30 journeys (open) wait on one
    scenario = _scenario(tmp_path, model, graceful_stop="10s", delay_ms=1500)
    done = _run(scenario, counting_server.url, tmp_path, workers)
    assert done.returncode == 0, done.stdout + done.stderr
    served = counting_server.settled()
    sent = _sent(_windows(tmp_path / "run", OPERATION))
    assert served.received > 30
    assert sent.total == served.received == served.completed
    assert sent.ok == sent.total  # the graceful stop let every one of them finish


def test_users_a_ramp_down_removes_finish_their_requests(
    tmp_path: Path, counting_server: CountingServer
) -> None:
    counting_server.reset()
    scenario = tmp_path / "ramp-down.yaml"
    scenario.write_text(
        f"""\
version: 1
model: closed
graceful_stop: 10s
sla: false
stages:
  - {{name: up, duration: 2s, users: 30, spawn_rate: 1000}}
  - {{name: down, duration: 2s, users: 5}}
  - {{name: hold, duration: 2s, users: 5}}
journeys:
  slow:
    think_time: 0
    steps:
      - {{operation: {OPERATION}, path: /slow, query: {{ms: 1500}}}}
objectives:
  - {{operation: {OPERATION}, metric: availability, limit: ">= 0 %"}}
"""
    )
    done = _run(scenario, counting_server.url, tmp_path, workers=0)
    assert done.returncode == 0, done.stdout + done.stderr
    served = counting_server.settled()
    sent = _sent(_windows(tmp_path / "run", OPERATION))
    assert sent.total == served.received == served.completed
    assert sent.ok == sent.total


def test_users_in_think_time_at_the_end_stop_without_cutting_off_a_request(
    tmp_path: Path, target_url: str
) -> None:
    # 500 users with short think times: at the plan's end some think time ends while the
    # kill that stops its user waits in gevent's queue; such a user used to start another
    # iteration, and the kill cut its request off well inside the graceful stop
    scenario = tmp_path / "think.yaml"
    scenario.write_text(
        """\
version: 1
model: closed
graceful_stop: 10s
sla: false
stages:
  - {name: up, duration: 2s, users: 500, spawn_rate: 500}
  - {name: hold, duration: 3s, users: 500}
journeys:
  short:
    think_time: 20ms..100ms
    steps:
      - {operation: short, path: /fixed/200}
objectives:
  - {operation: short, metric: availability, limit: ">= 0 %"}
"""
    )
    done = _run(scenario, target_url, tmp_path, workers=0)
    assert done.returncode == 0, done.stdout + done.stderr
    sent = _sent(_windows(tmp_path / "run", "short"))
    assert sent.total > 2000
    # every answer takes 200 ms, far less than the graceful stop: none is cut off
    assert sent.interrupted == 0
    assert sent.ok == sent.total


@pytest.mark.parametrize(
    ("model", "workers", "graceful_stop"),
    # both models, both a zero and a short graceful stop, one process and two workers,
    # in two runs (CI time): the full cross is covered by the finished-in-time test above
    [("closed", 0, "0s"), ("open", 2, "500ms")],
)
def test_requests_still_in_flight_after_the_graceful_stop_are_interrupted_with_their_time(
    tmp_path: Path, counting_server: CountingServer, model: str, workers: int, graceful_stop: str
) -> None:
    counting_server.reset()
    delay_ms = 3000  # far longer than the graceful stop: the last requests cannot finish
    scenario = _scenario(tmp_path, model, graceful_stop=graceful_stop, delay_ms=delay_ms)
    done = _run(scenario, counting_server.url, tmp_path, workers)
    assert done.returncode == 0, done.stdout + done.stderr
    served = counting_server.settled()
    windows = _windows(tmp_path / "run", OPERATION)
    sent = _sent(windows)
    assert sent.total == served.received
    assert sent.interrupted > 0
    assert sent.ok + sent.interrupted == sent.total
    cut_off = [w for w in windows if w.counts["interrupted"]]
    # recorded with the time they had been in flight: shorter than any answered request
    assert sum(w.latency.count for w in windows) == sent.total
    for window in cut_off:
        fastest = window.latency.min_ms
        assert fastest is not None
        assert fastest < delay_ms


def test_arrivals_dropped_because_the_target_is_slow_are_failed_requests(
    tmp_path: Path, backend_url: str
) -> None:
    # a 1 s answer and 4 journey slots serve 4 arrivals a second: at 20 a second the
    # slots are always full of requests waiting on the target
    set_faults(
        backend_url, [{"route": "inventory_check", "latency": {"kind": "fixed", "ms": 1000}}]
    )
    scenario = tmp_path / "drops.yaml"
    scenario.write_text(
        """\
version: 1
model: open
arrivals: uniform
max_concurrency: 4
graceful_stop: 5s
sla: false
stages:
  - {name: ramp-up, duration: 1s, rate: 20}
  - {name: steady, duration: 4s, rate: 20}
journeys:
  inventory: {weight: 1}
objectives:
  - {operation: inventory_check, metric: error_rate, limit: "<= 1 %"}
"""
    )
    try:
        done = _run(scenario, backend_url, tmp_path, workers=0)
    finally:
        set_faults(backend_url, [])
    run_dir = tmp_path / "run"
    sent = _sent(_windows(run_dir, "inventory_check"))
    engine = json.loads((run_dir / "engine.json").read_text())
    loads = [json.loads(line) for line in (run_dir / "load.jsonl").read_text().splitlines()]
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert sent.dropped > 40
    assert engine["dropped_by_target"] == sent.dropped
    assert engine["dropped_arrivals"] >= engine["dropped_by_target"]
    assert sum(sample["dropped_by_target"] for sample in loads) == sent.dropped
    drops = [event for event in events if event["kind"] == "arrivals_dropped"]
    assert drops
    assert drops[0]["detail"].startswith("cause: target")
    verdict = json.loads((run_dir / "verdict.json").read_text())
    (check,) = [c for c in verdict["checks"] if c["metric"] == "error_rate"]
    assert check["status"] == "fail"
    # judged over the run's span (the engine's start to its end, whole seconds), drops included
    span = range(math.ceil(engine["started_at"]), math.floor(engine["ended_at"]))
    judged = _sent([w for w in _windows(run_dir, "inventory_check") if w.t in span])
    assert check["samples"] == judged.total
    assert check["measured"] == pytest.approx(judged.failed / judged.total, rel=0.01)
    assert judged.dropped > 0
    assert done.returncode == 1, done.stdout + done.stderr


def test_an_interrupted_run_stops_at_once_and_still_counts_every_request_sent(
    tmp_path: Path, counting_server: CountingServer
) -> None:
    counting_server.reset()
    scenario = _scenario(tmp_path, "closed", graceful_stop="30s", delay_ms=1500)
    scenario.write_text(scenario.read_text().replace("duration: 4s", "duration: 60s"))
    process = subprocess.Popen(
        [
            *(PERFCTL, "run", str(scenario), "--target", counting_server.url),
            *("--out", str(tmp_path), "--run-id", "run", "--quiet"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    load = tmp_path / "run" / "load.jsonl"
    give_up_at = time.monotonic() + 30
    while time.monotonic() < give_up_at and len(_lines(load)) < 4:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stop_sent = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    # Ctrl-C does not wait for the graceful stop: what is in flight is cut off and counted
    assert time.monotonic() - stop_sent < 15
    served = counting_server.settled()
    sent = _sent(_windows(tmp_path / "run", OPERATION))
    assert sent.total == served.received
    assert sent.interrupted > 0


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
