"""perfctl's engine entry point: `locust -f harness/engine/locustfile.py` (see harness/run/_runner.py).

Reads the plan from PERFCTL_PLAN_FILE and writes the run directory PERFCTL_RUN_DIR (master or
local process). A worker without the plan file receives the plan from its master. Locust's
own statistics, CSV, HTML and web UI stay off: perfctl's recorder is the source of truth.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# make `harness` importable when Locust loads this file by path
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import gevent
import locust.runners
import psutil
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.engine._controller import Controller
from harness.engine._journeys import JOURNEY_FUNCTIONS, builtin_key
from harness.engine._phases import install as install_phase_timing
from harness.engine._pool import install as install_pool_fixes
from harness.engine._runtime import (
    DRIVERS_OPTION,
    EPOCH_OPTION,
    PLAN_OPTION,
    RUN_DIR_ENV,
    RUNTIME,
    plan_from_environment,
)
from harness.engine._secrets import ENV_OPTION, install_masking
from harness.engine._shape import PlanShape
from harness.engine._stopping import install as install_stop_marking
from harness.engine._team_shape import TeamShape
from harness.engine._team_users import (
    adopt_team_users,
    closed_model_classes,
    load_team_locustfile,
)
from harness.engine._users import ArrivalDriver, JourneyUser
from harness.engine._wire import install as install_wire_watch

# workers ship their finished seconds every second (Locust's default is every 3 s)
locust.runners.WORKER_REPORT_INTERVAL = 1.0
# a request cut off by the end of the graceful stop counts only if it reached the wire
install_wire_watch()
# connect time and time to first byte of every request, beside its response time
install_phase_timing()
# pooled connections reused above descriptor 1024, the target resolved once per DNS TTL
install_pool_fixes()
# a user stopped in its think time never starts another iteration before its kill arrives
install_stop_marking()
# secret ${env:...} values never reach the logs (Locust sets its logging up after this import)
install_masking(RUNTIME.secrets)
RUNTIME.recorder.mask = RUNTIME.secrets.mask

_plan_text = plan_from_environment()
if _plan_text:
    _plan = RUNTIME.load_plan_text(_plan_text)
    for _journey in _plan.journeys:
        if _journey.kind == "builtin" and builtin_key(_journey) not in JOURNEY_FUNCTIONS:
            raise SystemExit(
                f"perfctl engine: unknown built-in journey {builtin_key(_journey)!r} "
                f"(known: {', '.join(sorted(JOURNEY_FUNCTIONS))})"
            )
    if _plan.locustfile and any(j.kind == "locustfile" for j in _plan.journeys):
        _team = load_team_locustfile(_plan.locustfile)
        adopt_team_users(_plan)
        PlanShape.team_classes = closed_model_classes(_plan, JourneyUser)
        if _plan.locustfile_shape:
            if _team.shape is None:
                raise SystemExit(
                    f"perfctl engine: the scenario has no stages, and {_plan.locustfile} has "
                    "no single LoadTestShape to drive its users"
                )
            _mixed = any(j.kind != "locustfile" for j in _plan.journeys)
            PlanShape.team_shape = TeamShape(
                _team.shape, _plan, PlanShape.team_classes, JourneyUser if _mixed else None
            )
        # Locust finds the User classes among this file's names
        globals().update({cls.__name__: cls for cls in _team.users})

PlanShape.driver_class = ArrivalDriver
PlanShape.journey_class = JourneyUser
_controller: Controller | None = None
_runners: list[Any] = []
_process = psutil.Process(os.getpid())


def _listen(hook: Any, handler: Callable[..., Any]) -> None:
    """Adds a listener to a Locust event hook."""
    hook.add_listener(handler)


def _add_options(parser: Any, **_: Any) -> None:
    parser.add_argument("--perfctl-plan", default="", help="perfctl: plan JSON (set by master)")
    parser.add_argument("--perfctl-epoch", type=float, default=0.0, help="perfctl: run start")
    parser.add_argument("--perfctl-drivers", type=int, default=1, help="perfctl: drivers")
    parser.add_argument("--perfctl-env", default="", help="perfctl: secret values (set by master)")


def _silence_locust_stats(environment: Environment) -> None:
    """Unhooks Locust's own per-request statistics (perfctl records every request itself)."""
    for handler in list(environment.events.request._handlers):
        if getattr(handler, "__qualname__", "").endswith("Runner.__init__.<locals>.on_request"):
            hooks: Any = environment.events.request
            hooks.remove_listener(handler)
    environment.stats.use_response_times_cache = False
    environment.stats.total.use_response_times_cache = False


def _on_init(environment: Environment, **_: Any) -> None:
    global _controller
    runner = environment.runner
    _runners.append(runner)
    hooks: Any = environment.events
    hooks.request.add_listener(RUNTIME.recorder.on_request)
    _silence_locust_stats(environment)
    options = environment.parsed_options
    if isinstance(runner, WorkerRunner):
        _process.cpu_percent(None)
        hooks.report_to_master.add_listener(_on_report_to_master)
        hooks.test_stopping.add_listener(lambda **_: stop_at_once(environment))
        hooks.quitting.add_listener(_on_worker_quitting)
        hooks.test_start.add_listener(lambda **_: RUNTIME.adopt_options(environment.parsed_options))
        return
    if RUNTIME.plan is None:
        raise SystemExit("perfctl engine: PERFCTL_PLAN_FILE is not set")
    run_dir = os.environ.get(RUN_DIR_ENV)
    if not run_dir:
        raise SystemExit("perfctl engine: PERFCTL_RUN_DIR is not set")
    if options is not None:
        setattr(options, PLAN_OPTION, RUNTIME.plan_json)
        setattr(
            options,
            ENV_OPTION,
            RUNTIME.secrets.option_text(json.loads(RUNTIME.plan_json), os.environ),
        )
        drivers = max(int(getattr(options, "expect_workers", 1) or 1), 1)
        RUNTIME.drivers = drivers if isinstance(runner, MasterRunner) else 1
        setattr(options, DRIVERS_OPTION, RUNTIME.drivers)
        setattr(options, EPOCH_OPTION, 0.0)
        # a lost worker's users (the open model's arrival driver) move to the survivors
        options.enable_rebalancing = True
    # the graceful stop of users a ramp-down (or the plan's end) removes; the master sends
    # it to its workers with every spawn message
    environment.stop_timeout = RUNTIME.plan.graceful_stop_s
    _controller = Controller(environment, run_dir)
    # Locust installs its own SIGTERM handler only after a headless shape run has ended, so
    # until then a SIGTERM would kill this process without a flush: stop the load instead,
    # and Locust's normal shutdown writes the run directory
    gevent.signal_handler(signal.SIGTERM, _on_sigterm, runner)
    PlanShape.on_stage = _controller.on_stage
    hooks.test_start.add_listener(_controller.on_test_start)
    hooks.test_stopping.add_listener(_controller.on_test_stopping)
    hooks.quitting.add_listener(_controller.on_quitting)
    if isinstance(runner, MasterRunner):
        hooks.worker_report.add_listener(_controller.on_worker_report)
        hooks.worker_connect.add_listener(_controller.on_worker_connect)


def _on_sigterm(runner: Any) -> None:
    RUNTIME.abort_reason = RUNTIME.abort_reason or "stopped by SIGTERM before the plan ended"
    if runner is not None:
        gevent.spawn(runner.quit)


def stop_at_once(environment: Environment) -> None:
    """Once Locust stops the test (the plan is over and its graceful stop done, or the run
    is aborted), users still running are stopped without waiting: what they had in flight
    is recorded as `interrupted`."""
    environment.stop_timeout = 0.0


def _on_report_to_master(client_id: str, data: dict[str, Any], **_: Any) -> None:
    runner = _runners[-1] if _runners else None
    stopped = runner is not None and runner.state in ("stopped", "stopping", "cleanup")
    # once its load has stopped for good, everything this worker recorded goes out now
    drained = runner is not None and RUNTIME.load_stopped(runner.user_count)
    index = runner.worker_index if isinstance(runner, WorkerRunner) else -1
    data["perfctl"] = {
        "batch": RUNTIME.recorder.drain(final=stopped or drained).to_wire(),
        "cpu": round(_process.cpu_percent(None), 1),
        "label": f"worker-{index + 1}" if index >= 0 else client_id,
        "drained": drained,
        "notices": RUNTIME.feeders.take_notices(),
    }


def _on_worker_quitting(environment: Environment, **_: Any) -> None:
    """A worker stopped by a signal sends its last windows before it goes."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner) and runner.state not in ("stopped", "cleanup"):
        data: dict[str, Any] = {}
        runner.stop()
        hooks: Any = environment.events
        hooks.report_to_master.fire(client_id=runner.client_id, data=data)
        runner.send_message("stats", data)


_listen(events.init_command_line_parser, _add_options)
_listen(events.init, _on_init)
