"""The verdict's files in the run directory: verdict.json, junit.xml, summary.md."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.errors import RunDirError
from harness.verdict._junit import render_junit
from harness.verdict._model import Verdict
from harness.verdict._summary import render_summary

VERDICT_FILE = "verdict.json"
JUNIT_FILE = "junit.xml"
SUMMARY_FILE = "summary.md"


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_verdict(run_dir: Path, verdict: Verdict) -> list[Path]:
    """Write the three verdict files; returns their paths."""
    files = {
        VERDICT_FILE: json.dumps(verdict.to_dict(), indent=2) + "\n",
        JUNIT_FILE: render_junit(verdict) + "\n",
        SUMMARY_FILE: render_summary(verdict),
    }
    written = []
    for name, text in files.items():
        path = run_dir / name
        try:
            _write_atomically(path, text)
        except OSError as error:
            raise RunDirError(f"cannot write {path}: {error.strerror}") from None
        written.append(path)
    return written


def read_verdict(run_dir: Path) -> Verdict | None:
    """The verdict.json of a run, None when the run was never evaluated."""
    path = run_dir / VERDICT_FILE
    if not path.exists():
        return None
    try:
        return Verdict.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RunDirError(f"{path} is unreadable: {error}") from None
