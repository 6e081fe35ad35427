"""gzip in the gateway: which responses are compressed, and each body compressed once."""

from __future__ import annotations

import asyncio
import gzip

from starlette.types import Message

from reference_backend.compression import MINIMUM_SIZE_BYTES, GzipMemo, GzipSender, gzip_bytes

BIG = b'{"text": "' + b"lorem ipsum " * 200 + b'"}'


def send_through(*messages: Message, memo: GzipMemo | None = None) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        sender = GzipSender(send, memo or GzipMemo())
        for message in messages:
            await sender(message)

    asyncio.run(main())
    return sent


def start(*headers: tuple[bytes, bytes], status: int = 200) -> Message:
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


def body(data: bytes, more: bool = False) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


JSON = (b"content-type", b"application/json")


def test_a_large_body_is_sent_as_gzip_with_its_own_length() -> None:
    sent = send_through(start(JSON, (b"content-length", b"%d" % len(BIG))), body(BIG))
    headers = dict(sent[0]["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"vary"] == b"Accept-Encoding"
    assert int(headers[b"content-length"]) == len(sent[1]["body"]) < len(BIG)
    assert [name for name, _ in sent[0]["headers"]].count(b"content-length") == 1
    assert gzip.decompress(sent[1]["body"]) == BIG


def test_small_streamed_partial_and_encoded_bodies_pass_unchanged() -> None:
    small = b"x" * (MINIMUM_SIZE_BYTES - 1)
    cases = [
        (start(JSON), [body(small)]),
        (start(JSON), [body(BIG, more=True), body(b"")]),
        (start(JSON, status=206), [body(BIG)]),
        (start(JSON, (b"content-encoding", b"br")), [body(BIG)]),
        (start((b"content-type", b"text/event-stream")), [body(BIG)]),
    ]
    for first, rest in cases:
        sent = send_through(first, *rest)
        assert sent == [first, *rest]


def test_the_same_body_object_is_compressed_once() -> None:
    memo = GzipMemo()
    first = memo.compress(BIG)
    assert memo.compress(BIG) is first
    equal_but_other = bytes(bytearray(BIG))
    again = memo.compress(equal_but_other)
    assert again is not first
    assert again == first  # deterministic: mtime 0, no name


def test_gzip_bytes_is_a_standard_gzip_member() -> None:
    assert gzip.decompress(gzip_bytes(BIG)) == BIG
    assert gzip_bytes(BIG)[:2] == b"\x1f\x8b"
