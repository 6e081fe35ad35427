"""The main job: run the load, judge it against the SLA, write the report, pick the exit code.

Each stage reads the previous stage's artefact from the run directory, so an interrupted or
aborted run is still judged and reported on what it measured before the error surfaces.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.errors import EngineError, InterruptedRunError, PerfctlError
from harness.run import RunRequest
from harness.run import run as run_load
from harness.verdict import AbortWatch


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
    on_run_dir: Callable[[Path], None] | None = None,
) -> int:
    """`perfctl run`: the verdict's exit code for a finished or aborted run; 130 when
    interrupted; an engine failure stays exit 3 once what it measured is judged and reported.
    `on_run_dir` is told the run directory before any load (the live web view)."""
    console = console or Console()
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
    return judge_and_report(
        result.run_dir,
        console,
        require_coverage=require_coverage,
        strict=strict,
        capacity_dir=capacity_dir,
    )


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
