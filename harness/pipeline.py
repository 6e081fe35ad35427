"""The main job: run the load, judge it against the SLA, write the report, pick the exit code.

Each stage reads the previous stage's artefact from the run directory, so an interrupted or
aborted run is still judged and reported on what it measured before the error surfaces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.errors import EngineError, InterruptedRunError, PerfctlError
from harness.run import RunRequest
from harness.run import run as run_load
from harness.verdict import AbortWatch


@dataclass(frozen=True, slots=True)
class BaselineGate:
    """`perfctl run --baseline NAME`: the named baseline a finished run is compared with."""

    name: str
    """The baseline's name (`perfctl baseline`)."""
    directory: Path
    """Where baselines live (reports/baselines, or a directory a CI caches)."""
    update: bool = False
    """Add the run to the baseline (created by its first run) when it passed and did not
    regress: what the main branch does, while pull requests only compare."""


def run_with_ui(
    ui_port: int | None, request: RunRequest, console: Console | None = None, **judging: Any
) -> int:
    """`perfctl run [--ui PORT]`: `run_judge_report`, with the live web view and /metrics
    served on 127.0.0.1:`ui_port` (bound before anything else: a port in use is exit 2
    before any load) from before the load until the report is written, when a port is given."""
    if ui_port is None:
        return run_judge_report(request, console, **judging)
    from harness.live import LiveView

    console = console or Console()
    with LiveView(ui_port) as live:
        console.print(f"live view: {live.url} (metrics: {live.url}metrics)", highlight=False)
        code = run_judge_report(request, console, on_run_dir=live.follow, **judging)
        live.linger(console)
    return code


def run_judge_report(
    request: RunRequest,
    console: Console | None = None,
    *,
    require_coverage: bool | None = None,
    strict: bool | None = None,
    capacity_dir: Path | None = None,
    baseline: BaselineGate | None = None,
    on_run_dir: Callable[[Path], None] | None = None,
) -> int:
    """`perfctl run`: the verdict's exit code for a finished or aborted run; 130 when
    interrupted; an engine failure stays exit 3 once what it measured is judged and reported.
    With `baseline`, a regression against it is a failed objective too (exit 1).
    `on_run_dir` is told the run directory before any load (the live web view)."""
    console = console or Console()
    if baseline is not None:
        from harness.compare import require_baseline

        require_baseline(baseline.directory, baseline.name, create=baseline.update)
    try:
        # the verdict's abort-on-breach rule watches the load; the run stage knows only its shape
        result = run_load(
            request, console=console, start_breach_watch=AbortWatch, on_run_dir=on_run_dir
        )
    except (InterruptedRunError, EngineError) as error:
        if error.run_dir is None:
            raise
        code = judge_and_report(
            error.run_dir,
            console,
            require_coverage=require_coverage,
            strict=strict,
            capacity_dir=capacity_dir,
        )
        aborted_on_breach = isinstance(error, EngineError) and code == 1 and _aborted(error.run_dir)
        if aborted_on_breach:
            return code  # the SLA stopped the run: a failed verdict, not an infrastructure error
        raise
    code = judge_and_report(
        result.run_dir,
        console,
        require_coverage=require_coverage,
        strict=strict,
        capacity_dir=capacity_dir,
    )
    if baseline is None:
        return code
    return against_baseline(result.run_dir, code, baseline, console)


def against_baseline(run_dir: Path, code: int, gate: BaselineGate, console: Console) -> int:
    """Compare a judged run with the baseline, add it on `gate.update` when it passed and did
    not regress; the exit code: the verdict's, or 1 for a regression of a passing run (a
    regression is a failed objective, as `perfctl compare` exits 1 on one)."""
    from harness.compare import add_to_baseline, check_against_baseline, render_baseline_check
    from harness.report import refresh_runs_index
    from harness.rundir import read_baseline

    if code not in (0, 1):
        console.print(f"baseline {gate.name}: not compared (the run did not finish: exit {code})")
        return code
    regression = False
    if read_baseline(gate.directory, gate.name) is None:
        console.print(f"baseline {gate.name}: none yet in {gate.directory}", highlight=False)
    else:
        check = check_against_baseline(gate.directory, gate.name, run_dir)
        console.print(render_baseline_check(check), markup=False, highlight=False, soft_wrap=True)
        console.print(f"baseline: {run_dir / 'baseline.json'}", highlight=False)
        regression = check.regression
    if gate.update and code == 0 and not regression:
        manifest, path = add_to_baseline(gate.directory, gate.name, [run_dir])
        console.print(
            f"baseline {gate.name}: run added ({len(manifest.runs)} runs) in {path}",
            highlight=False,
        )
    try:
        refresh_runs_index(run_dir.resolve().parent)
    except PerfctlError as error:  # the comparison is written; a page that fails hides nothing
        console.print(f"runs index: not refreshed ({error.message})", highlight=False)
    return 1 if regression and code == 0 else code


def _aborted(run_dir: Path) -> bool:
    from harness.rundir import EndCause, read_run_record

    return read_run_record(run_dir).end_cause is EndCause.ABORT_ON_BREACH


def judge_and_report(
    run_dir: Path,
    console: Console,
    *,
    require_coverage: bool | None = None,
    strict: bool | None = None,
    capacity_dir: Path | None = None,
) -> int:
    """Evaluate and render `run_dir`, print the verdict and the report path; the verdict's
    exit code. A report that fails to render is said in one line and does not hide the
    verdict. Throughput the run could not offer is judged from `capacity_dir`, else from the
    newest capacity search of the same target and SLA beside the run."""
    from harness.report import render_run_report
    from harness.verdict import judge_run_dir, print_verdict

    verdict = judge_run_dir(
        run_dir, require_coverage=require_coverage, strict=strict, capacity_dir=capacity_dir
    )
    console.print()
    print_verdict(verdict, console, all_checks=False)
    try:
        page = render_run_report(run_dir)
    except PerfctlError as error:
        console.print(f"report: not written ({error.message})", highlight=False)
    else:
        console.print(f"report: {page}", highlight=False)
    console.print(f"verdict: {run_dir / 'verdict.json'}", highlight=False)
    return verdict.exit_code
