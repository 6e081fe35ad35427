"""Running a capacity search's steps for real: each step a run of its own, judged on its own.

Steps live under one capacity directory (`reports/<id>-capacity/`): the plan of step N of the
search with I instances is written as `steps/Ix-step-NN.plan.json` and run like
`perfctl run steps/Ix-step-NN.plan.json`, its run directory `Ix-step-NN/` beside it, judged with the SLA and abort on breach (a step that
clearly breaks stops early). The target is the same for every step: the caller starts the
embedded backend once, so caches stay warm from step to step the way a production instance
stays warm.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from harness.capacity._machine import MachineCpu
from harness.capacity._step import judge_step, step_figures, step_plan
from harness.errors import EngineError, PerfctlError
from harness.plan import RunPlan
from harness.report import render_run_report
from harness.run import RunRequest, run
from harness.rundir import CapacityStep, write_json_atomically
from harness.verdict import AbortWatch, judge_run_dir, read_judged_run


@dataclass(slots=True)
class StepRunner:
    """Runs one step per call against `target_url` and judges it with `sla_path`."""

    base: RunPlan
    """The capacity scenario's plan (its journey mix is every step's)."""
    target_url: str
    """The running target all steps are aimed at."""
    sla_path: Path
    """The SLA the steps are judged on."""
    capacity_dir: Path
    """Where the steps' plans and run directories go."""
    hold_s: float
    """Judged seconds of each step."""
    warmup_s: float
    """Seconds at the step's rate before judging starts."""
    max_concurrency: int
    """Journeys in flight at most in a step (the scenario's own cap, not a profile's)."""
    console: Console
    """Where each step's one-line result is printed."""
    instances: int = 1
    """Instances of the target behind `target_url` (names the steps: `2x-step-01`)."""
    machine: MachineCpu | None = None
    """The machine's CPU sampler, running while the search does."""
    steps_run: int = 0
    """Steps run so far."""

    def __call__(self, rate_per_s: float) -> CapacityStep:
        self.steps_run += 1
        name = f"{self.instances}x-step-{self.steps_run:02d}"
        plan_path = self.capacity_dir / "steps" / f"{name}.plan.json"
        plan_path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(
            plan_path,
            step_plan(
                self.base,
                rate_per_s,
                self.hold_s,
                self.warmup_s,
                max_concurrency=self.max_concurrency,
            ).to_dict(),
        )
        request = RunRequest(
            scenario=str(plan_path),
            target=self.target_url,
            sla=self.sla_path,
            out_dir=self.capacity_dir,
            run_id=name,
            quiet=True,
        )
        quiet = Console(quiet=True)
        try:
            run_dir = run(request, console=quiet, start_breach_watch=AbortWatch).run_dir
        except EngineError as error:
            # abort on breach: the step broke early; anything else is an infrastructure error
            if error.run_dir is None or not _aborted_on_breach(error.run_dir):
                raise
            run_dir = error.run_dir
        verdict = judge_run_dir(run_dir, sla_path=self.sla_path, find_capacity=False)
        step = step_figures(
            judge_step(rate_per_s, verdict, run_id=run_dir.name),
            read_judged_run(run_dir),
            self.machine,
        )
        try:  # the step's own page, linked from the capacity report
            render_run_report(run_dir)
        except PerfctlError as error:
            self.console.print(f"  {name}: report not written ({error.message})", highlight=False)
        self.console.print(_step_line(step))
        return step


def _aborted_on_breach(run_dir: Path) -> bool:
    from harness.rundir import EndCause, read_run_record

    return read_run_record(run_dir).end_cause is EndCause.ABORT_ON_BREACH


def _step_line(step: CapacityStep) -> str:
    achieved = f"{step.achieved_rps:,.1f} req/s" if step.achieved_rps is not None else "? req/s"
    if not step.delivered:
        verdict = "generator fell short"
    elif step.held:
        verdict = "held"
    else:
        verdict = f"broke ({step.limiting_objective})"
    p99 = f", p99 {step.latency_p99_ms:,.0f} ms" if step.latency_p99_ms is not None else ""
    cpu = f", server CPU {step.cpu_ratio:.0%}" if step.cpu_ratio is not None else ""
    return f"  {step.run_id}: {step.rate_per_s:,.1f} arrivals/s → {achieved}{p99}{cpu}: {verdict}"
