"""`perfctl run`: a plan becomes load, and the load becomes a run directory.

The runner resolves the plan, starts the target if it is embedded (or waits for the given
one to answer), writes RUN_DIR/plan.json and run.json, starts the Locust processes, watches
them (deadline, lost workers, Ctrl-C, a lasting SLA breach when the pipeline hands it a
`BreachWatch`), and finishes run.json with how the run ended. It never imports locust: the
engine runs in the child processes.

Signals: the first Ctrl-C or SIGTERM marks run.json aborted at once, then asks the Locust
master (or local process) to stop so the engine flushes; a second one kills every child at
once. Either way run.json says the run was interrupted.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from harness import __version__
from harness.engine import ENGINE_LOCUSTFILE
from harness.errors import (
    EngineError,
    InterruptedRunError,
    PerfctlError,
    RunDirError,
    UsageError,
)
from harness.observe import (
    ObserveOptions,
    ServerObservation,
    probe_prometheus,
)
from harness.plan import RunPlan
from harness.processes import raise_open_files_limit
from harness.redaction import redact_url
from harness.run._breach_watch import BreachWatch, StartBreachWatch
from harness.run._ending import STATUS_OF_STOP, Ending, decide_status, failure_cause
from harness.run._interrupts import Interrupts
from harness.run._live import LiveProgress, print_summary
from harness.run._load_generators import (
    EXPECT_WORKERS_MAX_WAIT_S,
    EngineEnvironment,
    LoadGenerators,
    parse_master_address,
)
from harness.run._target import (
    BackendOptions,
    EmbeddedBackend,
    find_free_port,
    validate_target_url,
    wait_for_target,
)
from harness.rundir import (
    LOGS_DIR,
    PLAN_FILE,
    EndCause,
    ProcessRecord,
    RunnerProcess,
    RunRecord,
    RunStatus,
    WorkerEvent,
    create_run_dir,
    iso_utc,
    make_run_id,
    utc_now,
    validate_run_id,
    write_json_atomically,
    write_run_record,
)
from harness.spec import (
    LocustOptions,
    Objective,
    check_plan,
    default_sla_path,
    load_sla,
    plan_run,
)
from harness.timeline import (
    EVENTS_FILE,
    TIMELINE_FILE,
    EngineEvent,
    EngineSummary,
    LineTail,
    WindowLine,
    read_engine_summary,
)

STARTUP_GRACE_S = 30.0
"""Time the Locust processes may take to start before the plan's clock is behind."""
STOP_GRACE_S = 15.0
"""Time the master (or local process) gets to stop and flush after the stop request."""
WORKER_STOP_GRACE_S = 5.0
"""Time the workers get to exit after the master."""
_POLL_INTERVAL_S = 0.25


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Everything `perfctl run` was asked for."""

    scenario: str
    """Scenario name, scenario file, locustfile (*.py) or saved plan (*.json)."""
    profile: str | None = None
    """Profile; None is the scenario's default."""
    target: str | None = None
    """Target URL; None starts the embedded reference backend."""
    sla: Path | None = None
    """SLA file (evaluated by a later stage; checked to exist now)."""
    workers: int = 0
    """Local Locust workers; 0 (and no remote workers) runs one local Locust process."""
    remote_workers: int = 0
    """Workers the master also waits for, started elsewhere with `perfctl worker`."""
    master_bind: str = "127.0.0.1"
    """Address (HOST or HOST:PORT) the master listens on for workers."""
    out_dir: Path = Path("reports")
    """Parent of the run directory."""
    run_id: str | None = None
    """Name of the run directory; None is `<UTC timestamp>-<scenario>`."""
    tags: dict[str, str] = field(default_factory=dict)
    """From --tag key=value."""
    quiet: bool = False
    """One summary line every few seconds instead of the live table."""
    locust: LocustOptions = field(default_factory=LocustOptions)
    """-u/-r/-t for a plain locustfile."""
    observe: ObserveOptions = field(default_factory=ObserveOptions)
    """Server-side metrics: scrape the target's /metrics, or query --prometheus-url after."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished run (completed or degraded); other endings raise."""

    run_dir: Path
    """Where everything was written."""
    record: RunRecord
    """What run.json says."""


def _last_log_line(path: Path, tail_bytes: int = 4096) -> str:
    """The last non-empty line of a log, for an error message."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - tail_bytes))
            lines = handle.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return lines[-1].strip() if lines else "(empty log)"


def _versions() -> dict[str, str]:
    try:
        locust_version = importlib.metadata.version("locust")
    except importlib.metadata.PackageNotFoundError:
        locust_version = "not installed"
    return {"perfctl": __version__, "locust": locust_version, "python": platform.python_version()}


def _host() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def _sla_path(given: Path | None, plan: RunPlan) -> Path | None:
    """The SLA a run is judged on: --sla; else, for a scenario, sla.yaml here or in the
    checkout (a team's plain locustfile is judged only on an SLA it names)."""
    if given is not None:
        return given.resolve()
    if any(journey.kind == "locustfile" for journey in plan.journeys):
        return None
    found = default_sla_path()
    return found.resolve() if found.is_file() else None


def run(
    request: RunRequest,
    *,
    locustfile: Path = ENGINE_LOCUSTFILE,
    console: Console | None = None,
    start_breach_watch: StartBreachWatch | None = None,
    on_run_dir: Callable[[Path], None] | None = None,
) -> RunResult:
    """Run `request` and leave its run directory; raise for aborted or failed runs.

    `start_breach_watch` builds, when the load starts, the watch that stops the run on a
    lasting SLA breach (abort on breach); without one the run is never stopped for a breach.
    `on_run_dir` is told the run directory once it exists, before any load (the live web
    view follows its files from there).
    """
    if request.workers < 0 or request.remote_workers < 0:
        raise UsageError("--workers and --remote-workers must be 0 or more")
    if request.sla is not None and not request.sla.is_file():
        raise UsageError(f"SLA file {request.sla} does not exist")
    run_id = validate_run_id(request.run_id) if request.run_id is not None else None
    master_host, master_port = parse_master_address(request.master_bind, None)
    target_url = validate_target_url(request.target) if request.target is not None else None
    plan = plan_run(
        request.scenario,
        profile=request.profile,
        target=redact_url(target_url) if target_url else "",
        tags=request.tags,
        locust=request.locust,
    )
    sla_path = _sla_path(request.sla, plan)
    # a name in the SLA that the scenario never produces is a spec error before any load
    objectives = check_plan(load_sla(sla_path) if sla_path is not None else None, plan)
    request = replace(request, sla=sla_path)
    if target_url is not None:
        wait_for_target(target_url)
    if request.observe.prometheus is not None:
        probe_prometheus(request.observe.prometheus)
    run_dir = create_run_dir(request.out_dir, run_id or make_run_id(plan.scenario, utc_now()))
    if on_run_dir is not None:
        on_run_dir(run_dir)
    with Interrupts() as interrupts:
        session = _RunSession(
            request,
            plan,
            run_dir,
            interrupts,
            console or Console(),
            master=(master_host, master_port or find_free_port(master_host)),
            objectives=objectives,
            start_breach_watch=start_breach_watch,
        )
        return session.execute(target_url, locustfile)


class _RunSession:
    """The mutable state of one run while it goes; it owns run.json."""

    def __init__(
        self,
        request: RunRequest,
        plan: RunPlan,
        run_dir: Path,
        interrupts: Interrupts,
        console: Console,
        *,
        master: tuple[str, int],
        objectives: tuple[Objective, ...] = (),
        start_breach_watch: StartBreachWatch | None = None,
    ) -> None:
        self.request = request
        self.objectives = objectives
        self.start_breach_watch = start_breach_watch
        self.plan = plan
        self.run_dir = run_dir
        self.interrupts = interrupts
        self.console = console
        self.master = master
        self.workers_expected = request.workers + request.remote_workers
        self.started_at = utc_now()
        self.started_monotonic = time.monotonic()
        self.target_embedded = request.target is None
        self.processes: dict[str, ProcessRecord] = {}
        self.events: list[WorkerEvent] = []
        self.dead_workers: set[str] = set()
        self.reported_lost = 0
        self.engine_events = LineTail(run_dir / EVENTS_FILE, EngineEvent)
        self.timeline = LineTail(run_dir / TIMELINE_FILE, WindowLine)
        self.breach_watch: BreachWatch | None = None
        self.versions = _versions()
        self.host = _host()
        self.runner = RunnerProcess.this_process()

    # -- run.json ---------------------------------------------------------------------------

    def record(
        self,
        status: RunStatus,
        *,
        reason: str = "",
        cause: EndCause | None = None,
        engine: EngineSummary | None = None,
    ) -> RunRecord:
        """run.json as it stands: running while `cause` is None, else ended."""
        ended_at = utc_now() if cause is not None else None
        return RunRecord(
            run_id=self.run_dir.name,
            status=status,
            scenario=self.request.scenario,
            profile=self.plan.profile,
            target=self.plan.target,
            target_embedded=self.target_embedded,
            plan=self.plan.to_dict(),
            scale=self.plan.to_dict()["scale"],
            planned_duration_s=self.plan.duration_s,
            started_at=iso_utc(self.started_at),
            workers_expected=self.workers_expected,
            versions=self.versions,
            host=self.host,
            tags=dict(self.plan.tags),
            sla=str(self.request.sla) if self.request.sla is not None else None,
            ended_at=iso_utc(ended_at) if ended_at is not None else None,
            duration_s=(
                round((ended_at - self.started_at).total_seconds(), 3)
                if ended_at is not None
                else None
            ),
            exit_reason=reason,
            interrupted=cause is EndCause.INTERRUPTED,
            workers_lost=self.workers_lost,
            worker_events=tuple(self.events),
            processes=tuple(self.processes.values()),
            engine=engine,
            end_cause=cause,
            runner=self.runner,
        )

    def write(self, record: RunRecord) -> RunRecord:
        write_run_record(self.run_dir, record)
        return record

    # -- the run ----------------------------------------------------------------------------

    def execute(self, target_url: str | None, locustfile: Path) -> RunResult:
        generators: LoadGenerators | None = None
        backend: EmbeddedBackend | None = None
        try:
            with contextlib.ExitStack() as stack:
                if target_url is None:
                    backend = EmbeddedBackend(
                        self.run_dir / LOGS_DIR / "backend.log",
                        BackendOptions(catalog_size=self.plan.catalog_size),
                    )
                    stack.enter_context(backend)
                    self.write(self.record("running", reason="starting the embedded backend"))
                    target_url = backend.start()
                    self._note_process("backend", backend.pid)
                    self.plan = replace(self.plan, target=redact_url(target_url))
                write_json_atomically(self.run_dir / PLAN_FILE, self.plan.to_dict())
                raise_open_files_limit()
                stack.enter_context(
                    ServerObservation(
                        self.request.observe,
                        self.run_dir,
                        target_url,
                        self.request.sla,
                        plan=self.plan,
                    )
                )
                generators = LoadGenerators(
                    EngineEnvironment(self.run_dir / PLAN_FILE, self.run_dir, target_url),
                    self.run_dir / LOGS_DIR,
                    workers=self.request.workers,
                    expect_workers=self.workers_expected,
                    master_host=self.master[0],
                    master_port=self.master[1],
                    locustfile=locustfile,
                )
                stack.callback(generators.kill_all)  # whatever happens, no Locust outlives us
                self.started_at = utc_now()
                self.started_monotonic = time.monotonic()
                if self.start_breach_watch is not None:
                    self.breach_watch = self.start_breach_watch(
                        self.objectives, self.plan, started_t=self.started_at.timestamp()
                    )
                generators.start()
                self._note_generators(generators)
                self.write(self.record("running", reason="load running"))
                self.interrupts.graceful = True
                ending = self._watch(generators)
                generators.stop_workers(WORKER_STOP_GRACE_S)
        except KeyboardInterrupt:
            # not stoppable gracefully (startup), or a second Ctrl-C: children are gone now
            self._note_children(generators, backend)
            self.write(
                self.record(
                    "aborted",
                    reason=f"interrupted by {self.interrupts.signal_name or 'SIGINT'}",
                    cause=EndCause.INTERRUPTED,
                    engine=self._engine_summary()[0],
                )
            )
            raise InterruptedRunError(
                f"interrupted; what was measured is in {self.run_dir}", run_dir=self.run_dir
            ) from None
        except PerfctlError as error:
            self._note_children(generators, backend)
            self.write(
                self.record(
                    "failed",
                    reason=error.message,
                    cause=failure_cause(error),
                    engine=self._engine_summary()[0],
                )
            )
            raise
        self._note_children(generators, backend)
        return self._finish(ending)

    def _engine_summary(self) -> tuple[EngineSummary | None, str]:
        """engine.json, or None and why (never written, or unreadable)."""
        try:
            return read_engine_summary(self.run_dir), ""
        except RunDirError as error:
            return None, error.message

    def _finish(self, ending: Ending) -> RunResult:
        engine, unreadable = self._engine_summary()
        if engine is not None:
            self.reported_lost = max(self.reported_lost, engine.workers_lost)
        outcome = decide_status(
            ending,
            engine,
            workers_lost=self.workers_lost,
            workers_expected=self.workers_expected,
            engine_failure=unreadable or self._engine_failure(),
        )
        status, reason = outcome.status, outcome.reason
        record = self.write(self.record(status, reason=reason, cause=outcome.cause, engine=engine))
        if not self.request.quiet or status != "completed":
            self.console.print()
        print_summary(self.console, self.run_dir, record)
        if ending.interrupted:
            raise InterruptedRunError(
                f"interrupted; what was measured is in {self.run_dir}", run_dir=self.run_dir
            )
        if status in ("aborted", "failed"):
            raise EngineError(f"run {status}: {reason} (see {self.run_dir})", run_dir=self.run_dir)
        return RunResult(self.run_dir, record)

    def _engine_failure(self) -> str:
        primary = self.processes.get("master") or self.processes.get("local")
        if primary is None:
            return "no Locust process ran"
        log = self.run_dir / primary.log
        return (
            f"the Locust {primary.role} exited with code {primary.exit_code} without finishing "
            f"the run; its log ({log}) ends with: {_last_log_line(log)}"
        )

    def _watch(self, generators: LoadGenerators) -> Ending:
        primary = generators.primary
        assert primary is not None
        ending = Ending()
        deadline = (
            self.started_monotonic
            + self.plan.duration_s
            # the engine ends the run only after the graceful stop of the users in flight
            + self.plan.graceful_stop_s
            + STARTUP_GRACE_S
            + (EXPECT_WORKERS_MAX_WAIT_S if self.workers_expected else 0)
        )
        stop_sent_at: float | None = None
        with LiveProgress(
            self.run_dir, self.plan, console=self.console, quiet=self.request.quiet
        ) as live:
            while primary.running:
                now = time.monotonic()
                if stop_sent_at is None:
                    stop = self._reason_to_stop(now, deadline) or self._breach_to_abort()
                    if stop is not None:
                        ending = self._begin_stop(*stop)
                        primary.request_stop()
                        stop_sent_at = now
                elif now - stop_sent_at > STOP_GRACE_S:
                    primary.kill()
                self._collect_worker_losses(generators)
                live.refresh()
                time.sleep(_POLL_INTERVAL_S)
            self._collect_worker_losses(generators)
            live.refresh(final=True)
        self._note_generators(generators)
        return ending

    def _reason_to_stop(self, now: float, deadline: float) -> tuple[EndCause, str] | None:
        if self.interrupts.count:
            return EndCause.INTERRUPTED, f"interrupted by {self.interrupts.signal_name}"
        if self.workers_expected and self.workers_lost >= self.workers_expected:
            return EndCause.WORKERS_LOST, "every worker was lost"
        if now > deadline:
            return EndCause.DEADLINE, (
                f"deadline: the engine was still running {self.plan.duration_s:g} s plan "
                f"+ {deadline - self.started_monotonic - self.plan.duration_s:g} s grace after start"
            )
        return None

    def _breach_to_abort(self) -> tuple[EndCause, str] | None:
        """An SLA objective with an abort rule whose breach has lasted (k6's abortOnFail)."""
        if not self.breach_watch:
            return None
        self.breach_watch.observe(self.timeline.read_new())
        breach = self.breach_watch.check(time.time())
        if breach is None:
            return None
        self._event("abort", breach.reason)
        return EndCause.ABORT_ON_BREACH, f"abort on breach: {breach.reason}"

    def _begin_stop(self, cause: EndCause, reason: str) -> Ending:
        status = STATUS_OF_STOP[cause]
        # written before waiting on anyone, so a second Ctrl-C still leaves the truth
        self.write(self.record(status, reason=reason, cause=cause))
        return Ending(status=status, cause=cause, reason=reason)

    def _collect_worker_losses(self, generators: LoadGenerators) -> None:
        """Record workers that died, and the generator events the engine appended."""
        for worker in generators.workers:
            # exit code 0: the master told it to quit at the end of the run
            if worker.exit_code and worker.role not in self.dead_workers:
                self.dead_workers.add(worker.role)
                self._event("worker_exited", f"{worker.role} exited with code {worker.exit_code}")
        for event in self.engine_events.read_new():
            kind = event.kind
            if kind.startswith("worker") or kind in ("generator_saturated", "behind_plan"):
                self.events.append(WorkerEvent(t=event.t, kind=kind, detail=event.detail))
            if kind == "worker_lost":
                self.reported_lost += 1

    @property
    def workers_lost(self) -> int:
        # a local worker that died is also reported lost by the master: count it once
        return max(len(self.dead_workers), self.reported_lost)

    def _event(self, kind: str, detail: str) -> None:
        self.events.append(WorkerEvent(t=round(time.time(), 3), kind=kind, detail=detail))

    def _note_process(self, role: str, pid: int | None, exit_code: int | None = None) -> None:
        if pid is not None:
            self.processes[role] = ProcessRecord(
                role=role, pid=pid, log=f"{LOGS_DIR}/{role}.log", exit_code=exit_code
            )

    def _note_children(
        self, generators: LoadGenerators | None, backend: EmbeddedBackend | None
    ) -> None:
        if backend is not None:
            self._note_process("backend", backend.pid, backend.exit_code)
        if generators is not None:
            self._note_generators(generators)

    def _note_generators(self, generators: LoadGenerators) -> None:
        for process in generators.processes:
            self._note_process(process.role, process.pid, process.exit_code)
