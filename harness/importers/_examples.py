"""Example values from an OpenAPI document: what a starter scenario sends for a parameter.

In order of preference: the parameter's own `example` or first `examples` entry, the schema's
`example`, first `examples` item, `default`, first `enum` value or `const`; else a value of the
schema's type that its bounds accept (an integer id is its `minimum`, else 1). `$ref`s to the
document's own components are followed; `allOf` takes its first part, `oneOf`/`anyOf` their
first choice.
"""

from __future__ import annotations

import re
from typing import Any

MAX_REF_DEPTH = 32
"""More nested references than this is a cycle."""
_FORMATS: dict[str, Any] = {
    "uuid": "00000000-0000-4000-8000-000000000001",
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}
_STRING_TRIES = ("example", "abc123", "a1", "1", "A", "x")


class NoExampleError(Exception):
    """No value could be made up for a schema (an object, or a pattern nothing here matches)."""


def resolve(document: dict[str, Any], node: Any) -> Any:
    """`node` with its local `$ref` chain followed ({} for a reference outside the document)."""
    for _ in range(MAX_REF_DEPTH):
        if not isinstance(node, dict) or "$ref" not in node:
            return node
        reference = node["$ref"]
        if not isinstance(reference, str) or not reference.startswith("#/"):
            return {}
        target: Any = document
        for part in reference[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return {}
            target = target[part]
        node = target
    return {}


def parameter_example(document: dict[str, Any], parameter: dict[str, Any]) -> Any:
    """The value a starter request sends for an OpenAPI parameter object."""
    if "example" in parameter:
        return _scalar(parameter["example"])
    examples = parameter.get("examples")
    if isinstance(examples, dict):
        for example in examples.values():
            example = resolve(document, example)
            if isinstance(example, dict) and "value" in example:
                return _scalar(example["value"])
    return schema_example(document, parameter.get("schema", {}))


def schema_example(document: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """A value the schema accepts (a scalar, or a list of one for an array)."""
    schema = resolve(document, schema)
    if not isinstance(schema, dict) or depth > MAX_REF_DEPTH:
        raise NoExampleError("no schema")
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        values = schema.get(key)
        if isinstance(values, list) and values:
            return values[0]
    for key in ("allOf", "oneOf", "anyOf"):
        parts = schema.get(key)
        if isinstance(parts, list) and parts:
            return schema_example(document, parts[0], depth + 1)
    kind = _type(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    if kind == "array":
        return [schema_example(document, schema.get("items", {}), depth + 1)]
    if kind == "string" or kind is None:
        return _string(schema)
    raise NoExampleError(f"a {kind} has no example")


def _scalar(value: Any) -> Any:
    if isinstance(value, dict):
        raise NoExampleError("an object example")
    return value


def _type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1: ["integer", "null"]
        kinds = [k for k in kind if k != "null"]
        return str(kinds[0]) if kinds else None
    return str(kind) if kind is not None else None


def _number(schema: dict[str, Any], kind: str) -> int | float:
    low = schema.get("minimum")
    exclusive = schema.get("exclusiveMinimum")
    if isinstance(exclusive, int | float) and not isinstance(exclusive, bool):
        low = exclusive + 1  # 3.1: the bound itself
    elif exclusive is True and isinstance(low, int | float):
        low = low + 1  # 3.0: a flag on minimum
    high = schema.get("maximum")
    value: float = low if isinstance(low, int | float) else 1
    if isinstance(high, int | float) and value > high:
        value = high
    return int(value) if kind == "integer" else value


def _string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        return str(_FORMATS[fmt])
    low = int(schema.get("minLength", 0) or 0)
    high = schema.get("maxLength")
    pattern = schema.get("pattern")
    for candidate in _STRING_TRIES:
        text = candidate.ljust(low, "x")
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        if not isinstance(pattern, str):
            return text
        try:
            if re.search(pattern, text):
                return text
        except re.error:
            return text
    raise NoExampleError(f"no value matching the pattern {pattern!r}")
