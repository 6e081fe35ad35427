"""The part of the HAR 1.2 format the importer reads, as pydantic models.

A HAR ("HTTP Archive") is what a browser's DevTools write with "Save all as HAR":
`log.entries[]`, one per request, each with `startedDateTime`, `time` (ms), `request`
(method, url, headers, postData) and `response` (status, headers, content with the body as
`text`, base64 when `encoding` says so). Chrome adds `_resourceType` (document, xhr, fetch,
script, image, ...). Everything else in the file is ignored; a file that is not a HAR is a
one-line error naming the entry and field that are wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from harness.errors import UsageError
from harness.importers._source import SourceDocument

MAX_BODY_CHARS = 5_000_000
"""A larger response body is not searched for values to correlate."""


class _HarModel(BaseModel):
    # A HAR carries many fields the importer does not need (timings, cache, _initiator...).
    model_config = ConfigDict(extra="ignore", frozen=True)


class HarHeader(_HarModel):
    """A header, query parameter or cookie: a name and a value."""

    name: str
    value: str = ""


class HarPostData(_HarModel):
    """A request body."""

    mime_type: str = Field(default="", alias="mimeType")
    text: str | None = None


class HarRequest(_HarModel):
    """What the browser sent."""

    method: str
    url: str
    headers: list[HarHeader] = Field(default_factory=list)
    post_data: HarPostData | None = Field(default=None, alias="postData")


class HarContent(_HarModel):
    """A response body."""

    mime_type: str = Field(default="", alias="mimeType")
    text: str | None = None
    encoding: str | None = None


class HarResponse(_HarModel):
    """What the server answered (status 0: no answer, e.g. blocked or cancelled)."""

    status: int = 0
    headers: list[HarHeader] = Field(default_factory=list)
    content: HarContent = Field(default_factory=HarContent)
    redirect_url: str = Field(default="", alias="redirectURL")


class HarEntry(_HarModel):
    """One request of the recording."""

    started: datetime = Field(alias="startedDateTime")
    time_ms: float = Field(default=0.0, alias="time")
    request: HarRequest
    response: HarResponse = Field(default_factory=HarResponse)
    resource_type: str = Field(default="", alias="_resourceType")
    pageref: str | None = None

    @property
    def request_mime(self) -> str:
        """The request body's media type without parameters, lower case."""
        return _bare_mime(self.request.post_data.mime_type if self.request.post_data else "")

    @property
    def response_mime(self) -> str:
        """The response's media type without parameters, lower case."""
        return _bare_mime(self.response.content.mime_type)

    def response_json(self) -> Any:
        """The response body parsed as JSON, or None when it is not JSON (or not recorded)."""
        content = self.response.content
        text = content.text
        if not text or len(text) > MAX_BODY_CHARS:
            return None
        if content.encoding == "base64":
            try:
                text = base64.b64decode(text).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
        return parse_json_text(text, self.response_mime)

    def request_body(self) -> tuple[Any, str | None]:
        """The request body as JSON, or (None, its media type) when there is a body that is
        not JSON; (None, None) without a body."""
        post = self.request.post_data
        if post is None or not post.text:
            return None, None
        parsed = parse_json_text(post.text, self.request_mime)
        if parsed is None:
            return None, self.request_mime or "text/plain"
        return parsed, None


class HarPage(_HarModel):
    """A page of the recording (its title is usually the page's URL)."""

    id: str = ""
    title: str = ""


class HarLog(_HarModel):
    """The `log` object: the pages and the requests."""

    pages: list[HarPage] = Field(default_factory=list)
    entries: list[HarEntry]


class HarFile(_HarModel):
    """A whole HAR file."""

    log: HarLog


def _bare_mime(mime: str) -> str:
    return mime.split(";", 1)[0].strip().lower()


def parse_json_text(text: str, mime: str) -> Any:
    """`text` as JSON when the media type says JSON or the text looks like an object or an
    array; None otherwise."""
    stripped = text.lstrip()
    if "json" not in mime and not stripped.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def read_har(document: SourceDocument) -> HarLog:
    """The HAR's log validated, or a UsageError naming the entry and field that are wrong."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("log"), dict):
        raise UsageError(
            f"{document.label}: not a HAR file (no `log` object); save one from the browser's "
            "DevTools Network tab with 'Save all as HAR'"
        )
    if not isinstance(data["log"].get("entries"), list):
        raise UsageError(f"{document.label}: not a HAR file (no `log.entries` list)")
    try:
        return HarFile.model_validate(data).log
    except pydantic.ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"])
        raise UsageError(f"{document.label}: {where}: {detail['msg']}") from None
