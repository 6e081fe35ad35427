"""A run directory being written as the engine writes it: run.json says running, the line
files grow one second at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from harness.plan import RunPlan
from harness.rundir import EndCause, RunnerProcess, RunRecord, write_run_record
from harness.timeline import LoadSample, RunDirWriter, WindowRecord
from tests.harness._synthetic_run import START_T, simple_plan

SLA = (
    "version: 1\nname: live\nobjectives:\n"
    '  - {id: fast, operation: search, metric: latency, statistic: p95, limit: "< 100 ms"}\n'
    '  - {id: clean, operation: search, metric: error_rate, limit: "< 5 %"}\n'
)


class GrowingRun:
    """A run directory whose engine appends a second at a time."""

    def __init__(self, run_dir: Path, plan: RunPlan | None = None) -> None:
        self.run_dir = run_dir
        self.plan = plan or simple_plan(stages=(("steady", 60.0),), operations=("search",))
        run_dir.mkdir(parents=True, exist_ok=True)
        self.sla = run_dir.parent / "sla.yaml"
        self.sla.write_text(SLA)
        self.writer = RunDirWriter(run_dir)
        write_run_record(run_dir, self.record())

    def record(self, status: str = "running") -> RunRecord:
        started = datetime.fromtimestamp(START_T, UTC).isoformat(timespec="milliseconds")
        ended = status != "running"
        return RunRecord(
            run_id=self.run_dir.name,
            status=status,  # type: ignore[arg-type]
            scenario=self.plan.scenario,
            profile=self.plan.profile,
            target=self.plan.target,
            target_embedded=False,
            plan=self.plan.to_dict(),
            scale=self.plan.to_dict()["scale"],
            planned_duration_s=self.plan.duration_s,
            started_at=started.replace("+00:00", "Z"),
            workers_expected=0,
            versions={"perfctl": "test"},
            host={"hostname": "test"},
            sla=str(self.sla),
            ended_at=started.replace("+00:00", "Z") if ended else None,
            duration_s=10.0 if ended else None,
            exit_reason="the plan finished" if ended else "load running",
            end_cause=EndCause.PLAN_FINISHED if ended else None,
            runner=RunnerProcess.this_process(),
        )

    def second(
        self,
        offset_s: int,
        latency_ms: float,
        count: int = 20,
        *,
        failed: int = 0,
        op: str = "search",
        users: int | None = 10,
        cpu: float = 12.5,
    ) -> None:
        """One merged second: its timeline line, then its load line (the engine's order)."""
        record = WindowRecord(START_T + offset_s, op)
        for _ in range(count):
            record.record("ok", latency_ms)
        for _ in range(failed):
            record.record("http_5xx", latency_ms, error="HTTP 503")
        self.writer.append_windows([record])
        self.writer.append_load(
            LoadSample(
                t=START_T + offset_s,
                stage="steady",
                users=users,
                planned_arrivals=None,
                started_arrivals=None,
                dropped_arrivals=0,
                achieved_rps=float(count + failed),
                workers=1,
                cpu_percent={"local": cpu},
            )
        )
