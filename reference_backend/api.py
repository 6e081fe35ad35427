"""HTTP plumbing every agent shares: JSON responses, the error shape, input parsing.

Every error an agent answers is `{"error": {"code": ..., "message": ...}}` with a 4xx status
that says what was wrong with the request; `ApiError` carries it from wherever it is raised.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

MAX_BODY_BYTES = 64 * 1024
MAX_ID = 2_147_483_647  # ids are 32-bit in both databases
_JSON_MEDIA = "application/json"

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """A request that cannot be served as asked; becomes a JSON error response."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


class JsonResponse(Response):
    """A JSON response serialised with orjson (several times faster than json); bytes pass as is."""

    media_type = _JSON_MEDIA

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content)


class EncodedMemo:
    """The JSON encoding of the cached objects served last, remembered by identity.

    A cache hit hands out the same (never mutated) object again, so its encoding can be
    reused: the hot path of a cached page skips serialising ~5 KB per request. The memo
    holds a reference to each object, so an id is never reused while it is remembered.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        self._max_entries = max_entries
        self._encoded: dict[int, tuple[object, bytes]] = {}

    def encode(self, value: object) -> bytes:
        """The JSON bytes of `value`, encoded once per object."""
        known = self._encoded.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        encoded = orjson.dumps(value)
        if len(self._encoded) >= self._max_entries:
            self._encoded.clear()  # cheap and rare: the hot pages come back on their next hit
        self._encoded[id(value)] = (value, encoded)
        return encoded


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JsonResponse:
    """Answers `content` as JSON."""
    return JsonResponse(content, status_code=status, headers=headers)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one error shape of the backend."""
    return {"error": {"code": code, "message": message}}


async def api_error_handler(request: Request, exc: Exception) -> Response:
    """Turns an ApiError into its JSON response."""
    assert isinstance(exc, ApiError)
    return JsonResponse(error_body(exc.code, exc.message), exc.status, exc.headers)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Turns Starlette's own errors (unknown route, wrong method) into the JSON error shape."""
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = exc.detail
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    return JsonResponse(error_body(code, message), exc.status_code, exc.headers)


def path_id(request: Request, name: str) -> int:
    """Reads a positive integer path parameter, or answers 422 naming it."""
    raw = request.path_params[name]
    # isascii: str.isdigit() also accepts characters such as '²' that int() refuses.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not 1 <= int(raw) <= MAX_ID:
        raise ApiError(422, "invalid_path", f"{name} must be an integer 1..{MAX_ID}, got {raw!r}")
    return int(raw)


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """Reads an integer query parameter in [low, high], or answers 422 naming it."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid_query", f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(422, "invalid_query", f"{name} must be in {low}..{high}, got {value}")
    return value


def query_price_cents(request: Request, name: str) -> int | None:
    """Reads a price in dollars (e.g. `19.99`) as cents, or answers 422 naming it."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        dollars = float(raw)
    except ValueError:
        raise ApiError(422, "invalid_query", f"{name} must be a number, got {raw!r}") from None
    if not 0 <= dollars <= 10_000_000:  # also rejects nan and inf
        raise ApiError(422, "invalid_query", f"{name} must be between 0 and 10000000, got {raw!r}")
    return round(dollars * 100)


async def read_model(request: Request, model: type[M]) -> M:
    """Reads and validates a JSON body: 413 when too large, 400 when not JSON, 422 when wrong."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise ApiError(400, "invalid_json", "the request needs a JSON body")
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise _validation_error(error) from None


def _too_large() -> ApiError:
    return ApiError(413, "body_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")


def _validation_error(error: ValidationError) -> ApiError:
    first = error.errors(include_url=False)[0]
    if first["type"] == "json_invalid":
        return ApiError(400, "invalid_json", f"malformed JSON: {first['msg']}")
    where = ".".join(str(part) for part in first["loc"]) or "body"
    extra = len(error.errors()) - 1
    more = f" (and {extra} more)" if extra else ""
    return ApiError(422, "invalid_body", f"{where}: {first['msg']}{more}")
