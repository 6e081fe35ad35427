"""Append-only writers of timeline.jsonl, load.jsonl and events.jsonl, and engine.json."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from harness.timeline._records import EngineEvent, EngineSummary, EventKind, LoadSample
from harness.timeline._window import WindowRecord

TIMELINE_FILE = "timeline.jsonl"
LOAD_FILE = "load.jsonl"
EVENTS_FILE = "events.jsonl"
ENGINE_FILE = "engine.json"


class RunDirWriter:
    """Appends one JSON object per line to the run directory's files, flushed per call.

    Lines are written whole (one `write` of the line and its newline), so a reader that
    tails the file sees at most one partial last line, which it skips.
    """

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, TextIO] = {}

    def _append(self, name: str, objects: Iterable[dict[str, Any]]) -> int:
        handle = self._files.get(name)
        if handle is None:
            handle = open(self.run_dir / name, "a", encoding="utf-8")  # noqa: SIM115
            self._files[name] = handle
        chunk = "".join(json.dumps(obj, separators=(",", ":")) + "\n" for obj in objects)
        if chunk:
            handle.write(chunk)
            handle.flush()
        return chunk.count("\n")

    def append_windows(self, records: Iterable[WindowRecord]) -> int:
        """Appends finished windows to timeline.jsonl; returns the number of lines."""
        return self._append(TIMELINE_FILE, (record.to_line() for record in records))

    def append_load(self, sample: LoadSample) -> None:
        """Appends one second of offered load to load.jsonl."""
        self._append(LOAD_FILE, [sample.to_dict()])

    def append_event(self, kind: EventKind, detail: str = "", t: float | None = None) -> None:
        """Appends an engine event to events.jsonl."""
        event = EngineEvent(t=time.time() if t is None else t, kind=kind, detail=detail)
        self._append(EVENTS_FILE, [event.to_dict()])

    def write_engine(self, summary: EngineSummary) -> None:
        """Writes engine.json whole (through a temporary file, so it is never half written)."""
        target = self.run_dir / ENGINE_FILE
        partial = target.with_suffix(".json.tmp")
        partial.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
        partial.replace(target)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
