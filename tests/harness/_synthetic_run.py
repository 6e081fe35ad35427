"""Builds run directories with exactly known measurements, for verdict, compare and report tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from harness.plan import JourneyPlan, RunPlan, Scale, StagePlan
from harness.rundir import EndCause, RunRecord, write_run_record
from harness.timeline import (
    EngineSummary,
    LoadSample,
    RunDirWriter,
    WindowRecord,
    read_engine_summary,
)

START_T = 1_800_000_000
"""Offset 0 of every synthetic run (a whole unix second)."""
_CAUSES = {
    "completed": EndCause.PLAN_FINISHED,
    "degraded": EndCause.PLAN_FINISHED,
    "aborted": EndCause.ENGINE_ABORTED,
    "failed": EndCause.ENGINE_FAILED,
}


def simple_plan(
    *,
    scenario: str = "synthetic",
    stages: tuple[tuple[str, float], ...] = (("steady", 120.0),),
    warmup_s: float = 0.0,
    model: str = "closed",
    scale: Scale | None = None,
    operations: tuple[str, ...] = ("search",),
) -> RunPlan:
    """A plan whose stages have the given names and durations, one after the other."""
    stage_plans, start = [], 0.0
    for name, duration in stages:
        stage_plans.append(StagePlan(name, start, duration, users_start=10, users_end=10))
        start += duration
    # a locustfile journey: perfctl cannot estimate its offered rate, so nothing is skipped for it
    journey = JourneyPlan("synthetic", 1.0, "locustfile", operations=operations)
    return RunPlan(
        scenario=scenario,
        profile="test",
        scale=scale or Scale(),
        model=model,  # type: ignore[arg-type]
        stages=tuple(stage_plans),
        journeys=(journey,),
        warmup_s=warmup_s,
        target="http://127.0.0.1:9",
    )


@dataclass
class SyntheticRun:
    """A run directory under construction: add seconds of requests, then `finish`."""

    run_dir: Path
    plan: RunPlan
    records: dict[tuple[int, str], WindowRecord] = field(default_factory=dict)
    events: list[dict[str, object]] = field(default_factory=list)
    loads: list[LoadSample] = field(default_factory=list)

    def add(
        self,
        op: str,
        offset_s: int,
        latencies_ms: list[float],
        outcome: str = "ok",
        *,
        service_ms: list[float] | None = None,
        error: str = "",
        connect_ms: list[float | None] | None = None,
        ttfb_ms: list[float | None] | None = None,
    ) -> SyntheticRun:
        """Requests of `op` completed in the second `offset_s` after the start; `connect_ms`
        (None for a request on a reused connection) and `ttfb_ms` are its connection phases."""
        key = (START_T + offset_s, op)
        record = self.records.setdefault(key, WindowRecord(key[0], op))
        for index, latency in enumerate(latencies_ms):
            service = service_ms[index] if service_ms else None
            record.record(
                outcome,  # type: ignore[arg-type]
                latency,
                service_ms=service,
                response_bytes=100,
                error=error or None,
                connect_ms=connect_ms[index] if connect_ms else None,
                ttfb_ms=ttfb_ms[index] if ttfb_ms else None,
            )
        return self

    def steady(
        self, op: str, seconds: range, per_second: int, latency_ms: float, outcome: str = "ok"
    ) -> SyntheticRun:
        """`per_second` identical requests in every second of `seconds`."""
        for offset in seconds:
            self.add(op, offset, [latency_ms] * per_second, outcome)
        return self

    def event(self, kind: str, offset_s: float, detail: str = "") -> SyntheticRun:
        self.events.append({"t": START_T + offset_s, "kind": kind, "detail": detail})
        return self

    def load(self, offset_s: int, **fields: object) -> SyntheticRun:
        """One load.jsonl sample for the second `offset_s` after the start (LoadSample fields)."""
        defaults: dict[str, object] = {"stage": None, "achieved_rps": 0.0, "workers": 1}
        self.loads.append(LoadSample.from_dict({**defaults, **fields, "t": START_T + offset_s}))
        return self

    def finish(
        self,
        *,
        status: str = "completed",
        interrupted: bool = False,
        saturated: bool = False,
        ended_offset_s: float | None = None,
        sla: str | None = None,
        end_cause: EndCause | None = None,
    ) -> Path:
        """Write timeline.jsonl, events.jsonl, engine.json and run.json; returns the run dir."""
        writer = RunDirWriter(self.run_dir)
        writer.append_windows(record for _, record in sorted(self.records.items()))
        for sample in self.loads:
            writer.append_load(sample)
        for event in self.events:
            writer.append_event(event["kind"], str(event["detail"]), t=float(event["t"]))  # type: ignore[arg-type]
        ended = START_T + (self.plan.duration_s if ended_offset_s is None else ended_offset_s)
        writer.write_engine(
            EngineSummary(
                status="completed" if status in ("completed", "degraded") else "aborted",
                reason="test",
                started_at=float(START_T),
                ended_at=float(ended),
                saturated=saturated,
            )
        )
        writer.close()
        write_run_record(
            self.run_dir,
            RunRecord(
                run_id=self.run_dir.name,
                status=status,  # type: ignore[arg-type]
                scenario=self.plan.scenario,
                profile=self.plan.profile,
                target=self.plan.target,
                target_embedded=False,
                plan=self.plan.to_dict(),
                scale=self.plan.to_dict()["scale"],
                planned_duration_s=self.plan.duration_s,
                started_at="2027-01-15T08:00:00.000Z",
                workers_expected=0,
                versions={"perfctl": "test"},
                host={"hostname": "test"},
                sla=sla,
                ended_at="2027-01-15T08:02:00.000Z",
                duration_s=ended - START_T,
                exit_reason="interrupted by SIGINT" if interrupted else "test",
                interrupted=interrupted,
                workers_lost=1 if status == "degraded" else 0,
                engine=read_engine_summary(self.run_dir),
                end_cause=end_cause
                or (_CAUSES[status] if not interrupted else EndCause.INTERRUPTED),
            ),
        )
        return self.run_dir


def open_plan(
    *,
    scenario: str = "capacity",
    stages: tuple[tuple[str, float, float, float], ...] = (("ramp", 100.0, 10.0, 110.0),),
    operations: tuple[str, ...] = ("search",),
    warmup_s: float = 0.0,
) -> RunPlan:
    """An open-model plan: stages of (name, duration_s, rate_start_per_s, rate_end_per_s)."""
    stage_plans, start = [], 0.0
    for name, duration, rate_start, rate_end in stages:
        stage_plans.append(
            StagePlan(name, start, duration, rate_start_per_s=rate_start, rate_end_per_s=rate_end)
        )
        start += duration
    # a locustfile journey: perfctl cannot estimate its offered rate, so nothing is skipped for it
    journey = JourneyPlan("synthetic", 1.0, "locustfile", operations=operations)
    return RunPlan(
        scenario=scenario,
        profile="test",
        scale=Scale(),
        model="open",
        stages=tuple(stage_plans),
        journeys=(journey,),
        warmup_s=warmup_s,
        target="http://127.0.0.1:9",
    )


def write_server_series(
    run_dir: Path,
    points: list[tuple[float, str, float]] | list[tuple[float, str, float, dict[str, str]]],
    *,
    source: str = "scrape",
) -> Path:
    """server.jsonl from (offset_s, metric, value[, labels]) and a server.json beside it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "server.jsonl").open("a") as file:
        for point in points:
            offset, metric, value = point[0], point[1], point[2]
            labels = point[3] if len(point) > 3 else {}
            row = {"t": START_T + offset, "metric": metric, "labels": labels, "value": value}
            file.write(json.dumps(row) + "\n")
    info = {"source": source, "url": "http://127.0.0.1:9/metrics", "interval_s": 1.0}
    (run_dir / "server.json").write_text(json.dumps({**info, "samples": len(points), "errors": []}))
    return run_dir
