"""The master's (or local process's) engine: collects windows each second, watches the
workers and the generator's health, and finishes the run directory when Locust quits."""

from __future__ import annotations

import os
import time
from typing import Any

import gevent
import psutil
from gevent.event import Event
from locust import __version__ as locust_version
from locust.env import Environment
from locust.runners import MasterRunner

from harness.engine._collector import Collector
from harness.engine._recorder import Drained
from harness.engine._runtime import LOCAL_SOURCE, RUNTIME
from harness.timeline import RunDirWriter

TICK_OFFSET_S = 0.2
"""The collector ticks this long after each second boundary."""
LOCAL = LOCAL_SOURCE
FINISH_TIMEOUT_S = 15.0
"""At most this long is spent writing the run directory's last seconds at exit."""


class Controller:
    """Runs in the master, or in the single process when there are no workers."""

    def __init__(self, environment: Environment, run_dir: str) -> None:
        self.environment = environment
        self.writer = RunDirWriter(run_dir)
        self.collector: Collector | None = None
        self.is_master = isinstance(environment.runner, MasterRunner)
        self.label = "master" if self.is_master else LOCAL
        self._process = psutil.Process(os.getpid())
        self._process.cpu_percent(None)
        self._cpu = 0.0
        self._ticker: gevent.Greenlet | None = None
        self._known_workers: set[str] = set()
        self._lost: set[str] = set()
        self._stopping = False
        self._finishing = False
        self._done = Event()

    # -- Locust events ------------------------------------------------------------------

    def on_test_start(self, **_: Any) -> None:
        if self.collector is not None:
            return
        plan = RUNTIME.plan
        assert plan is not None
        self.collector = Collector(self.writer, plan, RUNTIME.epoch or time.time())
        self._ticker = gevent.spawn(self._tick_forever)

    def on_stage(self, name: str, started_at: float) -> None:
        self.writer.append_event("stage_started", name, t=started_at)

    def on_worker_connect(self, client_id: str, **_: Any) -> None:
        self._known_workers.add(client_id)
        self.writer.append_event("worker_joined", client_id)

    def on_worker_report(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        payload = data.get("perfctl")
        if not payload or self.collector is None:
            return
        if client_id not in self._lost:
            RUNTIME.live_sources.add(client_id)
        if payload.get("drained"):
            RUNTIME.drained.add(client_id)
        for notice in payload.get("notices") or ():
            self.writer.append_event("data_exhausted", str(notice))
        self.collector.receive(
            client_id,
            Drained.from_wire(payload["batch"]),
            label=str(payload.get("label", client_id)),
            cpu_percent=float(payload.get("cpu", 0.0)),
        )

    def on_test_stopping(self, **_: Any) -> None:
        # the graceful stop is over (or the run is aborted): whoever still runs stops now
        self.environment.stop_timeout = 0.0
        if not self._stopping:
            self._stopping = True
            self.writer.append_event("stopping", RUNTIME.abort_reason or "the load is stopping")

    def on_quitting(self, **_: Any) -> None:
        """Final flush and engine.json, once; on a signal, first stop the load (and gather
        the workers' last windows) so nothing measured is lost."""
        if self._finishing:
            # Locust's shutdown runs twice after a signal (the signal's greenlet and the main
            # one); the second waits here until the first has written everything
            self._done.wait(timeout=FINISH_TIMEOUT_S)
            return
        self._finishing = True
        try:
            self._finish()
        finally:
            self._done.set()

    def _finish(self) -> None:
        runner = self.environment.runner
        completed = RUNTIME.plan_completed
        if not completed and self.is_master:
            # Locust stops the test itself when its last worker goes missing
            self._watch_workers(even_when_stopping=True)
        if not completed:
            reason = RUNTIME.abort_reason or "stopped by a signal before the plan ended"
            RUNTIME.abort_reason = reason
            self.writer.append_event("abort", reason)
            if runner is not None and runner.state not in ("stopped", "quitting"):
                runner.quit()
        if self._ticker is not None:
            self._ticker.kill(block=False)
        if self.collector is None:
            self.writer.close()
            return
        if not self.is_master:
            self.collector.receive(
                LOCAL, RUNTIME.recorder.drain(final=True), label=LOCAL, cpu_percent=self._cpu
            )
            self._tell_data_notices()
        self.collector.finish(
            "completed" if completed else "aborted",
            "the plan's last stage ended" if completed else RUNTIME.abort_reason or "aborted",
            master_cpu=self._own_cpu(),
            workers_lost=len(self._lost),
            locust_version=locust_version,
        )
        self.writer.close()

    def _tell_data_notices(self) -> None:
        """This process's data sources that ran out, as events."""
        for notice in RUNTIME.feeders.take_notices():
            self.writer.append_event("data_exhausted", notice)

    # -- every second -------------------------------------------------------------------

    def _own_cpu(self) -> dict[str, float]:
        return {self.label: round(self._cpu, 1)}

    def _tick_forever(self) -> None:
        while True:
            now = time.time()
            gevent.sleep(max(int(now) + 1 + TICK_OFFSET_S - now, 0.05))
            self._tick()

    def _tick(self) -> None:
        collector = self.collector
        if collector is None:
            return
        self._cpu = self._process.cpu_percent(None)
        second = int(time.time()) - 1
        runner = self.environment.runner
        if runner is not None:
            collector.note_users(second, runner.user_count)
        if not self.is_master:
            collector.receive(LOCAL, RUNTIME.recorder.drain(), label=LOCAL, cpu_percent=self._cpu)
            self._tell_data_notices()
        else:
            self._watch_workers()
        collector.flush(self._own_cpu())

    def _watch_workers(self, even_when_stopping: bool = False) -> None:
        runner = self.environment.runner
        if not isinstance(runner, MasterRunner) or (self._stopping and not even_when_stopping):
            return
        present = {client.id: client.state for client in runner.clients.all}
        for worker in sorted(self._known_workers - self._lost):
            state = present.get(worker)
            # while stopping, workers leave normally; only a missing heartbeat is a loss
            if state == "missing" or (state is None and not self._stopping):
                self._lost.add(worker)
                RUNTIME.live_sources.discard(worker)
                assert self.collector is not None
                self.collector.forget(worker)
                self.writer.append_event("worker_lost", f"{worker} stopped answering")
        if self._known_workers and self._lost >= self._known_workers:
            RUNTIME.abort_reason = "every worker was lost"
