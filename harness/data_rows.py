"""The rows of a data source file (a scenario's `data:`): CSV, JSON or JSONL, read once.

- CSV: a header row names the columns; every other non-blank row has as many fields (values
  are text).
- JSON: one array of objects (values keep their JSON types).
- JSONL: one object per non-blank line.

The spec reads a file to check it and count its rows; each engine process reads it once and
every user draws from the same rows (a CSV row is kept as a tuple and becomes a mapping only
when drawn, so 100,000 rows cost little memory). A bad file is a `DataFileError` whose
message starts with `file:line`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

DataFormat = Literal["csv", "json", "jsonl"]
FORMATS: tuple[DataFormat, ...] = ("csv", "json", "jsonl")


class DataFileError(ValueError):
    """A data file that cannot be read or parsed; the message starts with `file:line`."""


@dataclass(frozen=True, slots=True)
class DataRows:
    """The rows of one data file."""

    columns: tuple[str, ...]
    """Column names (CSV header; for JSON, every key any row has, in first-seen order)."""
    tuples: tuple[tuple[str, ...], ...] = ()
    """CSV rows, field by field."""
    objects: tuple[Mapping[str, Any], ...] = ()
    """JSON and JSONL rows."""

    def __len__(self) -> int:
        return len(self.tuples) if self.tuples else len(self.objects)

    def row(self, index: int) -> Mapping[str, Any]:
        """Row `index` as column -> value."""
        if self.tuples:
            return dict(zip(self.columns, self.tuples[index], strict=True))
        return self.objects[index]


def format_of(path: str | Path, given: str | None = None) -> DataFormat | None:
    """The format named by `given`, else by the file's extension; None when neither says."""
    name = given or Path(path).suffix.lower().lstrip(".")
    if name == "ndjson":
        name = "jsonl"
    for known in FORMATS:
        if name == known:
            return known
    return None


def read_rows(path: Path, data_format: DataFormat, label: str | None = None) -> DataRows:
    """Every row of `path`; a DataFileError for a missing, unreadable, malformed or empty file."""
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFileError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise DataFileError(f"{label}: is a directory, expected a data file") from None
    except UnicodeDecodeError as error:
        raise DataFileError(f"{label}: is not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise DataFileError(f"{label}: cannot be read: {error.strerror or error}") from None
    if data_format == "csv":
        rows = _csv_rows(text, label)
    elif data_format == "json":
        rows = _json_rows(text, label)
    else:
        rows = _jsonl_rows(text, label)
    if not len(rows):
        raise DataFileError(f"{label}:1: has no rows")
    return rows


def _csv_rows(text: str, label: str) -> DataRows:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DataFileError(f"{label}:1: is empty, expected a header row of column names")
        columns = tuple(name.strip() for name in header)
        if any(not name for name in columns):
            raise DataFileError(f"{label}:1: a column name is empty in the header {header!r}")
        duplicates = sorted({name for name in columns if columns.count(name) > 1})
        if duplicates:
            raise DataFileError(f"{label}:1: duplicate column {duplicates[0]!r} in the header")
        width = len(columns)
        rows: list[tuple[str, ...]] = []
        for fields in reader:
            if not fields:
                continue
            if len(fields) != width:
                raise DataFileError(
                    f"{label}:{reader.line_num}: the row has {len(fields)} fields, the header "
                    f"{width} ({', '.join(columns)})"
                )
            rows.append(tuple(fields))
    except csv.Error as error:
        raise DataFileError(f"{label}:{reader.line_num}: not valid CSV: {error}") from None
    return DataRows(columns=columns, tuples=tuple(rows))


def _json_rows(text: str, label: str) -> DataRows:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFileError(f"{label}:{error.lineno}: not valid JSON: {error.msg}") from None
    if not isinstance(data, list):
        raise DataFileError(f"{label}:1: expected an array of objects, got {type(data).__name__}")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise DataFileError(
                f"{label}: item {index} of the array is {type(item).__name__}, expected an object"
            )
    return DataRows(columns=_keys(data), objects=tuple(data))


def _jsonl_rows(text: str, label: str) -> DataRows:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataFileError(f"{label}:{number}: not valid JSON: {error.msg}") from None
        if not isinstance(item, dict):
            raise DataFileError(
                f"{label}:{number}: expected one JSON object a line, got {type(item).__name__}"
            )
        rows.append(item)
    return DataRows(columns=_keys(rows), objects=tuple(rows))


def _keys(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return tuple(seen)
