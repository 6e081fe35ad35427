"""Named baselines: keep the last passing runs of a scenario, profile and target, and judge a
new run against them (`perfctl baseline ...`, `perfctl run --baseline NAME`).

A baseline is a small JSON file (harness/rundir/_baseline.py has its format) holding each
run's figures, so it outlives the run directories; a CI caches that one file. Adding a run
asks that it passed its SLA gate (verdict.json, exit code 0) and that its key (scenario,
profile, target) is the baseline's; the newest `keep` runs stay. The test is in
`harness.compare._between_runs`; with fewer than three runs the new run is compared with the
newest baseline run's directory by `perfctl compare`'s within-run test, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness.compare._between_runs import (
    METHOD,
    MIN_BASELINE_RUNS,
    baseline_bands,
    check_figures,
)
from harness.compare._changes import ALL_REQUESTS, PERCENTILES, Floors
from harness.compare._comparison import compare_runs, write_comparison
from harness.errors import RunDirError, UsageError
from harness.markdown import code_span
from harness.redaction import redact_url
from harness.rundir import (
    BaselineCheck,
    BaselineManifest,
    BaselineRun,
    BaselineSettings,
    FigureCheck,
    OperationFigures,
    RunKey,
    baseline_file,
    baseline_names,
    read_baseline,
    write_baseline,
    write_baseline_check,
)
from harness.verdict import NoSpan, read_judged_run, read_verdict, scope_span

DEFAULT_KEEP = 10


def read_run_figures(run_dir: Path) -> BaselineRun:
    """A run's key and its figures over the judged span, per operation and for all requests."""
    run = read_judged_run(run_dir)
    span = scope_span(run.plan, run.clock, "run")
    if isinstance(span, NoSpan):
        raise RunDirError(f"{run_dir}: {span.reason}")
    operations = {}
    for op in (ALL_REQUESTS, *run.data.operations):
        counts = run.data.counts(op, span.start_t, span.end_t)
        if not counts.total:
            continue
        histogram = run.data.histogram(op, span.start_t, span.end_t)
        percentiles = {q: histogram.percentile_ms(q) for q in PERCENTILES}
        operations[op] = OperationFigures(
            requests=counts.total,
            failed=counts.failed,
            error_rate=counts.failed / counts.total,
            throughput_rps=counts.total / span.duration_s,
            p50_ms=percentiles[50.0],
            p95_ms=percentiles[95.0],
            p99_ms=percentiles[99.0],
        )
    record = run.record
    target = "embedded" if record.target_embedded else redact_url(record.target)
    return BaselineRun(
        run_id=record.run_id,
        run_dir=str(run_dir.resolve()),
        started_at=record.started_at,
        key=RunKey(run.plan.scenario, run.plan.profile, target),
        judged_s=float(span.duration_s),
        operations=operations,
    )


def _passing(run_dir: Path, name: str) -> None:
    """A UsageError unless the run's SLA gate passed (a baseline keeps passing runs only)."""
    verdict = read_verdict(run_dir)
    if verdict is None:
        raise UsageError(
            f"{run_dir} cannot join baseline {name}: it was never judged "
            f"(`perfctl evaluate {run_dir}`); a baseline keeps passing runs only"
        )
    if verdict.exit_code != 0:
        raise UsageError(
            f"{run_dir} cannot join baseline {name}: its verdict is {verdict.status} "
            f"(exit {verdict.exit_code}); a baseline keeps passing runs only"
        )


def _with_runs(manifest: BaselineManifest, runs: Sequence[BaselineRun]) -> BaselineManifest:
    """The manifest holding `runs` (newest `keep` of them, oldest first) and their bands."""
    kept = sorted(runs, key=lambda run: (run.started_at, run.run_id))[-manifest.keep :]
    return replace(
        manifest,
        runs=tuple(kept),
        bands=baseline_bands(kept, manifest.settings),
        method=METHOD,
    )


def add_to_baseline(
    directory: Path, name: str, run_dirs: Sequence[Path], *, keep: int | None = None
) -> tuple[BaselineManifest, Path]:
    """Add passing runs to the baseline `name` (created by its first run); all or none."""
    if keep is not None and keep < 1:
        raise UsageError(f"--keep must be at least 1, got {keep}")
    manifest = read_baseline(directory, name)
    added = []
    for run_dir in run_dirs:
        _passing(run_dir, name)
        run = read_run_figures(run_dir)
        if manifest is None:
            manifest = BaselineManifest(name=name, key=run.key, keep=keep or DEFAULT_KEEP)
        if run.key != manifest.key:
            raise UsageError(
                f"{run_dir} cannot join baseline {name}: its {run.key.describe()} differs "
                f"from the baseline's {manifest.key.describe()}"
            )
        added.append(run)
    if manifest is None:
        raise UsageError("name at least one run directory to add")
    if keep is not None:
        manifest = replace(manifest, keep=keep)
    ids = {run.run_id for run in added}
    kept = [run for run in manifest.runs if run.run_id not in ids] + added
    manifest = _with_runs(manifest, kept)
    return manifest, write_baseline(directory, manifest)


def _existing(directory: Path, name: str) -> BaselineManifest:
    manifest = read_baseline(directory, name)
    if manifest is None:
        known = ", ".join(baseline_names(directory)) or "none"
        raise UsageError(f"no baseline named {name!r} in {directory} (baselines there: {known})")
    return manifest


def remove_from_baseline(directory: Path, name: str, run_ids: Sequence[str]) -> str:
    """Remove the baseline `name`, or only the runs `run_ids` from it; what was done."""
    manifest = _existing(directory, name)
    if not run_ids:
        path = baseline_file(directory, name)
        try:
            path.unlink()
        except OSError as error:
            raise RunDirError(f"cannot remove {path}: {error.strerror}") from None
        return f"baseline {name} removed ({len(manifest.runs)} runs)"
    held = {run.run_id for run in manifest.runs}
    unknown = [run_id for run_id in run_ids if run_id not in held]
    if unknown:
        raise UsageError(f"baseline {name} holds no run {unknown[0]!r}")
    kept = [run for run in manifest.runs if run.run_id not in set(run_ids)]
    write_baseline(directory, _with_runs(manifest, kept))
    return f"baseline {name}: {len(run_ids)} runs removed, {len(kept)} left"


def list_baselines(directory: Path) -> str:
    """One line per baseline: name, runs, key, newest run."""
    lines = []
    for name in baseline_names(directory):
        manifest = _existing(directory, name)
        newest = manifest.runs[-1].run_id if manifest.runs else "—"
        lines.append(
            f"{name}: {len(manifest.runs)}/{manifest.keep} runs, {manifest.key.describe()}, "
            f"newest {newest}"
        )
    return "\n".join(lines) if lines else f"no baselines in {directory}"


def show_baseline(directory: Path, name: str) -> str:
    """The baseline's key, runs and the band of every figure it tests, as markdown."""
    manifest = _existing(directory, name)
    settings = manifest.settings
    lines = [
        f"## baseline {code_span(name)}",
        "",
        f"{manifest.key.describe()}; {len(manifest.runs)} of at most {manifest.keep} runs.",
        "",
        "| run | started | requests | p95 ms | p99 ms | error rate | req/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for run in manifest.runs:
        every = run.operations.get(ALL_REQUESTS)
        lines.append(
            "| {id} | {started} | {n} | {p95} | {p99} | {err} | {rps} |".format(
                id=code_span(run.run_id, in_table=True),
                started=run.started_at,
                n=f"{every.requests:,}" if every else "—",
                p95=_number(every.p95_ms if every else None, "p95_ms"),
                p99=_number(every.p99_ms if every else None, "p99_ms"),
                err=_number(every.error_rate if every else None, "error_rate"),
                rps=_number(every.throughput_rps if every else None, "throughput_rps"),
            )
        )
    lines.append("")
    if not manifest.bands:
        lines.append(
            f"Fewer than {MIN_BASELINE_RUNS} runs: a new run is compared with the newest run's "
            "directory by `perfctl compare`'s within-run test."
        )
        return "\n".join(lines) + "\n"
    lines += [
        f"{METHOD} Confidence {settings.confidence:g} over {len(manifest.bands)} figures "
        f"(each at {manifest.bands[0].level:.2g}); thresholds {settings.max_regression:.0%} and "
        f"{settings.min_change_ms:g} ms, {settings.min_error_rate_change:.2%}, "
        f"{settings.min_throughput_change_rps:g} req/s.",
        "",
        "| operation | figure | centre | interval | regression beyond |",
        "|---|---|---:|---:|---:|",
    ]
    for band in manifest.bands:
        lines.append(
            f"| {code_span(band.operation, in_table=True)} | {band.figure} "
            f"| {_number(band.center, band.figure)} "
            f"| [{_number(band.low, band.figure)}, {_number(band.high, band.figure)}] "
            f"| {'>' if band.direction == 'higher_is_worse' else '<'} "
            f"{_number(band.limit, band.figure)} |"
        )
    return "\n".join(lines) + "\n"


def require_baseline(directory: Path, name: str, *, create: bool) -> None:
    """Before any load: a UsageError unless the baseline exists (or `create` may start it);
    a RunDirError when its file is unreadable."""
    if read_baseline(directory, name) is None and not create:
        _existing(directory, name)


def check_against_baseline(directory: Path, name: str, run_dir: Path) -> BaselineCheck:
    """Compare `run_dir` with the baseline `name` and write baseline.json and baseline.md
    into it (and compare.json/.md when the within-run test stood in)."""
    manifest = _existing(directory, name)
    new = read_run_figures(run_dir)
    if new.key != manifest.key:
        raise UsageError(
            f"{run_dir} cannot be compared with baseline {name}: its {new.key.describe()} "
            f"differs from the baseline's {manifest.key.describe()}"
        )
    runs = [run for run in manifest.runs if run.run_id != new.run_id]
    settings = manifest.settings
    if len(runs) >= MIN_BASELINE_RUNS:
        bands = baseline_bands(runs, settings)
        figures = check_figures(runs, bands, new.operations)
        check = BaselineCheck(
            baseline=name,
            run_id=new.run_id,
            method="between_runs",
            baseline_runs=len(runs),
            regression=any(figure.regression for figure in figures),
            note=f"between-run test against {len(runs)} baseline runs",
            confidence=settings.confidence,
            figures_tested=sum(1 for figure in figures if figure.tested),
            figures=tuple(figures),
        )
    else:
        check = _within_run(name, runs, run_dir, new.run_id, settings)
    write_baseline_check(run_dir, check)
    try:
        (run_dir / "baseline.md").write_text(render_baseline_check(check), encoding="utf-8")
    except OSError as error:
        raise RunDirError(f"cannot write {run_dir / 'baseline.md'}: {error.strerror}") from None
    return check


def _within_run(
    name: str,
    runs: Sequence[BaselineRun],
    run_dir: Path,
    run_id: str,
    settings: BaselineSettings,
) -> BaselineCheck:
    """Fewer than MIN_BASELINE_RUNS runs: `perfctl compare` against the newest one whose
    directory is still there."""
    fewer = f"baseline {name} has {len(runs)} runs (fewer than {MIN_BASELINE_RUNS})"
    present = [run for run in reversed(runs) if (Path(run.run_dir) / "run.json").is_file()]
    if not present:
        gone = "and no run directory of it is left" if runs else "to compare with"
        return BaselineCheck(
            baseline=name,
            run_id=run_id,
            method="not_compared",
            baseline_runs=len(runs),
            regression=False,
            note=f"{fewer} {gone}: not compared",
            confidence=settings.confidence,
        )
    base = Path(present[0].run_dir)
    comparison = compare_runs(
        base,
        run_dir,
        max_regression=settings.max_regression,
        confidence=settings.confidence,
        floors=Floors(
            settings.min_change_ms,
            settings.min_error_rate_change,
            settings.min_throughput_change_rps,
        ),
    )
    write_comparison(comparison, run_dir)
    figures = []
    for change in comparison.changes:
        if change.figure not in ("p50_ms", "p95_ms", "p99_ms", "error_rate", "throughput_rps"):
            continue
        sign = 1.0 if change.direction == "higher_is_worse" else -1.0
        limit = (
            change.base + sign * change.threshold
            if change.base is not None and change.threshold is not None
            else None
        )
        figures.append(
            FigureCheck(
                operation=change.operation,
                figure=change.figure,
                direction=change.direction,
                value=change.new,
                center=change.base,
                limit=limit,
                p_value=change.p_adjusted,
                level=change.level,
                tested=change.tested,
                regression=change.regression,
                note=change.note,
            )
        )
    return BaselineCheck(
        baseline=name,
        run_id=run_id,
        method="within_run",
        baseline_runs=len(runs),
        regression=bool(comparison.regressions),
        note=f"{fewer}: compared with its newest run {present[0].run_id} by the within-run "
        "test of `perfctl compare` (compare.json)",
        confidence=settings.confidence,
        figures_tested=comparison.tested,
        figures=tuple(figures),
        compared_with=str(base),
    )


def render_baseline_check(check: BaselineCheck) -> str:
    """baseline.md: the result, how it was reached, then every figure (regressions first)."""
    verdict = "❌ REGRESSION" if check.regression else "✅ NO REGRESSION"
    if check.method == "not_compared":
        verdict = "⚪ NOT COMPARED"
    lines = [f"## perfctl baseline {code_span(check.baseline)}: {verdict}", "", check.note + "."]
    if check.method == "between_runs":
        lines += ["", f"{METHOD} Confidence {check.confidence:g}."]
    if not check.figures:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "| operation | figure | this run | baseline | band | limit | p | regression |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for figure in sorted(check.figures, key=lambda f: (not f.regression, not f.tested)):
        band = (
            f"[{_number(figure.low, figure.figure)}, {_number(figure.high, figure.figure)}]"
            if figure.low is not None and figure.high is not None
            else "—"
        )
        sign = ">" if figure.direction == "higher_is_worse" else "<"
        limit = (
            f"{sign} {_number(figure.limit, figure.figure)}" if figure.limit is not None else "—"
        )
        result = "**yes**" if figure.regression else ("no" if figure.tested else figure.note)
        lines.append(
            f"| {code_span(figure.operation, in_table=True)} | {figure.figure} "
            f"| {_number(figure.value, figure.figure)} | {_number(figure.center, figure.figure)} "
            f"| {band} | {limit} "
            f"| {f'{figure.p_value:.3g}' if figure.p_value is not None else '—'} | {result} |"
        )
    return "\n".join(lines) + "\n"


def _number(value: float | None, figure: str) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if figure == "error_rate":
        return f"{value:.3%}"
    return f"{value:,.{2 if abs(value) < 10 else 1}f}"
