"""A stand-in for harness/engine in the runner's tests: real Locust processes, plain measurement.

It honours the runner/engine interface (PERFCTL_PLAN_FILE, PERFCTL_RUN_DIR, LOCUST_HOST;
timeline.jsonl, load.jsonl, events.jsonl, engine.json) without the engine's precision:
every process appends its own windows (no merge across workers), which is all the runner's
process handling needs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import gevent  # noqa: TID251
from locust import FastHttpUser, LoadTestShape, constant, events, task  # noqa: TID251
from locust.runners import MasterRunner, WorkerRunner  # noqa: TID251

from harness.plan import RunPlan
from harness.timeline import WindowRecord

PLAN = RunPlan.from_dict(json.loads(Path(os.environ["PERFCTL_PLAN_FILE"]).read_text()))
RUN_DIR = Path(os.environ["PERFCTL_RUN_DIR"])
_windows: dict[tuple[int, str], WindowRecord] = {}
_state: dict[str, Any] = {"shape_done": False, "missing": 0}


def _append(name: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        with (RUN_DIR / name).open("a") as handle:
            handle.write("".join(json.dumps(row) + "\n" for row in rows))


class Visitor(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def root(self) -> None:
        self.client.get("/", name="root")


class PlanShape(LoadTestShape):
    def tick(self) -> tuple[int, float] | None:
        stage = PLAN.stage_at(self.get_run_time())
        if stage is None:
            _state["shape_done"] = True
            return None
        return (stage.users_end or 1, stage.spawn_rate_per_s or 100.0)


@events.request.add_listener
def _on_request(
    name: str, response_time: float, response_length: int, exception: Any, **_: Any
) -> None:
    t = int(time.time())
    window = _windows.setdefault((t, name), WindowRecord(t, name))
    outcome = "ok" if exception is None else "connection_error"
    window.record(
        outcome,
        response_time,
        response_bytes=response_length or 0,
        error=None if exception is None else str(exception),
    )


def _flush(before_t: float) -> None:
    done = sorted(key for key in _windows if key[0] < before_t)
    _append("timeline.jsonl", [_windows.pop(key).to_line() for key in done])


def _every_second(environment: Any) -> None:
    while True:
        gevent.sleep(1.0)
        now = time.time()
        _flush(int(now))
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            continue
        stage = PLAN.stage_at(now - _state.get("t0", now))
        row = {
            "t": int(now),
            "stage": stage.name if stage else None,
            "users": runner.user_count,
            "planned_arrivals": None,
            "started_arrivals": None,
            "dropped_arrivals": 0,
            "achieved_rps": 0.0,
            "workers": 0,
            "cpu_percent": {},
        }
        if isinstance(runner, MasterRunner):
            row["workers"] = len(runner.clients.ready) + len(runner.clients.running)
            missing = len(runner.clients.missing)
            if missing > _state["missing"]:
                _append(
                    "events.jsonl",
                    [{"t": now, "kind": "worker_lost", "detail": f"{missing} missing"}],
                )
                _state["missing"] = missing
        _append("load.jsonl", [row])


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    _state["t0"] = time.time()
    _state["started_at"] = time.time()


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    gevent.spawn(_every_second, environment)


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    _flush(float("inf"))
    if isinstance(environment.runner, WorkerRunner):
        return
    engine = {
        "status": "completed" if _state["shape_done"] else "aborted",
        "reason": "plan finished" if _state["shape_done"] else "stopped",
        "started_at": _state.get("started_at"),
        "ended_at": time.time(),
        "workers_lost": _state["missing"],
        "saturated": False,
        "behind_plan": False,
        "locust_version": "test",
    }
    (RUN_DIR / "engine.json").write_text(json.dumps(engine))
