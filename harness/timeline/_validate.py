"""Strict reading of one JSON document into the typed record that wrote it.

Every artefact of a run directory is read with pydantic in strict JSON mode against the frozen
dataclass its writer used, so `"interrupted": "no"`, `"counts": {"http_4xx": "x"}` or a
negative count is an error, never a silent coercion. The error is one sentence naming the
field, what it must be, and the value found: `counts.http_4xx must be an integer, got 'x'`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from typing import Annotated, Any, TypeVar

from annotated_types import Ge
from pydantic import AfterValidator, TypeAdapter, ValidationError

T = TypeVar("T")

Count = Annotated[int, Ge(0)]
"""A number of things (requests, lines, bytes): an integer, never negative."""

_HDR_COMPRESSED_COOKIE = 0x1C849304
"""HDR's V2 compressed cookie; bits 4-7 carry the word size, ignored here."""
_SHOWN_CHARS = 40


def _check_hdr(encoded: str) -> str:
    """`encoded` if it has the shape of a base64 HDR V2 compressed histogram (decoded lazily)."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be an HDR histogram in base64") from None
    if len(raw) < 8:
        raise ValueError("must be an HDR histogram in base64 (too short)")
    cookie, length = struct.unpack(">ii", raw[:8])
    if cookie & ~0xF0 != _HDR_COMPRESSED_COOKIE or length != len(raw) - 8:
        raise ValueError("must be an HDR histogram in base64 (wrong header or length)")
    return encoded


EncodedHistogram = Annotated[str, AfterValidator(_check_hdr)]
"""An HDR histogram as `LatencyHistogram.encode` writes it; its shape is checked on reading,
its payload when it is decoded."""


class MalformedError(ValueError):
    """A document did not match its record; the message names the field and the value."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        """The top-level field the problem is in, None for the document as a whole."""

    def line_suffix(self, text: str) -> str:
        """ ":N", the line of `text` (an indented JSON document) where the field is, or ""."""
        if self.field is None:
            return ""
        pattern = rf'^\s*"{re.escape(self.field)}"\s*:'
        match = re.search(pattern, text, flags=re.MULTILINE)
        return f":{text.count(chr(10), 0, match.start()) + 1}" if match else ""


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


def parse_json(kind: type[T], text: str | bytes) -> T:
    """`text` read into `kind` (a dataclass), strictly: a MalformedError says what is wrong."""
    try:
        parsed: T = _adapter(kind).validate_json(text, strict=True)
    except ValidationError as error:
        location = error.errors(include_url=False)[0]["loc"]
        field = str(location[0]) if location else None
        raise MalformedError(describe(error), field) from None
    return parsed


def parse_python(kind: type[T], data: Any) -> T:
    """Like `parse_json`, for a value already decoded from JSON (lists stand for tuples)."""
    return parse_json(kind, json.dumps(data))


def describe(error: ValidationError) -> str:
    """The first problem of a validation error as one sentence (and how many more there are)."""
    problems = error.errors(include_url=False)
    first = problems[0]
    sentence = _sentence(first)
    if len(problems) > 1:
        sentence += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return sentence


def _sentence(problem: Any) -> str:
    kind = problem["type"]
    where = ".".join(str(part) for part in problem["loc"])
    context = problem.get("ctx") or {}
    if kind == "json_invalid":
        return f"not valid JSON ({context.get('error', problem['msg'])})"
    if kind in ("dataclass_type", "model_type") and not where:
        return f"expected a JSON object, got {_shown(problem['input'])}"
    if kind == "missing":
        return f"{where} is missing"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{where} is not a field of this file"
    phrase = {
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be an integer",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "string_type": "must be a string",
        "dict_type": "must be an object",
        "tuple_type": "must be a list",
        "list_type": "must be a list",
        "dataclass_type": "must be an object",
        "enum": f"must be one of {context.get('expected', '')}",
        "literal_error": f"must be one of {context.get('expected', '')}",
        "greater_than_equal": f"must be at least {context.get('ge')}",
        "finite_number": "must be a finite number",
    }.get(kind)
    if phrase is None and kind == "value_error":
        phrase = str(context.get("error", problem["msg"]))
    if phrase is None:
        phrase = str(problem["msg"]).lower()
    if (kind == "greater_than_equal" and context.get("ge") == 0) or (
        kind == "int_type" and where.startswith("counts.")
    ):
        phrase = "must be a non-negative integer"
    return f"{where or 'the document'} {phrase}, got {_shown(problem['input'])}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
