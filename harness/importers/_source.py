"""Reading what an importer starts from: a JSON (or YAML) document in a file or at a URL.

Every way the input can be wrong (no such file, not JSON, a URL that does not answer) is a
one-line `UsageError` naming the input, never a traceback.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UsageError

FETCH_TIMEOUT_S = 15.0
"""How long a URL may take to answer."""
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
"""A larger input is refused rather than read into memory (a HAR with bodies can be big)."""


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A parsed input document and where it came from."""

    data: Any
    """The parsed JSON (or YAML) value."""
    label: str
    """How messages name the input: the path or URL as given."""
    url: str | None
    """The URL it was fetched from (relative server URLs resolve against it); None for a file."""


def is_url(source: str) -> bool:
    """Whether `source` names an http(s) URL rather than a file."""
    return urllib.parse.urlsplit(source).scheme in ("http", "https")


def read_document(source: str, *, allow_yaml: bool) -> SourceDocument:
    """The document in the file or at the http(s) URL `source`: JSON, or YAML when allowed."""
    if is_url(source):
        text = _fetch(source)
        url: str | None = source
    else:
        text = _read_file(Path(source))
        url = None
    return SourceDocument(_parse(text, source, allow_yaml=allow_yaml), source, url)


def _read_file(path: Path) -> str:
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise UsageError(f"{path}: larger than {MAX_DOCUMENT_BYTES // 2**20} MB")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot be read ({error.strerror})") from None


def _fetch(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept": "application/json, */*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as answer:
            body: bytes = answer.read(MAX_DOCUMENT_BYTES + 1)
            charset = answer.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as error:
        raise UsageError(f"{url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise UsageError(f"{url}: unreachable ({error.reason})") from None
    except (TimeoutError, OSError) as error:
        raise UsageError(f"{url}: unreachable ({error})") from None
    except ValueError as error:  # a malformed URL such as http://[::1
        raise UsageError(f"{url}: not a valid URL ({error})") from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"{url}: larger than {MAX_DOCUMENT_BYTES // 2**20} MB")
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise UsageError(f"{url}: the answer is not {charset} text") from None


def _parse(text: str, label: str, *, allow_yaml: bool) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        if not allow_yaml:
            raise UsageError(
                f"{label}:{error.lineno}: not JSON ({error.msg}, column {error.colno})"
            ) from None
        json_error = error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else json_error.lineno
        problem = getattr(error, "problem", None) or json_error.msg
        raise UsageError(f"{label}:{line}: neither JSON nor YAML ({problem})") from None
