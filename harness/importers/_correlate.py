"""Correlation: a value the server answered that a later request sends back becomes a
variable, extracted from the answer and substituted into the request.

A recording holds one session's ids and tokens (product 1248, reservation res_3f2f...,
a bearer token from the login answer). Replayed literally, every user would send the
recorded ids, which no longer exist or belong to someone else. So when a value first seen
in a JSON response body comes back in a later request's path, query, header or JSON body, the
answering step gets `extract: {reservation_id: reservation_id}` and the later request says
`{reservation_id}`.

A value counts only if it looks like an identifier: an integer of two digits or more, a
string under an id-like key (`id`, `*_id`, `token`, `slug`, ...), one holding a digit, or a
long opaque string; never a value that some earlier request already sent (the user typed
it, and the response echoed it back).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from harness.importers._names import unique_name, variable_name

MIN_INT = 10
"""Smaller integers (page 1, quantity 2) are too common to be an identifier."""
MIN_STRING_CHARS = 4
MAX_STRING_CHARS = 4096
LONG_STRING_CHARS = 16
"""A string at least this long with no spaces reads as an opaque token whatever its key."""

_ID_KEY = re.compile(r"(^|_)(id|ids|uuid|guid|key|token|slug|code|ref|handle|cursor|sku)$", re.I)
_ID_SUFFIX = re.compile(r"[a-z](Id|ID|Key|Token)$")
_SCHEME_VALUE = re.compile(r"^(\w+) (\S+)$")

CanonicalValue = tuple[str, int | str]


@dataclass(slots=True)
class Exchange:
    """One request as the flow will send it, and the JSON it got back; correlation rewrites
    its parts in place."""

    path_segments: list[str]
    """The path split on '/', a leading empty string for the root."""
    query: list[tuple[str, Any]]
    """Query parameters in order."""
    headers: dict[str, str]
    """Headers the step sends."""
    body: Any
    """JSON body, or None."""
    response: Any
    """The recorded JSON answer, or None."""
    extract: dict[str, str] = field(default_factory=dict)
    """Variable -> dotted path, filled when a later request uses a value of the answer."""
    extract_notes: dict[str, str] = field(default_factory=dict)
    """Variable -> what was recorded and which steps use it."""
    variable_segments: set[int] = field(default_factory=set)
    """Indices of path segments now holding a `{variable}`."""


@dataclass(frozen=True, slots=True)
class Correlation:
    """A value carried from an answer into later requests."""

    variable: str
    """The variable's name."""
    source_step: int
    """Index of the exchange whose answer holds the value."""
    json_path: str
    """Where in that answer."""
    recorded: Any
    """The value in the recording."""
    used_by: tuple[int, ...]
    """Indices of the exchanges that send it."""


def correlate(exchanges: list[Exchange]) -> list[Correlation]:
    """Rewrites `exchanges` in place (placeholders in requests, `extract` on the answers) and
    returns every correlation made, in the order the variables were created."""
    correlator = _Correlator(exchanges)
    for index, exchange in enumerate(exchanges):
        correlator.request(index, exchange)
        correlator.answer(index, exchange)
    correlations = [
        Correlation(name, source, path, recorded, tuple(correlator.uses[name]))
        for name, source, path, recorded in correlator.found
    ]
    for correlation in correlations:
        steps = ", ".join(str(step + 1) for step in correlation.used_by)
        exchanges[correlation.source_step].extract_notes[correlation.variable] = (
            f"{_short(correlation.recorded)} in the recording; "
            f"sent by step{'s' if len(correlation.used_by) > 1 else ''} {steps}"
        )
    return correlations


class _Correlator:
    """What the requests so far sent and what the answers so far offered."""

    def __init__(self, exchanges: list[Exchange]) -> None:
        self.exchanges = exchanges
        self.sent: set[CanonicalValue] = set()
        self.offered: dict[CanonicalValue, tuple[int, str, Any]] = {}
        self.variables: dict[CanonicalValue, str] = {}
        self.uses: dict[str, list[int]] = {}
        self.found: list[tuple[str, int, str, Any]] = []
        self._index = 0
        self._requested: set[CanonicalValue] = set()

    def request(self, index: int, exchange: Exchange) -> None:
        """Puts placeholders into the request for every value an earlier answer offered."""
        self._index = index
        self._requested = set()
        _rewrite(exchange, self._placeholder)
        self.sent |= self._requested

    def answer(self, index: int, exchange: Exchange) -> None:
        """Remembers the identifiers of the answer that no request has sent yet."""
        for path, value in _leaves(exchange.response):
            canon = canonical(value)
            if canon is not None and canon not in self.sent and _is_identifier(path, value):
                self.offered.setdefault(canon, (index, path, value))

    def _placeholder(self, value: Any) -> str | None:
        canon = canonical(value)
        if canon is None:
            return None
        self._requested.add(canon)
        if canon not in self.variables and canon in self.offered and canon not in self.sent:
            source, path, recorded = self.offered[canon]
            created = unique_name(_name_for(path), self.uses)
            self.variables[canon] = created
            self.uses[created] = []
            self.exchanges[source].extract[created] = path
            self.found.append((created, source, path, recorded))
        name = self.variables.get(canon)
        if name is None:
            return None
        if self._index not in self.uses[name]:
            self.uses[name].append(self._index)
        return f"{{{name}}}"


def canonical(value: Any) -> CanonicalValue | None:
    """The value as requests and answers are compared: `"1248"` in a path equals `1248` in JSON."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return ("n", value)
    if isinstance(value, str):
        if value.isdigit() and (value == "0" or not value.startswith("0")) and len(value) < 19:
            return ("n", int(value))
        return ("s", value)
    return None


def _rewrite(exchange: Exchange, placeholder: Callable[[Any], str | None]) -> None:
    """Calls `placeholder(value)` on every value the request sends and puts the placeholder
    it returns (if any) in the value's place."""
    for position, segment in enumerate(exchange.path_segments):
        if segment:
            replaced = placeholder(segment)
            if replaced is not None:
                exchange.path_segments[position] = replaced
                exchange.variable_segments.add(position)
    exchange.query = [
        (name, placeholder(value) or value) if isinstance(value, str) else (name, value)
        for name, value in exchange.query
    ]
    for name, value in list(exchange.headers.items()):
        scheme = _SCHEME_VALUE.match(value)
        if scheme:
            replaced = placeholder(scheme.group(2))
            if replaced is not None:
                exchange.headers[name] = f"{scheme.group(1)} {replaced}"
                continue
        exchange.headers[name] = placeholder(value) or value
    exchange.body = _rewrite_json(exchange.body, placeholder)


def _rewrite_json(value: Any, placeholder: Callable[[Any], str | None]) -> Any:
    if isinstance(value, dict):
        return {key: _rewrite_json(item, placeholder) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite_json(item, placeholder) for item in value]
    replaced = placeholder(value)
    return value if replaced is None else replaced


def _leaves(document: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every scalar in document order; keys a dotted path cannot
    name (empty, or holding a dot) are skipped."""
    if isinstance(document, dict):
        for key, item in document.items():
            if not isinstance(key, str) or not key or "." in key:
                continue
            yield from _leaves(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(document, list):
        for position, item in enumerate(document):
            yield from _leaves(item, f"{prefix}.{position}" if prefix else str(position))
    elif prefix:
        yield prefix, document


def _last_key(path: str) -> tuple[str, str]:
    """The last key of a dotted path that is not a list index, and the key before it."""
    keys = [part for part in path.split(".") if not part.isdigit()]
    return (keys[-1] if keys else "value", keys[-2] if len(keys) > 1 else "")


def _is_identifier(path: str, value: Any) -> bool:
    key, _ = _last_key(path)
    id_like_key = bool(_ID_KEY.search(key) or _ID_SUFFIX.search(key))
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) >= MIN_INT
    if not isinstance(value, str):
        return False
    if not MIN_STRING_CHARS <= len(value) <= MAX_STRING_CHARS or any(c.isspace() for c in value):
        return False
    if value.startswith(("http://", "https://", "/")):
        return False  # a link, not an identifier
    return id_like_key or any(c.isdigit() for c in value) or len(value) >= LONG_STRING_CHARS


def _name_for(path: str) -> str:
    """`product_id` for `items.1.product_id`; `item_id` for `items.1.id` (the list's name,
    singular, before a bare `id`)."""
    key, parent = _last_key(path)
    if key.lower() in ("id", "uuid", "guid", "key", "token", "slug", "code") and parent:
        singular = parent[:-1] if parent.endswith("s") and len(parent) > 3 else parent
        return variable_name(f"{singular}_{key}")
    return variable_name(key)


def _short(value: Any) -> str:
    """The recorded value for a comment; a long string (a token?) only by its length."""
    if isinstance(value, str) and len(value) >= LONG_STRING_CHARS:
        return f"a {len(value)}-character value"
    return repr(value)
