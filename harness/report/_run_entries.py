"""The runs a reports directory holds, as the runs index lists them: one `RunEntry` per run
directory and one `ComparisonEntry` per compare.json.

It reads only small files per run (run.json, verdict.json, report.json, compare.json), never a
timeline, so refreshing the index stays instant however many runs the directory holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness.errors import RunDirError
from harness.redaction import scrub, scrub_text
from harness.rundir import (
    RUN_FILE,
    RunRecord,
    is_capacity_dir,
    read_baseline_check,
    read_run_record,
)

INDEX_FILE = "index.html"


@dataclass(frozen=True, slots=True)
class RunEntry:
    """One run directory as the index lists it."""

    name: str
    """Directory name."""
    href: str
    """Relative link to its report ("" when it has none yet)."""
    started_at: str
    scenario: str
    profile: str
    target: str
    run_status: str
    verdict: str
    """pass, warn, fail, aborted, inconclusive or not_evaluated."""
    checks: tuple[dict[str, Any], ...]
    """verdict.json's checks (scrubbed)."""
    headline: dict[str, Any]
    """report.json's headline figures ({} before the run's report was written)."""
    target_key: str = ""
    """The target as a baseline keys it: "embedded" or the redacted URL."""
    regressions: tuple[str, ...] = ()
    """The figures baseline.json flagged ("product_search p95_ms"), when it was compared with
    a named baseline (`perfctl run --baseline`)."""


@dataclass(frozen=True, slots=True)
class ComparisonEntry:
    """One compare.json found in a run directory."""

    base: str
    base_href: str
    new: str
    new_href: str
    page_href: str
    regressions: int
    changes: int
    max_regression: float | None
    confidence: float | None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return scrub(data) if isinstance(data, dict) else None


def _link(directory: Path, name: str, page: str) -> str:
    return f"{quote(name)}/{page}" if (directory / name / page).exists() else ""


def _run_status(record: RunRecord) -> str:
    """run.json's status; `killed` for a run that says running while its perfctl is gone."""
    runner = record.runner
    if record.status == "running" and runner is not None and runner.alive() is False:
        return "killed"
    return record.status


def collect_runs(reports_dir: Path) -> tuple[list[RunEntry], list[ComparisonEntry], int]:
    """Every run directory below `reports_dir` (newest first), its comparisons, and how many
    directories with an unreadable run.json were skipped."""
    runs: list[RunEntry] = []
    comparisons: list[ComparisonEntry] = []
    skipped = 0
    # a capacity directory is listed by its knee (_capacity_entries), its steps inside it
    children = sorted(
        p for p in reports_dir.iterdir() if (p / RUN_FILE).is_file() and not is_capacity_dir(p)
    )
    names = {child.name for child in children}
    for run_dir in children:
        try:
            record = read_run_record(run_dir)
        except RunDirError:
            skipped += 1
            continue
        verdict = _read(run_dir / "verdict.json") or {}
        summary = _read(run_dir / "report.json") or {}
        plan = record.plan
        runs.append(
            RunEntry(
                name=run_dir.name,
                href=_link(reports_dir, run_dir.name, INDEX_FILE),
                started_at=record.started_at,
                scenario=str(plan.get("scenario") or record.scenario or "—"),
                profile=str(plan.get("profile") or record.profile or "—"),
                target=scrub_text(record.target) or "—",
                run_status=_run_status(record),
                verdict=str(verdict.get("status") or "not_evaluated"),
                checks=tuple(c for c in verdict.get("checks") or () if isinstance(c, dict)),
                headline=dict(summary.get("headline") or {}),
                target_key="embedded" if record.target_embedded else scrub_text(record.target),
                regressions=_regressions(run_dir),
            )
        )
        compared = _read(run_dir / "compare.json")
        if compared is not None:
            comparisons.append(_comparison(reports_dir, run_dir, compared, names))
    runs.sort(key=lambda run: (run.started_at, run.name), reverse=True)
    return runs, comparisons, skipped


def _regressions(run_dir: Path) -> tuple[str, ...]:
    """The figures the run's baseline.json flagged (none when unreadable: the index lists)."""
    try:
        check = read_baseline_check(run_dir)
    except RunDirError:
        return ()
    if check is None:
        return ()
    return tuple(scrub_text(f"{f.operation} {f.figure}") for f in check.regressions)


def _comparison(
    reports_dir: Path, run_dir: Path, compared: dict[str, Any], names: set[str]
) -> ComparisonEntry:
    base = Path(str(compared.get("base_run", ""))).name
    new = Path(str(compared.get("new_run", ""))).name or run_dir.name
    changes = [c for c in compared.get("changes") or () if isinstance(c, dict)]
    return ComparisonEntry(
        base=base,
        base_href=_link(reports_dir, base, INDEX_FILE) if base in names else "",
        new=new,
        new_href=_link(reports_dir, new, INDEX_FILE) if new in names else "",
        page_href=_link(reports_dir, run_dir.name, "compare.html"),
        regressions=sum(1 for c in changes if c.get("regression")),
        changes=len(changes),
        max_regression=compared.get("max_regression"),
        confidence=compared.get("confidence"),
    )
