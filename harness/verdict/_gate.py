"""`perfctl evaluate`: judge a run directory against its SLA and write the verdict files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.errors import UsageError
from harness.rundir import (
    CapacityRecord,
    RunRecord,
    latest_capacity_dir,
    read_capacity_record,
    sla_digest,
)
from harness.spec import (
    Sla,
    check_plan,
    default_sla_path,
    load_sla,
    objectives_for_plan,
)
from harness.verdict._diagnosis import diagnose
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
    strict: bool | None = None,
    require_coverage: bool | None = None,
    capacity_dir: Path | None = None,
    find_capacity: bool = True,
) -> Verdict:
    """Read the run (and baseline), judge every objective, diagnose the run, write
    verdict.json, junit.xml, summary.md.

    `require_coverage` None takes the SLA's `defaults.require_coverage`, `strict` None its
    `defaults.strict` (a warning or a marginal check fails the gate). Throughput
    objectives the run could not offer are judged from a capacity search: `capacity_dir`,
    else (with `find_capacity`) the newest one beside the run measured on the same target
    with the same SLA."""
    run = read_judged_run(run_dir)
    sla = sla_for_run(run_dir, sla_path, run.record.sla)
    # the cross-check `perfctl run` makes before any load: an objective that names an
    # operation the run never produces, or a stage no scenario has, is a spec error (exit 2),
    # never a silent not_exercised beside a pass
    check_plan(sla, run.plan)
    baseline = read_judged_run(baseline_dir) if baseline_dir is not None else None
    capacity = _capacity_for(run.run_dir, run.record, sla, capacity_dir, find=find_capacity)
    verdict = evaluate(
        run,
        sla,
        baseline=baseline,
        strict=strict,
        require_coverage=require_coverage,
        capacity=capacity,
    )
    verdict = replace(verdict, diagnosis=diagnose(run, verdict, objectives_for_plan(sla, run.plan)))
    write_verdict(run_dir, verdict)
    return verdict


def _capacity_for(
    run_dir: Path, record: RunRecord, sla: Sla, capacity_dir: Path | None, *, find: bool
) -> tuple[CapacityRecord, str] | None:
    """The capacity record that judges what the run could not offer, with its name."""
    sla_file = Path(sla.source) if sla.source else default_sla_path()
    digest = sla_digest(sla_file) if sla_file.is_file() else None
    if capacity_dir is not None:
        capacity = read_capacity_record(capacity_dir)
        if digest is not None and capacity.sla_sha256 != digest:
            raise UsageError(
                f"capacity run {capacity_dir} was judged with another SLA ({capacity.sla}); "
                "run `perfctl capacity` with this one"
            )
        return capacity, capacity_dir.name
    if not find or digest is None:
        return None
    target = "embedded" if record.target_embedded else record.target
    found = latest_capacity_dir(run_dir.resolve().parent, target, digest)
    return (read_capacity_record(found), found.name) if found is not None else None
