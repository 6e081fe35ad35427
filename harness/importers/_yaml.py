"""A small YAML writer for files a person reads next: comments where they help, short
mappings on one line (`{name: steady, duration: 2m, users: 10}`), strings quoted only when
YAML would read them as something else.

PyYAML's dumper cannot write comments and either quotes everything or nothing; the importers
want both comments and the hand-written look of scenarios/*.yaml. What this writes reads back
(`yaml.safe_load`) as exactly the data it was given; the tests hold it to that.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

LINE_CHARS = 100
"""A mapping or list goes on one line when the line stays within this width."""

_PLAIN = re.compile(r"[A-Za-z0-9_./(][A-Za-z0-9_./@+=()?!'-]*(?: [A-Za-z0-9_./@+=()?!'-]+)*")


@dataclass(frozen=True, slots=True)
class Commented:
    """A value with comments: `above` lines before its key or list item ("" is a blank line),
    `comment` at the end of its line."""

    value: Any
    """The value written."""
    comment: str = ""
    """Text after `#` on the value's (first) line."""
    above: tuple[str, ...] = ()
    """Comment lines written before the key or item."""


def dump(data: Mapping[str, Any], header: Iterable[str] = (), footer: Iterable[str] = ()) -> str:
    """The YAML text of a mapping, with comment lines before and after it (each wrapped to
    the line width; a line starting with spaces keeps them)."""
    lines = _comment_block(header)
    lines += _mapping(data, 0)
    footer_lines = _comment_block(footer)
    if footer_lines:
        lines += ["", *footer_lines]
    return "\n".join(lines) + "\n"


def scalar(value: Any) -> str:
    """One scalar as YAML reads it back: plain where that is unambiguous, else JSON-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no YAML for {value!r}")
        text = repr(value)
        return text if yaml.safe_load(text) == value else json.dumps(str(value))
    text = str(value)
    if _PLAIN.fullmatch(text) and _reads_back(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _reads_back(text: str) -> bool:
    try:
        return bool(yaml.safe_load(text) == text)
    except yaml.YAMLError:
        return False


def _unwrap(value: Any) -> tuple[Any, str, tuple[str, ...]]:
    if isinstance(value, Commented):
        return value.value, value.comment, value.above
    return value, "", ()


def _comment_block(texts: Iterable[str]) -> list[str]:
    lines: list[str] = []
    for text in texts:
        lead = len(text) - len(text.lstrip(" "))
        wrapped = textwrap.wrap(
            text.strip(),
            width=LINE_CHARS - 2,
            initial_indent=" " * lead,
            subsequent_indent=" " * (lead + 2 if lead else 0),
            break_on_hyphens=False,
        )
        lines += [f"# {line}".rstrip() for line in wrapped] or ["#"]
    return lines


def _comment_line(text: str, indent: int) -> str:
    text = " ".join(text.split())
    return f"{' ' * indent}# {text}" if text else ""


def _with_comment(line: str, comment: str) -> str:
    comment = " ".join(comment.split())
    return f"{line}  # {comment}" if comment else line


def _is_collection(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes)
    )


def _flow(value: Any) -> str | None:
    """The one-line form of a value, or None when it holds comments."""
    if isinstance(value, Commented):
        return None
    if isinstance(value, Mapping):
        parts = []
        for key, item in value.items():
            text = _flow(item)
            if text is None:
                return None
            parts.append(f"{scalar(key)}: {text}")
        return "{" + ", ".join(parts) + "}"
    if _is_collection(value):
        items = [_flow(item) for item in value]
        if any(text is None for text in items):
            return None
        return "[" + ", ".join(str(text) for text in items) + "]"
    return scalar(value)


def _mapping(data: Mapping[str, Any], indent: int) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for key, wrapped in data.items():
        value, comment, above = _unwrap(wrapped)
        lines += [_comment_line(text, indent) for text in above]
        head = f"{pad}{scalar(key)}:"
        lines += _value_lines(head, value, comment, indent)
    return lines


def _value_lines(head: str, value: Any, comment: str, indent: int) -> list[str]:
    """`head` (a `key:` or a `-`) followed by the value: on the same line when it fits."""
    if not _is_collection(value) or not value:
        text = _flow(value) if _is_collection(value) else scalar(value)
        return [_with_comment(f"{head} {text}", comment)]
    # a list of mappings is a block, one mapping a line (as scenarios/*.yaml write stages)
    rows = not isinstance(value, Mapping) and any(
        isinstance(_unwrap(item)[0], Mapping) for item in value
    )
    flow = None if rows else _flow(value)
    if flow is not None and len(_with_comment(f"{head} {flow}", comment)) <= LINE_CHARS:
        return [_with_comment(f"{head} {flow}", comment)]
    if isinstance(value, Mapping):
        return [_with_comment(head, comment), *_mapping(value, indent + 2)]
    return [_with_comment(head, comment), *_sequence(value, indent + 2)]


def _sequence(items: Sequence[Any], indent: int) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for wrapped in items:
        value, comment, above = _unwrap(wrapped)
        lines += [_comment_line(text, indent) for text in above]
        flow = _flow(value) if _is_collection(value) else None
        if (
            isinstance(value, Mapping)
            and value
            and (flow is None or len(_with_comment(f"{pad}- {flow}", comment)) > LINE_CHARS)
        ):
            # a block mapping as a list item: its first key on the dash's line
            block = _mapping(value, indent + 2)
            first = next(
                i for i, line in enumerate(block) if line.strip() and not _is_comment(line)
            )
            block[first] = _with_comment(f"{pad}- {block[first].lstrip()}", comment)
            lines += block
        else:
            lines += _value_lines(f"{pad}-", value, comment, indent)
    return lines


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")
