"""Everything a run's report shows, read from its run directory once and with secrets scrubbed."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import RunDirError
from harness.observe import read_server_series
from harness.plan import RunPlan
from harness.redaction import (
    scrub,
    scrub_text,
)
from harness.rundir import RunDir, RunRecord, open_run_dir
from harness.timeline import EngineEvent, EngineSummary, LoadSample, parse_python
from harness.verdict import (
    VERDICT_FILE,
    Measurements,
    RunClock,
    Span,
    Verdict,
    run_clock,
    scope_span,
)

SERVER_FILE = "server.jsonl"
SERVER_INFO_FILE = "server.json"
COMPARE_FILE = "compare.json"


@dataclass(frozen=True, slots=True)
class ServerSample:
    """One server-side measurement (one server.jsonl line)."""

    t: float
    """Unix time, seconds."""
    metric: str
    """cpu_ratio, memory_ratio, cache_hit_ratio, ..."""
    labels: tuple[tuple[str, str], ...]
    """Label pairs, sorted (e.g. (("cache_type", "product"),))."""
    value: float
    """Value in the metric's canonical unit."""


@dataclass(frozen=True, slots=True)
class RunData:
    """One run as the report sees it."""

    run_dir: Path
    """The run directory."""
    record: RunRecord
    """run.json, scrubbed."""
    plan: RunPlan
    """The resolved plan the run executed."""
    clock: RunClock
    """Offset 0 of the plan and the end of the load, unix seconds."""
    judged: Span | None
    """The span the verdict judges (the run after warm-up), None when there is none."""
    index: Measurements
    """The timeline, indexed in one pass."""
    load: tuple[LoadSample, ...]
    """load.jsonl, in time order."""
    events: tuple[EngineEvent, ...]
    """events.jsonl, details scrubbed."""
    engine: EngineSummary | None
    """engine.json, None when the engine never finished."""
    verdict: Verdict | None
    """verdict.json, None when the run was not evaluated."""
    capacity: dict[str, Any] | None
    """The verdict's optional capacity plan."""
    errors: dict[str, dict[str, int]]
    """Error message → operation → count, over the whole run."""
    server: tuple[ServerSample, ...]
    """server.jsonl (empty when server metrics were not collected)."""
    server_info: dict[str, Any] | None
    """server.json (source, interval), scrubbed."""
    comparison: dict[str, Any] | None
    """compare.json in the run directory (this run compared with a base run)."""
    run_status: str = "completed"
    """interrupted, killed (perfctl was killed mid-run), or run.json's status."""
    notes: tuple[str, ...] = ()
    """What the run-directory reader found that a reader must be told (killed run, a last
    line cut off mid-write)."""

    @property
    def offset_s(self) -> float:
        """Unix time of offset 0; every figure's time axis counts from it."""
        return self.clock.started_t


def read_run_data(run_dir: Path) -> RunData:
    """Read `run_dir` for its report; RunDirError (exit 3) when it is not a readable run."""
    run = open_run_dir(run_dir)
    record = _scrubbed(run.record)
    plan = run.plan
    index = Measurements(run)
    engine = run.engine
    clock = run_clock(record, index.time_range(), engine)
    span = scope_span(plan, clock, "run")
    raw_verdict = _read_json(run_dir / VERDICT_FILE)
    verdict = None
    if raw_verdict is not None:
        try:
            verdict = Verdict.from_dict(raw_verdict)
        except (KeyError, TypeError, ValueError) as error:
            raise RunDirError(f"{run_dir / VERDICT_FILE} is unreadable: {error}") from None
    capacity = raw_verdict.get("capacity") if raw_verdict else None
    return RunData(
        run_dir=run_dir,
        record=record,
        plan=plan,
        clock=clock,
        judged=span if isinstance(span, Span) else None,
        index=index,
        load=run.load(),
        events=tuple(
            EngineEvent(event.t, event.kind, scrub_text(event.detail)) for event in index.events
        ),
        engine=engine,
        verdict=verdict,
        capacity=capacity if isinstance(capacity, dict) else None,
        errors=_errors(run),
        server=_server_samples(run_dir),
        server_info=_read_json(run_dir / SERVER_INFO_FILE),
        comparison=_read_json(run_dir / COMPARE_FILE),
        run_status=run.run_status,
        notes=tuple(scrub_text(note) for note in run.notes),
    )


def _scrubbed(record: RunRecord) -> RunRecord:
    """`record` with every URL, bearer token and secret-looking value redacted."""
    return parse_python(RunRecord, scrub(record.to_dict()))


def _read_json(path: Path) -> dict[str, Any] | None:
    """A scrubbed JSON object file, None when absent; RunDirError when unreadable."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RunDirError(f"{path} is unreadable: {error}") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: expected a JSON object")
    return dict(scrub(data))


def _errors(run: RunDir) -> dict[str, dict[str, int]]:
    """Error messages per operation over the whole run (the index keeps counts, not messages)."""
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    for _, line in run.windows():
        for message, count in line.errors.items():
            per_op = totals[scrub_text(message)]
            per_op[line.op] = per_op.get(line.op, 0) + count
    return dict(totals)


def _server_samples(run_dir: Path) -> tuple[ServerSample, ...]:
    """server.jsonl as samples, in time order (read strictly, see observe.series); points
    without a finite value are skipped."""
    series = read_server_series(run_dir)
    if series is None:
        return ()
    samples = [
        ServerSample(
            point.t,
            point.metric,
            tuple(sorted((key, scrub_text(value)) for key, value in point.labels.items())),
            point.value,
        )
        for points in series.points.values()
        for point in points
        if math.isfinite(point.value)
    ]
    samples.sort(key=lambda sample: sample.t)
    return tuple(samples)
