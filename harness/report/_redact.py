"""Secrets never reach a report: URLs re-redacted, secret-looking fields and bearer tokens masked.

The runner already strips secrets from the target it records; the report does it again on
everything it reads (run record, plan, verdict, events, error messages, server metadata),
because a single leaked token in a shared HTML page is one too many.
"""

from __future__ import annotations

import re
from typing import Any

from harness.target import redact_url

REDACTED = "REDACTED"
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")
_BEARER = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_SECRET_KEY = re.compile(
    r"(token|secret|passw|authorization|cookie|api[_-]?key|private[_-]?key|credential)",
    re.IGNORECASE,
)


def scrub_text(text: str) -> str:
    """`text` with every URL redacted (password, token-like query values) and bearer tokens masked."""
    if "://" in text:
        text = _URL.sub(lambda match: redact_url(match.group(0)), text)
    return _BEARER.sub(lambda match: f"{match.group(1)} {REDACTED}", text)


def scrub(value: Any) -> Any:
    """A copy of a JSON-like value with `scrub_text` applied to every string and the value of
    every secret-looking key (token, password, authorization, api_key, ...) masked."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: (
                REDACTED
                if isinstance(key, str) and _SECRET_KEY.search(key) and isinstance(item, str)
                else scrub(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value
