"""run.json: the runner's record of one run, written at start and at the end, read back typed.

The record is read back into the dataclass that wrote it (pydantic, strict JSON mode: no
`"interrupted": "no"`, no `"status": 123`) and then checked for consistency: a finished run
has an end time and a cause that fits its status, a running one has neither. Anything else
is a RunDirError naming run.json, the line and the field.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import AfterValidator, ConfigDict

from harness.errors import RunDirError
from harness.rundir._layout import RUN_FILE, write_json_atomically
from harness.timeline import Count, EngineSummary, MalformedError, parse_json

RUN_SCHEMA_VERSION = 1

RunStatus = Literal["running", "completed", "aborted", "failed", "degraded"]
Seconds = Annotated[float, Ge(0)]


class EndCause(StrEnum):
    """Why a run ended: what code decides on (the sentence beside it is for people)."""

    PLAN_FINISHED = "plan_finished"
    """The engine ran the plan to its end (status completed, or degraded)."""
    INTERRUPTED = "interrupted"
    """Ctrl-C or SIGTERM (status aborted)."""
    DEADLINE = "deadline"
    """The engine overran the plan and its grace; the runner stopped it (status failed)."""
    ABORT_ON_BREACH = "abort_on_breach"
    """An SLA objective's abort rule stopped the run (status aborted)."""
    WORKERS_LOST = "workers_lost"
    """Every load generator was lost (status aborted)."""
    ENGINE_ABORTED = "engine_aborted"
    """The engine stopped before the plan's end by itself (status aborted)."""
    ENGINE_FAILED = "engine_failed"
    """A Locust process failed or died without finishing the run (status failed)."""
    TARGET_FAILED = "target_failed"
    """The target did not answer, or the embedded backend could not serve (status failed)."""
    RUN_FAILED = "run_failed"
    """Another error stopped the runner (status failed)."""
    KILLED = "killed"
    """Never written: the reader's finding that perfctl itself was killed (run.json still
    says running and its process is gone)."""


CAUSES_BY_STATUS: dict[str, frozenset[EndCause]] = {
    "completed": frozenset({EndCause.PLAN_FINISHED}),
    "degraded": frozenset({EndCause.PLAN_FINISHED}),
    "aborted": frozenset(
        {
            EndCause.INTERRUPTED,
            EndCause.ABORT_ON_BREACH,
            EndCause.WORKERS_LOST,
            EndCause.ENGINE_ABORTED,
        }
    ),
    "failed": frozenset(
        {EndCause.DEADLINE, EndCause.ENGINE_FAILED, EndCause.TARGET_FAILED, EndCause.RUN_FAILED}
    ),
}
"""The causes each final status can have."""


def _iso_utc(text: str) -> str:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO-8601 time") from None
    return text


IsoTime = Annotated[str, AfterValidator(_iso_utc)]


@dataclass(frozen=True, slots=True)
class RunnerProcess:
    """The perfctl process that ran the load, so a reader can tell a run still going from one
    whose runner was killed."""

    pid: Count
    """Its process id."""
    hostname: str
    """The machine it ran on."""
    started_at: Seconds
    """Unix time the process started (tells a reused pid from the runner)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    @classmethod
    def this_process(cls) -> RunnerProcess:
        import psutil

        pid = os.getpid()
        return cls(pid, socket.gethostname(), psutil.Process(pid).create_time())

    def alive(self) -> bool | None:
        """Whether it still runs; None when it ran on another machine (cannot tell)."""
        if self.hostname != socket.gethostname():
            return None
        import psutil

        try:
            created = psutil.Process(self.pid).create_time()
        except psutil.NoSuchProcess:
            return False
        except psutil.Error:
            return None
        return abs(created - self.started_at) < 1.0


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One child process of the run."""

    role: str
    """backend, local, master, worker-1, ..."""
    pid: Count
    """Process id while it ran."""
    log: str
    """Its stdout+stderr, relative to the run directory."""
    exit_code: int | None = None
    """Exit code; negative is the signal that ended it; None while running or unknown."""

    __pydantic_config__ = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class WorkerEvent:
    """Something that happened to a load generator during the run."""

    t: Seconds
    """Unix time of the event."""
    kind: str
    """worker_joined, worker_lost, worker_exited, generator_saturated, behind_plan, ..."""
    detail: str = ""
    """Which worker, and what was seen."""

    __pydantic_config__ = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything `run.json` says about one run; evaluate and report read it."""

    run_id: str
    """Directory name of the run."""
    status: RunStatus
    """running while the load runs; then completed, degraded (a worker was lost but load
    went on), aborted (interrupted, abort on breach, every worker lost) or failed (deadline,
    an engine or target error ended it). `end_cause` says which."""
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
    planned_duration_s: Seconds
    """Sum of the plan's stage durations."""
    started_at: IsoTime
    """ISO-8601 UTC when the runner started the load generators."""
    workers_expected: Count
    """Local workers started (0: one local Locust process, no master)."""
    versions: dict[str, str]
    """perfctl, locust and python versions."""
    host: dict[str, Any]
    """Machine that generated the load: hostname, platform, cpu_count."""
    tags: dict[str, str] = field(default_factory=dict)
    """From `--tag key=value`."""
    sla: str | None = None
    """The SLA file given with --sla, for the evaluate stage."""
    ended_at: IsoTime | None = None
    """ISO-8601 UTC when the last load generator stopped; None while running."""
    duration_s: Seconds | None = None
    """ended_at - started_at."""
    exit_reason: str = ""
    """Why the run ended, in words: plan finished, interrupted by SIGINT, deadline, ..."""
    interrupted: bool = False
    """True when Ctrl-C or SIGTERM stopped the run."""
    workers_lost: Count = 0
    """Workers that died or that the master reported lost."""
    worker_events: tuple[WorkerEvent, ...] = ()
    """Generator events seen by the runner and the engine."""
    processes: tuple[ProcessRecord, ...] = ()
    """Child processes with their logs and exit codes."""
    engine: EngineSummary | None = None
    """The engine's engine.json, when it wrote one."""
    end_cause: EndCause | None = None
    """Why the run ended, as a value code can decide on; None while running (and in run
    directories of older versions)."""
    runner: RunnerProcess | None = None
    """The perfctl process running the load (None in older run directories)."""
    schema: int = RUN_SCHEMA_VERSION
    """Version of this format."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        # schema first: a reader checks it before anything else
        return {"schema": data.pop("schema"), **data}


OPTIONAL_KEYS = frozenset({"end_cause", "runner"})
"""Keys older versions did not write; every other key is always written."""


def write_run_record(run_dir: Path, record: RunRecord) -> None:
    write_json_atomically(run_dir / RUN_FILE, record.to_dict())


def read_run_record(run_dir: Path) -> RunRecord:
    """run.json of `run_dir`, typed and checked; a RunDirError naming the line and field."""
    path = run_dir / RUN_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunDirError(f"{path} is missing: is {run_dir} a perfctl run directory?") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RunDirError(f"{path} is unreadable: {error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        line = getattr(error, "lineno", None)
        raise RunDirError(f"{path}{f':{line}' if line else ''}: not valid JSON ({error})") from None
    problem = _shape(data)
    if problem is not None:
        raise RunDirError(f"{path}: {problem}")
    try:
        record = parse_json(RunRecord, text)
    except MalformedError as error:
        raise RunDirError(f"{path}{error.line_suffix(text)}: {error}") from None
    problem = inconsistency(record)
    if problem is not None:
        raise RunDirError(f"{path}: {problem}")
    return record


def _shape(data: object) -> str | None:
    """What is wrong with run.json before its fields are read: not an object, another schema,
    a key every version writes missing."""
    if not isinstance(data, dict):
        return f"expected a run record (a JSON object), got {type(data).__name__}"
    if data.get("schema") != RUN_SCHEMA_VERSION:
        return (
            f"expected a run record with schema {RUN_SCHEMA_VERSION}, "
            f"got schema {data.get('schema')!r}"
        )
    for name in RunRecord.__dataclass_fields__:
        if name not in data and name not in OPTIONAL_KEYS:
            return f"{name} is missing"
    return None


def inconsistency(record: RunRecord) -> str | None:
    """What in `record` contradicts itself, None when it is consistent."""
    if record.status == "running":
        if record.ended_at is not None or record.duration_s is not None:
            return "status is running, yet ended_at and duration_s say the run ended"
        if record.end_cause is not None or record.interrupted:
            return f"status is running, yet the run ended ({record.end_cause or 'interrupted'})"
        return None
    if record.ended_at is None or record.duration_s is None:
        return f"status is {record.status}, yet ended_at or duration_s is missing"
    finished = record.status in ("completed", "degraded")
    if finished and (record.status == "degraded") != (record.workers_lost > 0):
        # the plan ran to its end: degraded exactly when a worker was lost on the way
        return f"status is {record.status}, yet workers_lost is {record.workers_lost}"
    cause = record.end_cause
    if cause is None:
        return None  # written by an older version
    if cause not in CAUSES_BY_STATUS[record.status]:
        return f"status {record.status} cannot have end_cause {cause.value}"
    if record.interrupted != (cause is EndCause.INTERRUPTED):
        return f"interrupted is {str(record.interrupted).lower()}, yet end_cause is {cause.value}"
    return None
