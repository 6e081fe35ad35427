"""`perfctl worker`: one more load generator, on this machine, for a master elsewhere."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

from harness.engine import ENGINE_LOCUSTFILE
from harness.errors import EngineError, InterruptedRunError, UsageError
from harness.plan import RunPlan
from harness.processes import raise_open_files_limit
from harness.run._interrupts import Interrupts
from harness.run._load_generators import (
    DEFAULT_MASTER_PORT,
    EngineEnvironment,
    LocustProcess,
    locust_command,
    parse_master_address,
)
from harness.rundir import LOGS_DIR

WORKER_STOP_GRACE_S = 5.0
"""Time the worker gets to leave its master cleanly after Ctrl-C."""
_POLL_INTERVAL_S = 0.25


def join_master(
    master: str,
    plan_file: Path | None,
    out_dir: Path,
    *,
    locustfile: Path = ENGINE_LOCUSTFILE,
) -> None:
    """Run one Locust worker for the master at `master` (HOST[:PORT]) until it quits.

    The master ships the plan to its workers; `plan_file` is needed only for a plan that
    runs a team's locustfile (its user classes must exist before the worker connects).
    """
    host, port = parse_master_address(master, DEFAULT_MASTER_PORT)
    assert port is not None
    if plan_file is not None:
        try:
            plan = RunPlan.from_dict(json.loads(plan_file.read_text()))
        except FileNotFoundError:
            raise UsageError(f"plan file {plan_file} does not exist") from None
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise UsageError(f"{plan_file} is not a perfctl plan.json: {error}") from None
        if plan.locustfile and not Path(plan.locustfile).is_file():
            raise UsageError(f"the plan's locustfile {plan.locustfile} is not on this machine")
    work_dir = out_dir / f"worker-{socket.gethostname()}-{os.getpid()}"
    (work_dir / LOGS_DIR).mkdir(parents=True, exist_ok=True)
    raise_open_files_limit()
    environment = EngineEnvironment(
        plan_file.resolve() if plan_file is not None else None, work_dir, ""
    )
    command = locust_command(locustfile, "worker", master_host=host, master_port=port)
    log = work_dir / LOGS_DIR / "worker.log"
    print(f"worker joining {host}:{port}; log: {log}", file=sys.stderr)
    process = LocustProcess("worker", command, environment.variables("worker"), log)
    try:
        with Interrupts(graceful=True) as interrupts:
            while process.running:
                if interrupts.count:
                    process.stop(WORKER_STOP_GRACE_S)
                    raise InterruptedRunError(f"worker stopped; its log is {log}")
                time.sleep(_POLL_INTERVAL_S)
    except KeyboardInterrupt:
        process.kill()
        raise InterruptedRunError(f"worker stopped; its log is {log}") from None
    if process.exit_code:
        raise EngineError(f"the worker exited with code {process.exit_code}; see {log}")
    print("worker finished: the master ended the run", file=sys.stderr)
