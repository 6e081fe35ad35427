"""Where a run directory is and what it is called: ids, creation, atomic JSON writes."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import UsageError

PLAN_FILE = "plan.json"
RUN_FILE = "run.json"
LOGS_DIR = "logs"

_RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """`2026-11-27T05:50:46.123Z`: UTC, millisecond precision."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_run_id(scenario: str, started_at: datetime) -> str:
    """`20261127T055046Z-normal`: sortable by time, readable by scenario."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(scenario).stem).strip("-.") or "run"
    return f"{started_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{stem}"


def validate_run_id(run_id: str) -> str:
    """The run id if it can name a directory; a UsageError otherwise."""
    if not _RUN_ID_PATTERN.match(run_id) or run_id in (".", ".."):
        raise UsageError(
            f"--run-id must be letters, digits, '.', '_' or '-' (at most 128), got {run_id!r}"
        )
    return run_id


def create_run_dir(parent: Path, run_id: str) -> Path:
    """Create `parent/run_id/logs`; a UsageError if that run directory already holds a run."""
    run_dir = parent / run_id
    if (run_dir / RUN_FILE).exists() or (run_dir / PLAN_FILE).exists():
        raise UsageError(f"run directory {run_dir} already holds a run; choose another --run-id")
    try:
        (run_dir / LOGS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create run directory {run_dir}: {error.strerror}") from None
    return run_dir


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write `data` so a reader (or a crash) sees the old file or the new one, never half."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(partial, path)
