"""One response as a flow step's checks and extractions read it: each part decoded once.

A step may read the JSON body for its schema, two extractions and an assertion; the body is
parsed the first time one of them asks (orjson, straight from the bytes) and kept for the
others. Cookies are the ones this response sets (its Set-Cookie headers), not the session's
whole jar: the value a login answer hands out is the one a script wants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    # locust is imported by the engine's process; these modules run without it in tests
    from locust.contrib.fasthttp import ResponseContextManager

MISSING: Any = object()
"""What a lookup returns when the response has no such value (distinct from JSON null)."""

_UNSET: Any = object()


class ResponseView:
    """Lazily decoded parts of one response."""

    __slots__ = ("_json", "_text", "response")

    def __init__(self, response: ResponseContextManager) -> None:
        self.response = response
        self._json: Any = _UNSET
        self._text: str | None = None

    @property
    def json(self) -> Any:
        """The parsed JSON body, MISSING when the body is not JSON."""
        if self._json is _UNSET:
            content = self.response.content
            try:
                self._json = orjson.loads(content) if content else MISSING
            except orjson.JSONDecodeError:
                self._json = MISSING
        return self._json

    @property
    def text(self) -> str:
        """The body as text ("" when there is none)."""
        if self._text is None:
            text = self.response.text or ""
            # Locust's responses decode by the charset; geventhttpclient's own give bytes
            self._text = text if isinstance(text, str) else text.decode("utf-8", "replace")
        return self._text

    def headers(self, name: str) -> list[str]:
        """Every value of a response header (any case), in order."""
        headers = self.response.headers
        return headers.getlist(name) if headers is not None else []

    def cookies(self, name: str) -> list[str]:
        """Values this response sets for cookie `name` (Set-Cookie), in order."""
        values: list[str] = []
        for line in self.headers("set-cookie"):
            pair = line.split(";", 1)[0]
            key, sign, value = pair.partition("=")
            if sign and key.strip() == name:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                values.append(value)
        return values
