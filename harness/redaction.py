"""Secrets never reach a record or a report: URLs redacted, secret-looking fields and bearer
tokens masked.

The runner strips secrets from the target it records (`redact_url`); the report does it again on
everything it reads (run record, plan, verdict, events, error messages, server metadata),
because a single leaked token in a shared HTML page is one too many.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

REDACTED = "REDACTED"
_SECRET_QUERY_WORDS = ("token", "key", "secret", "password", "passwd", "auth", "signature", "sig")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")
_BEARER = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_SECRET_KEY = re.compile(
    r"(token|secret|passw|authorization|cookie|api[_-]?key|private[_-]?key|credential)",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    """Whether a key, header or field of this name holds a secret (token, password,
    authorization, cookie, api_key, ...)."""
    return _SECRET_KEY.search(name) is not None


def _is_secret_param(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_QUERY_WORDS)


def redact_url(url: str) -> str:
    """The URL with the userinfo password and token-like query values replaced by REDACTED."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return url.split("@")[-1] if "@" in url else url
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None:
        user = parts.username
        netloc = f"{user}:{REDACTED}@{netloc}" if parts.password is not None else f"{user}@{netloc}"
    query = urllib.parse.urlencode(
        [
            (name, REDACTED if _is_secret_param(name) else value)
            for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="",
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


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
