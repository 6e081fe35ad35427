"""The one way into a finished run directory: `open_run_dir` → `RunDir`.

It reads run.json and engine.json whole, typed and checked against each other; tells a run
that ended from one still running and from one whose perfctl was killed (run.json still says
running, its process is gone); and hands out the line files through readers that check every
line and, when the engine finished, every file against what the engine says it wrote. What
it finds that is not an error but must not be missed (a killed run, a last line cut off
mid-write) is in `notes`, which the verdict adds to its reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RunDirError
from harness.plan import RunPlan
from harness.rundir._layout import PLAN_FILE, RUN_FILE
from harness.rundir._record import EndCause, RunRecord, read_run_record
from harness.timeline import (
    ENGINE_FILE,
    EVENTS_FILE,
    LINE_FILES,
    LOAD_FILE,
    TIMELINE_FILE,
    EngineEvent,
    EngineSummary,
    LineFileCheck,
    LoadSample,
    MalformedError,
    Timeline,
    WindowLine,
    check_size,
    line_file_checks,
    parse_json,
    parse_python,
    read_engine_summary,
    read_events,
    read_load,
    torn_tail,
)


@dataclass(frozen=True, slots=True)
class RunDir:
    """A run directory opened for reading: its record, plan and engine summary checked, its
    measurement files read (strictly) on demand."""

    path: Path
    """The run directory."""
    record: RunRecord
    """run.json."""
    plan: RunPlan
    """The plan the run executed (run.json's `plan`)."""
    engine: EngineSummary | None
    """engine.json; None when the engine never finished."""
    killed: bool
    """perfctl was killed during the run: run.json still says running, its process is gone."""
    checks: dict[str, LineFileCheck]
    """How each line file is read (against the engine's tally, or accepting a cut last line)."""
    notes: tuple[str, ...] = ()
    """What a person judging the run must be told: killed, last lines cut off."""

    @property
    def run_status(self) -> str:
        """interrupted, killed, or run.json's status."""
        if self.record.interrupted:
            return "interrupted"
        if self.killed:
            return EndCause.KILLED.value
        return self.record.status

    @property
    def end_cause(self) -> EndCause | None:
        """Why the run ended (KILLED for a killed run); None for older run directories."""
        return EndCause.KILLED if self.killed else self.record.end_cause

    def timeline(self) -> Timeline:
        """timeline.jsonl as a streaming `Timeline`."""
        return Timeline(self.path, self.checks[TIMELINE_FILE])

    def windows(self) -> Iterator[tuple[int, WindowLine]]:
        """(line number, line) of timeline.jsonl, every line and the file checked."""
        return self.timeline().lines()

    def load(self) -> tuple[LoadSample, ...]:
        """load.jsonl, in time order."""
        return tuple(read_load(self.path, self.checks[LOAD_FILE]))

    def events(self) -> tuple[EngineEvent, ...]:
        """events.jsonl, in file order."""
        return tuple(read_events(self.path, self.checks[EVENTS_FILE]))


def open_run_dir(path: Path) -> RunDir:
    """`path` opened for reading; a RunDirError (exit 3) naming file, line and field when it
    is not a readable, consistent run directory, or when its run is still going."""
    if not path.is_dir():
        raise RunDirError(f"{path}: no such run directory")
    record = read_run_record(path)
    try:
        plan = parse_python(RunPlan, record.plan)
    except MalformedError as error:
        raise RunDirError(f"{path / RUN_FILE}: plan.{error}") from None
    _check_plan_file(path, plan)
    engine = read_engine_summary(path)
    notes: list[str] = []
    killed = False
    if record.status == "running":
        killed = True
        notes.append(_killed_note(path, record))
    elif record.engine != engine:
        raise RunDirError(
            f"{path / ENGINE_FILE} does not match the engine summary run.json recorded at the "
            f"end of the run ({_difference(record.engine, engine)})"
        )
    checks = line_file_checks(path, engine)
    for name in LINE_FILES:
        check_size(path / name, checks[name])
        cut = torn_tail(path / name) if checks[name].torn_tail_ok else None
        if cut is not None:
            notes.append(
                f"{name}:{cut.line}: the last line was cut off mid-write ({cut.length_bytes} "
                "bytes) when the engine stopped without finishing; it is not judged"
            )
    return RunDir(path, record, plan, engine, killed, checks, tuple(notes))


def _check_plan_file(path: Path, plan: RunPlan) -> None:
    """plan.json, when there is one, must be the plan run.json recorded."""
    plan_file = path / PLAN_FILE
    try:
        text = plan_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return  # the run failed before the plan was written
    except (OSError, UnicodeDecodeError) as error:
        raise RunDirError(f"{plan_file} is unreadable: {error}") from None
    try:
        written = parse_json(RunPlan, text)
    except MalformedError as error:
        raise RunDirError(f"{plan_file}{error.line_suffix(text)}: {error}") from None
    if written != plan:
        raise RunDirError(f"{plan_file} is not the plan run.json recorded for this run")


def _killed_note(path: Path, record: RunRecord) -> str:
    runner = record.runner
    if runner is None:
        return (
            "run.json still says running and names no perfctl process (an older version): "
            "judged as a run whose perfctl was killed; it never counts as a pass"
        )
    alive = runner.alive()
    where = f"perfctl pid {runner.pid} on {runner.hostname}"
    if alive is None:
        raise RunDirError(
            f"{path / RUN_FILE}: the run is still running on another machine ({where}), or "
            "was killed there: judge it there, or once it has ended"
        )
    if alive:
        raise RunDirError(f"{path}: the run is still running ({where}): judge it once it has ended")
    return (
        f"perfctl was killed during the run (run.json still says running; {where} is gone): "
        "what it measured is judged, but the run never counts as a pass"
    )


def _difference(recorded: EngineSummary | None, found: EngineSummary | None) -> str:
    if recorded is None:
        return "run.json recorded none"
    if found is None:
        return "engine.json is missing"
    changed = [
        name
        for name in EngineSummary.__dataclass_fields__
        if getattr(recorded, name) != getattr(found, name)
    ]
    return f"{', '.join(changed)} differ"
