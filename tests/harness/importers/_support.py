"""Small HAR files written by the tests: one entry per call, times one second apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHOP_HAR = FIXTURES / "shop_session.har"
BOOKSHOP_OPENAPI = FIXTURES / "bookshop.openapi.yaml"
_START = datetime(2024, 11, 5, 9, 0, tzinfo=UTC)


def entry(
    url: str,
    method: str = "GET",
    *,
    at_s: float = 0.0,
    time_ms: float = 20.0,
    status: int = 200,
    answer: Any = None,
    mime: str = "application/json",
    headers: dict[str, str] | None = None,
    body: Any = None,
    body_mime: str = "application/json",
    resource_type: str = "fetch",
    redirect: str = "",
) -> dict[str, Any]:
    """One HAR entry; `answer` and `body` are JSON values (a str body is sent as it is)."""
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "headers": [{"name": k, "value": v} for k, v in (headers or {}).items()],
    }
    if body is not None:
        text = body if isinstance(body, str) else json.dumps(body)
        request["postData"] = {"mimeType": body_mime, "text": text}
    content: dict[str, Any] = {"mimeType": mime, "size": 0}
    if answer is not None:
        content["text"] = json.dumps(answer)
    return {
        "startedDateTime": (_START + timedelta(seconds=at_s)).isoformat(),
        "time": time_ms,
        "_resourceType": resource_type,
        "request": request,
        "response": {"status": status, "headers": [], "content": content, "redirectURL": redirect},
    }


def write_har(path: Path, entries: list[dict[str, Any]], pages: tuple[str, ...] = ()) -> Path:
    """A HAR file holding `entries` (and pages titled with the given URLs)."""
    log = {
        "version": "1.2",
        "creator": {"name": "tests", "version": "1"},
        "pages": [{"id": f"page_{n}", "title": title} for n, title in enumerate(pages, 1)],
        "entries": entries,
    }
    path.write_text(json.dumps({"log": log}))
    return path
