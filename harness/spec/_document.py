"""A YAML file read with the line of every key and value, and its problems told as `file:line`.

PyYAML composes the node tree first, so each node keeps its mark; the data is constructed from
the same tree and a map from path (keys and list indices) to line number is built beside it.
Every problem found later (by pydantic or by a cross-check) names a path, and the map turns it
into `file:line: path.to.field: message`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import SpecError

PathKey = tuple[str | int, ...]

_MAX_BYTES = 5_000_000


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a document, at a path inside it."""

    path: PathKey
    """Keys and list indices from the document root to the bad field."""
    message: str
    """What is wrong and what was expected, with the bad value quoted."""


@dataclass(frozen=True, slots=True)
class Document:
    """The data of one YAML file and the line of each path in it."""

    label: str
    """The file as the user named it, for messages."""
    data: Any
    """The constructed YAML data."""
    lines: dict[PathKey, int]
    """Path -> 1-based line of the value (of the key for mapping entries)."""

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of the longest prefix of `path` present in the document."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def error(self, problems: Iterable[Problem]) -> SpecError:
        """One SpecError listing every problem, sorted by line."""
        located = sorted(
            (self.line_of(problem.path), _dotted(problem.path), problem.message)
            for problem in problems
        )
        lines = [f"{self.label}:{line}: {where}: {message}" for line, where, message in located]
        return SpecError("\n".join(dict.fromkeys(lines)))


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path) if path else "(document)"


def display_path(path: Path) -> str:
    """`path` relative to the current directory when it lies under it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_document(path: Path, label: str | None = None) -> Document:
    """Read and parse a YAML file that must hold a mapping; every failure is a SpecError."""
    label = label or display_path(path)
    if path.is_dir():
        raise SpecError(f"{label}: is a directory, expected a YAML file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{label}: no such file") from None
    except OSError as error:
        raise SpecError(f"{label}: cannot be read: {error.strerror or error}") from None
    if len(raw) > _MAX_BYTES:
        raise SpecError(f"{label}: is {len(raw):,} bytes, larger than a spec file can be (5 MB)")
    if b"\x00" in raw:
        raise SpecError(f"{label}: is a binary file, expected YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SpecError(
            f"{label}:{line}: is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
            f"{error.start})"
        ) from None
    return parse_document(text, label)


def parse_document(text: str, label: str) -> Document:
    """Parse YAML text into a Document; syntax errors become a SpecError with the line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError(f"{label}:1: (document): the file is empty, expected a mapping")
        data = loader.construct_document(node)
        lines: dict[PathKey, int] = {}
        duplicates: list[Problem] = []
        _walk(loader, node, (), lines, duplicates)
    except yaml.MarkedYAMLError as error:
        raise SpecError(_yaml_message(label, error)) from None
    except yaml.YAMLError as error:
        raise SpecError(f"{label}: not valid YAML: {error}") from None
    except RecursionError:
        raise SpecError(f"{label}: nested too deeply to be a spec file") from None
    finally:
        loader.dispose()
    document = Document(label, data, lines)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the value {data!r:.60}"
        raise document.error([Problem((), f"expected a mapping of keys at the top, got {kind}")])
    if duplicates:
        raise document.error(duplicates)
    return document


def _yaml_message(label: str, error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    parts = [part for part in (error.context, error.problem) if part]
    message = "; ".join(parts) or "not valid YAML"
    if any(sign in message for sign in ("chomping", "block scalar", "'>'", "'|'")):
        message += " (quote values that start with '>' or '|', e.g. \">= 10000 rps\")"
    return f"{label}:{line}: not valid YAML: {message}"


def _walk(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: PathKey,
    lines: dict[PathKey, int],
    duplicates: list[Problem],
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag == "tag:yaml.org,2002:merge"
            ):
                continue
            key = loader.construct_object(key_node)
            if not isinstance(key, str | int):
                continue
            if key in seen:
                duplicates.append(Problem((*path, key), f"duplicate key {key!r}"))
            seen.add(key)
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            _walk(loader, value_node, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(loader, item, (*path, index), lines, duplicates)
