"""`perfctl evaluate`: judge a run directory against its SLA and write the verdict files."""

from __future__ import annotations

from pathlib import Path

from harness.spec import (
    Sla,
    check_plan,
    load_sla,
)
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._model import Verdict
from harness.verdict._outputs import write_verdict


def sla_for_run(run_dir: Path, sla_path: Path | None, recorded: str | None) -> Sla:
    """The SLA given with --sla, else the one the run was started with, else ./sla.yaml."""
    if sla_path is not None:
        return load_sla(sla_path)
    if recorded:
        return load_sla(Path(recorded))
    return load_sla(None)


def judge_run_dir(
    run_dir: Path,
    *,
    sla_path: Path | None = None,
    baseline_dir: Path | None = None,
    strict: bool = False,
    require_coverage: bool | None = None,
) -> Verdict:
    """Read the run (and baseline), judge every objective, write verdict.json, junit.xml, summary.md.

    `require_coverage` None takes the SLA's `defaults.require_coverage`."""
    run = read_judged_run(run_dir)
    sla = sla_for_run(run_dir, sla_path, run.record.sla)
    # the cross-check `perfctl run` makes before any load: an objective that names an
    # operation the run never produces, or a stage no scenario has, is a spec error (exit 2),
    # never a silent not_exercised beside a pass
    check_plan(sla, run.plan)
    baseline = read_judged_run(baseline_dir) if baseline_dir is not None else None
    verdict = evaluate(
        run, sla, baseline=baseline, strict=strict, require_coverage=require_coverage
    )
    write_verdict(run_dir, verdict)
    return verdict
