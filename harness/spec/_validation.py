"""Turns pydantic validation errors into `Problem`s a person can act on.

pydantic reports a location (keys, list indices and, inside unions or validators, internal tags)
and a message. The location is matched against the YAML data so internal tags disappear; an
unknown key names the keys that are allowed there and the closest spelling.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin

import pydantic
from pydantic_core import ErrorDetails

from harness.spec._document import Document, PathKey, Problem

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

_NO_VALUE_TYPES = {"missing", "extra_forbidden"}


def validate_document(model: type[ModelT], document: Document) -> ModelT:
    """Validate the document's data against `model`, or raise every problem at once."""
    try:
        return model.model_validate(document.data)
    except pydantic.ValidationError as error:
        problems = [_problem(model, document.data, detail) for detail in error.errors()]
        raise document.error(problems) from None


def _problem(model: type[pydantic.BaseModel], data: Any, detail: ErrorDetails) -> Problem:
    loc = detail["loc"]
    kind = detail["type"]
    if (loc and loc[-1] == "[key]") or kind == "invalid_key":
        # YAML reads `yes`, `on`, `1` as booleans and numbers; a key must be text
        path = _data_path(data, tuple(part for part in loc if part != "[key]"))
        key = detail.get("input")
        return Problem(path, f"a key must be text, got {quote_value(key)} (quote it)")
    path = _data_path(data, loc)
    if kind == "missing":
        return Problem(path, "missing required key")
    if kind == "extra_forbidden":
        return Problem(path, _unknown_key(model, path))
    if kind == "too_short":
        minimum = (detail.get("ctx") or {}).get("min_length", 1)
        return Problem(path, "must not be empty" if minimum == 1 else f"needs {minimum} entries")
    message = detail["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if "got " in message or kind in _NO_VALUE_TYPES:
        return Problem(path, message)
    return Problem(path, f"{_lower_first(message)}, got {quote_value(detail.get('input'))}")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def quote_value(value: object) -> str:
    """A short quoted rendering of a bad value for a message."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _data_path(data: Any, loc: tuple[int | str, ...]) -> PathKey:
    """The part of a pydantic location that exists in the data, plus a final missing key."""
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if _has(current, part):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and index == len(loc) - 1 and isinstance(part, str):
            path.append(part)  # a missing key
        # anything else is a pydantic tag (union member, validator name): skip it
    return tuple(path)


def _has(container: Any, part: int | str) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _unknown_key(model: type[pydantic.BaseModel], path: PathKey) -> str:
    key = str(path[-1]) if path else ""
    parent = _model_at(model, path[:-1])
    if parent is None:
        return f"unknown key {key!r}"
    allowed = sorted(
        (field.alias or name) for name, field in parent.model_fields.items() if not field.exclude
    )
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}; expected one of: {', '.join(allowed)}"


def _model_at(model: type[pydantic.BaseModel], path: PathKey) -> type[pydantic.BaseModel] | None:
    """The model class that validates the mapping at `path`, following fields, dicts and lists."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    return _as_model(annotation)


def _step(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    model = _as_model(annotation)
    if model is not None:
        for name, field in model.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin in (list, tuple) and args:
        return args[0]
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            models = [arg for arg in members if _as_model(arg) is not None]
            annotation = models[0] if models else members[0]
        else:
            return annotation


def _as_model(annotation: Any) -> type[pydantic.BaseModel] | None:
    annotation = _unwrap(annotation) if get_origin(annotation) is not None else annotation
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    return None
