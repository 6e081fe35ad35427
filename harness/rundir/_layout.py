"""The run directory: where one run's plan, measurements, logs and record live.

    RUN_DIR/
    ├── plan.json        the resolved RunPlan the engine executes (RunPlan.to_dict())
    ├── run.json         the run record (RunRecord below), written at start and at the end
    ├── timeline.jsonl   per (second, operation) measurements, format in harness/timeline.py
    ├── load.jsonl       per second offered/achieved load, users, workers, generator CPU
    ├── events.jsonl     worker_joined, worker_lost, generator_saturated, stage_started, ...
    ├── engine.json      the engine's own end-of-run summary (absent if it never finished)
    └── logs/            stdout+stderr of every process: backend.log, local.log, master.log,
                         worker-1.log, ...

The engine writes timeline/load/events/engine.json; the runner writes everything else.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from harness.errors import RunDirError, UsageError
from harness.timeline import ENGINE_FILE

RUN_SCHEMA_VERSION = 1
PLAN_FILE = "plan.json"
RUN_FILE = "run.json"
LOGS_DIR = "logs"

RunStatus = Literal["running", "completed", "aborted", "failed", "degraded"]

_RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """`2026-11-27T05:50:46.123Z`: UTC, millisecond precision."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_run_id(scenario: str, started_at: datetime) -> str:
    """`20261127T055046Z-normal`: sortable by time, readable by scenario."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(scenario).stem).strip("-.") or "run"
    return f"{started_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{stem}"


def validate_run_id(run_id: str) -> str:
    """The run id if it can name a directory; a UsageError otherwise."""
    if not _RUN_ID_PATTERN.match(run_id) or run_id in (".", ".."):
        raise UsageError(
            f"--run-id must be letters, digits, '.', '_' or '-' (at most 128), got {run_id!r}"
        )
    return run_id


def create_run_dir(parent: Path, run_id: str) -> Path:
    """Create `parent/run_id/logs`; a UsageError if that run directory already holds a run."""
    run_dir = parent / run_id
    if (run_dir / RUN_FILE).exists() or (run_dir / PLAN_FILE).exists():
        raise UsageError(f"run directory {run_dir} already holds a run; choose another --run-id")
    try:
        (run_dir / LOGS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create run directory {run_dir}: {error.strerror}") from None
    return run_dir


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write `data` so a reader (or a crash) sees the old file or the new one, never half."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(partial, path)


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One child process of the run."""

    role: str
    """backend, local, master, worker-1, ..."""
    pid: int
    """Process id while it ran."""
    log: str
    """Its stdout+stderr, relative to the run directory."""
    exit_code: int | None = None
    """Exit code; negative is the signal that ended it; None while running or unknown."""


@dataclass(frozen=True, slots=True)
class WorkerEvent:
    """Something that happened to a load generator during the run."""

    t: float
    """Unix time of the event."""
    kind: str
    """worker_joined, worker_lost, worker_exited, generator_saturated, behind_plan, ..."""
    detail: str = ""
    """Which worker, and what was seen."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything `run.json` says about one run; evaluate and report read it."""

    run_id: str
    """Directory name of the run."""
    status: RunStatus
    """running while the load runs; then completed, degraded (a worker was lost but load
    went on), aborted (interrupted, deadline, every worker lost) or failed (an engine or
    target error ended it)."""
    scenario: str
    """Scenario name (or locustfile/plan path) as given."""
    profile: str
    """Profile applied."""
    target: str
    """Base URL of the target, secrets stripped."""
    target_embedded: bool
    """True when perfctl started the reference backend for this run."""
    plan: dict[str, Any]
    """The resolved RunPlan (RunPlan.to_dict()), with its scale factors."""
    scale: dict[str, float]
    """Scale factors of the profile (users, rate, time), also inside `plan`."""
    planned_duration_s: float
    """Sum of the plan's stage durations."""
    started_at: str
    """ISO-8601 UTC when the runner started the load generators."""
    workers_expected: int
    """Local workers started (0: one local Locust process, no master)."""
    versions: dict[str, str]
    """perfctl, locust and python versions."""
    host: dict[str, Any]
    """Machine that generated the load: hostname, platform, cpu_count."""
    tags: dict[str, str] = field(default_factory=dict)
    """From `--tag key=value`."""
    sla: str | None = None
    """The SLA file given with --sla, for the evaluate stage."""
    ended_at: str | None = None
    """ISO-8601 UTC when the last load generator stopped; None while running."""
    duration_s: float | None = None
    """ended_at - started_at."""
    exit_reason: str = ""
    """Why the run ended: plan finished, interrupted by SIGINT, deadline, every worker lost ..."""
    interrupted: bool = False
    """True when Ctrl-C or SIGTERM stopped the run."""
    workers_lost: int = 0
    """Workers that died or that the master reported lost."""
    worker_events: tuple[WorkerEvent, ...] = ()
    """Generator events seen by the runner and the engine."""
    processes: tuple[ProcessRecord, ...] = ()
    """Child processes with their logs and exit codes."""
    engine: dict[str, Any] | None = None
    """The engine's engine.json, when it wrote one."""
    schema: int = RUN_SCHEMA_VERSION
    """Version of this format."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        # schema first: a reader checks it before anything else
        return {"schema": data.pop("schema"), **data}


def write_run_record(run_dir: Path, record: RunRecord) -> None:
    write_json_atomically(run_dir / RUN_FILE, record.to_dict())


def read_run_record(run_dir: Path) -> dict[str, Any]:
    """The run.json of `run_dir` as a dict; a RunDirError if it is missing or unreadable."""
    path = run_dir / RUN_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunDirError(f"{path} is missing: is {run_dir} a perfctl run directory?") from None
    except (OSError, json.JSONDecodeError) as error:
        raise RunDirError(f"{path} is unreadable: {error}") from None
    if not isinstance(data, dict) or data.get("schema") != RUN_SCHEMA_VERSION:
        raise RunDirError(f"{path}: expected a run record with schema {RUN_SCHEMA_VERSION}")
    return data


def read_engine_summary(run_dir: Path) -> dict[str, Any] | None:
    """The engine's engine.json, or None when it never wrote one (or wrote half)."""
    try:
        data = json.loads((run_dir / ENGINE_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
