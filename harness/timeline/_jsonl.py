"""Reading a file of one JSON object per line into typed records, strictly, with `file:line`.

Two ways to read:
- `read_lines`: a finished file, judged. Every line must be whole and match its record; a
  line cut off at the end is accepted only when the writer may have been killed mid-line
  (`LineFileCheck.torn_tail_ok`), and the caller reports it; what the writer says it wrote
  (`FileTally`) is checked against the file, so lost lines are an error, not a shorter run.
- `LineTail`: a file still being written (the live view, abort on breach): only the lines
  appended since the last call, a line still being written waits for its newline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from harness.errors import RunDirError
from harness.timeline._records import FileTally
from harness.timeline._validate import MalformedError, parse_json

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LineFileCheck:
    """How strictly a line file is read."""

    tally: FileTally | None = None
    """What its writer says it wrote (engine.json); None when unknown (the engine never
    finished, or an older run directory)."""
    torn_tail_ok: bool = True
    """Whether a last line without its newline is a writer killed mid-line (skipped, and
    reported by whoever decided this) rather than a corrupt file."""


@dataclass(frozen=True, slots=True)
class TornTail:
    """A last line cut off mid-write."""

    path: Path
    """The file."""
    line: int
    """Its number (1-based)."""
    length_bytes: int
    """The bytes of it that were written."""


def torn_tail(path: Path) -> TornTail | None:
    """The cut-off last line of `path`, None when the file is absent, empty or ends whole."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            if size == 0:
                return None
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return None
            handle.seek(0)
            data = handle.read()
    except OSError:
        return None
    return TornTail(path, data.count(b"\n") + 1, len(data) - data.rfind(b"\n") - 1)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as error:
        raise RunDirError(f"{path} is unreadable: {error.strerror}") from None


def check_size(path: Path, check: LineFileCheck) -> None:
    """A RunDirError when `path` is not the size its writer recorded."""
    tally = check.tally
    if tally is None:
        return
    size = _size(path)
    if size != tally.bytes:
        raise RunDirError(
            f"{path}: {size:,} bytes, but the engine wrote {tally.bytes:,} bytes in "
            f"{tally.lines:,} lines: the file was cut or changed after the run"
        )


def read_lines(path: Path, kind: type[T], check: LineFileCheck) -> Iterator[tuple[int, T]]:
    """(line number, record) for every line of `path` (nothing when it is absent and its
    writer wrote nothing); RunDirError naming the file and line for anything else."""
    check_size(path, check)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    except OSError as error:
        raise RunDirError(f"{path} is unreadable: {error.strerror}") from None
    number = 0
    with handle:
        for raw in handle:
            number += 1
            if not raw.endswith(b"\n"):
                if check.torn_tail_ok:
                    number -= 1
                    break
                raise RunDirError(f"{path}:{number}: the last line is cut off mid-line")
            if not raw.strip():
                raise RunDirError(f"{path}:{number}: an empty line")
            try:
                record = parse_json(kind, raw)
            except MalformedError as error:
                raise RunDirError(f"{path}:{number}: {error}") from None
            yield number, record
    if check.tally is not None and number != check.tally.lines:
        raise RunDirError(
            f"{path}: {number:,} lines, but the engine wrote {check.tally.lines:,}: "
            "the file was changed after the run"
        )


class LineTail(Generic[T]):
    """The records appended to a line file since the last call; a line still being written
    waits. A malformed whole line is skipped and counted (`malformed`): a live view must go
    on, and the run's evaluation reads the file strictly afterwards."""

    def __init__(self, path: Path, kind: type[T]) -> None:
        self.path = path
        self.kind = kind
        self.malformed = 0
        """Whole lines that did not match the record."""
        self._offset = 0
        self._partial = b""

    def read_new(self) -> list[T]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()  # b"" when the chunk ended with a newline
        records: list[T] = []
        for line in lines:
            try:
                records.append(parse_json(self.kind, line))
            except MalformedError:
                self.malformed += 1
        return records
