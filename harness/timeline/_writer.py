"""Append-only writers of timeline.jsonl, load.jsonl and events.jsonl, and engine.json."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from harness.timeline._records import (
    EngineEvent,
    EngineSummary,
    EventKind,
    FileTally,
    LoadSample,
)
from harness.timeline._window import WindowRecord

TIMELINE_FILE = "timeline.jsonl"
LOAD_FILE = "load.jsonl"
EVENTS_FILE = "events.jsonl"
ENGINE_FILE = "engine.json"
LINE_FILES = (TIMELINE_FILE, LOAD_FILE, EVENTS_FILE)
"""The files written one JSON object per line."""


class RunDirWriter:
    """Appends one JSON object per line to the run directory's files, flushed per call.

    Lines are written whole (one `write` of the line and its newline), so a reader that
    tails the file sees at most one partial last line, which it skips. The writer counts what
    it wrote to each file (lines, bytes, and requests for the timeline) and `write_engine`
    records it in engine.json, so a reader can tell a complete file from one that lost lines.
    """

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, TextIO] = {}
        self._lines = dict.fromkeys(LINE_FILES, 0)
        self._bytes = dict.fromkeys(LINE_FILES, 0)
        self._requests = 0

    def _append(self, name: str, objects: Iterable[dict[str, Any]]) -> int:
        handle = self._files.get(name)
        if handle is None:
            handle = open(self.run_dir / name, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
            self._files[name] = handle
        chunk = "".join(json.dumps(obj, separators=(",", ":")) + "\n" for obj in objects)
        lines = chunk.count("\n")
        if chunk:
            handle.write(chunk)
            handle.flush()
            self._lines[name] = self._lines.get(name, 0) + lines
            self._bytes[name] = self._bytes.get(name, 0) + len(chunk.encode("utf-8"))
        return lines

    def append_windows(self, records: Iterable[WindowRecord]) -> int:
        """Appends finished windows to timeline.jsonl; returns the number of lines."""
        lines = []
        for record in records:
            lines.append(record.to_line())
            self._requests += sum(record.counts.values())
        return self._append(TIMELINE_FILE, lines)

    def append_load(self, sample: LoadSample) -> None:
        """Appends one second of offered load to load.jsonl."""
        self._append(LOAD_FILE, [sample.to_dict()])

    def append_event(self, kind: EventKind, detail: str = "", t: float | None = None) -> None:
        """Appends an engine event to events.jsonl."""
        event = EngineEvent(t=time.time() if t is None else t, kind=kind, detail=detail)
        self._append(EVENTS_FILE, [event.to_dict()])

    def tallies(self) -> dict[str, FileTally]:
        """What this writer has written to each line file so far."""
        return {
            name: FileTally(
                lines=self._lines[name],
                bytes=self._bytes[name],
                requests=self._requests if name == TIMELINE_FILE else None,
            )
            for name in LINE_FILES
        }

    def write_engine(self, summary: EngineSummary) -> None:
        """Writes engine.json whole (through a temporary file, so it is never half written),
        with what this writer wrote to each line file (`EngineSummary.files`)."""
        summary = replace(summary, files=self.tallies())
        target = self.run_dir / ENGINE_FILE
        partial = target.with_suffix(".json.tmp")
        partial.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
        partial.replace(target)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
