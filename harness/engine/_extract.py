"""Taking values out of a response: JSON queries and the extractions of a flow step.

Everything is compiled once per step (`compile_extraction`, `JsonQuery`), never per request.
A JSON expression starting with `$` is a JSONPath (RFC 9535, the python-jsonpath library);
one made only of names and indices (`$.items[0].id`, the common case) is walked directly,
like a dotted path (`items.0.id`), without the library's generic machinery (~0.5 µs instead
of ~7 µs). Filters, wildcards, slices and recursive descent go through the library.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from harness.engine._response_view import MISSING, ResponseView
from harness.plan import ExtractPlan, is_jsonpath

_Key = str | int
"""A step of a simple path: a member name, or an index (also a member's name on a mapping)."""


class JsonQuery:
    """A compiled JSON expression: `first` match or `every` match of a document."""

    __slots__ = ("_compiled", "_keys", "text")

    def __init__(self, expr: str) -> None:
        self.text = expr
        """The expression as written."""
        self._keys: tuple[_Key, ...] | None = None
        self._compiled: Any = None
        if not is_jsonpath(expr):
            self._keys = tuple(_dotted_key(part) for part in expr.split("."))
            return
        import jsonpath  # 150 ms to import: only in processes whose plan uses JSONPath

        compiled = jsonpath.compile(expr)
        self._keys = _simple_keys(compiled)
        if self._keys is None:
            self._compiled = compiled

    def first(self, document: Any) -> Any:
        """The first match, MISSING when there is none."""
        if self._keys is not None:
            return _walk(document, self._keys)
        found = self._compiled.match(document)
        return MISSING if found is None else found.obj

    def every(self, document: Any) -> list[Any]:
        """Every match, in document order."""
        if self._keys is not None:
            value = _walk(document, self._keys)
            return [] if value is MISSING else [value]
        return list(self._compiled.findall(document))


def _dotted_key(part: str) -> _Key:
    """A dotted path's part: digits (with a sign) index a list, anything else names a member."""
    if part.lstrip("-").isdigit() and str(int(part)) == part:
        return int(part)
    return part


def _walk(document: Any, keys: tuple[_Key, ...]) -> Any:
    current = document
    for key in keys:
        if type(current) is dict:
            # an index on a mapping names the member "0" (dotted paths always did)
            current = current.get(key if type(key) is str else str(key), MISSING)
            if current is MISSING:
                return MISSING
        elif type(current) is list and type(key) is int and -len(current) <= key < len(current):
            current = current[key]
        else:
            return MISSING
    return current


def _simple_keys(compiled: Any) -> tuple[_Key, ...] | None:
    """The names and indices of a JSONPath made only of them, else None."""
    from jsonpath.path import JSONPath
    from jsonpath.segments import JSONPathChildSegment
    from jsonpath.selectors import IndexSelector, NameSelector

    if type(compiled) is not JSONPath:
        return None
    keys: list[_Key] = []
    for segment in compiled.segments:
        if type(segment) is not JSONPathChildSegment or len(segment.selectors) != 1:
            return None
        selector = segment.selectors[0]
        if type(selector) is NameSelector:
            keys.append(str(selector.name))
        elif type(selector) is IndexSelector:
            keys.append(int(selector.index))
        else:
            return None
    return tuple(keys)


Extraction = Callable[[ResponseView], tuple[Any, str | None]]
"""A compiled extraction: the value, or (None, why nothing was found)."""


def compile_extraction(plan: ExtractPlan) -> Extraction:
    """The extraction of one `extract:` entry, ready to run on responses."""
    read = _reader(plan)
    failed = f"extract {plan.variable!r} failed: "

    def extract(view: ResponseView) -> tuple[Any, str | None]:
        values, why = read(view)
        if values:
            return (values if plan.all else values[0]), None
        if plan.has_default:
            return plan.default, None
        return None, failed + why

    return extract


def _reader(plan: ExtractPlan) -> Callable[[ResponseView], tuple[list[Any], str]]:
    """What an extraction reads: its matches (first only unless `all`) and the reason when
    there are none."""
    expr = plan.expr
    if plan.source == "json":
        query = JsonQuery(expr)
        missing = f"no {expr} in the JSON body"

        def from_json(view: ResponseView) -> tuple[list[Any], str]:
            document = view.json
            if document is MISSING:
                return [], "the body is not JSON"
            if plan.all:
                return query.every(document), missing
            value = query.first(document)
            return ([] if value is MISSING else [value]), missing

        return from_json
    if plan.source == "header":
        return lambda view: (view.headers(expr), f"no header {expr}")
    if plan.source == "cookie":
        return lambda view: (view.cookies(expr), f"no cookie {expr} set")
    pattern = re.compile(expr)
    group = plan.group
    missing = f"no match for {expr!r} in the body"

    def from_regex(view: ResponseView) -> tuple[list[Any], str]:
        if plan.all:
            return [match.group(group) for match in pattern.finditer(view.text)], missing
        match = pattern.search(view.text)
        return ([] if match is None else [match.group(group)]), missing

    return from_regex
