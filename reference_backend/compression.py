"""gzip for clients that accept it, each distinct body compressed once while it is remembered.

The gateway compresses a response when the client sent `Accept-Encoding: gzip`, the body is
complete in one message and at least MINIMUM_SIZE_BYTES, and the handler did not encode it
itself. Cached pages are served as the same bytes object request after request (see
`reference_backend.api.EncodedMemo`), so their gzip is remembered by identity like their JSON:
under the peak mix Starlette's GZipMiddleware compressed every such page again and spent ~7 %
of the backend's CPU doing so (py-spy, 1,000 users). A body that is not remembered costs one
`zlib` pass, as before. Streaming responses (several body messages) pass uncompressed.
"""

from __future__ import annotations

import zlib

from starlette.types import Message, Send

MINIMUM_SIZE_BYTES = 1024
"""Smaller bodies gain less than the header and the CPU cost."""
LEVEL = 5
"""zlib level: most of level 9's ratio at a third of its CPU."""
_GZIP_WBITS = 16 + zlib.MAX_WBITS
"""zlib window bits that produce a gzip member (header and trailer), not a raw stream."""
_EXCLUDED_TYPES = (b"text/event-stream",)
"""Content types compression would break (server-sent events flush per event)."""


def gzip_bytes(body: bytes, level: int = LEVEL) -> bytes:
    """`body` as one gzip member (no file name, mtime 0: the same bytes every time)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
    return compressor.compress(body) + compressor.flush()


class GzipMemo:
    """The gzip of the bodies served last, remembered by identity (it holds a reference to
    each body, so an id is never reused while remembered)."""

    def __init__(self, max_entries: int = 2048, level: int = LEVEL) -> None:
        self._max_entries = max_entries
        self._level = level
        self._compressed: dict[int, tuple[bytes, bytes]] = {}

    def compress(self, body: bytes) -> bytes:
        """The gzip of `body`, compressed once per object."""
        known = self._compressed.get(id(body))
        if known is not None and known[0] is body:
            return known[1]
        compressed = gzip_bytes(body, self._level)
        if len(self._compressed) >= self._max_entries:
            self._compressed.clear()  # cheap and rare: the hot pages come back on their next hit
        self._compressed[id(body)] = (body, compressed)
        return compressed


class GzipSender:
    """Wraps one response's `send`: holds the start message until the first body message
    says whether the response can be compressed, then sends both."""

    __slots__ = ("_memo", "_send", "_start")

    def __init__(self, send: Send, memo: GzipMemo) -> None:
        self._send = send
        self._memo = memo
        self._start: Message | None = None

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            return
        start = self._start
        if start is None or kind != "http.response.body":
            await self._send(message)
            return
        self._start = None
        body: bytes = message.get("body", b"")
        if message.get("more_body", False) or len(body) < MINIMUM_SIZE_BYTES:
            await self._send(start)
            await self._send(message)
            return
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", ()))
        if start["status"] == 206 or not _compressible(headers):
            await self._send(start)
            await self._send(message)
            return
        compressed = self._memo.compress(body)
        headers = [(name, value) for name, value in headers if name != b"content-length"]
        headers += (
            (b"content-encoding", b"gzip"),
            (b"content-length", b"%d" % len(compressed)),
            (b"vary", b"Accept-Encoding"),
        )
        await self._send({**start, "headers": headers})
        await self._send({"type": "http.response.body", "body": compressed})


def _compressible(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-encoding":
            return False
        if name == b"content-type" and value.startswith(_EXCLUDED_TYPES):
            return False
    return True
