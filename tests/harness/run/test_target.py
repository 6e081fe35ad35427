from __future__ import annotations

import base64
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from harness.errors import BackendError, TargetUnreachableError, UsageError
from harness.redaction import redact_url
from harness.run._target import (
    BackendOptions,
    EmbeddedBackend,
    find_free_port,
    split_credentials,
    validate_target_url,
    wait_for_target,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://bob:hunter2@api.example.com/v1", "https://bob:REDACTED@api.example.com/v1"),
        ("https://bob@api.example.com", "https://bob@api.example.com"),
        ("http://h/?token=abc&page=2", "http://h/?token=REDACTED&page=2"),
        ("http://h/?api_key=abc&X-Signature=s", "http://h/?api_key=REDACTED&X-Signature=REDACTED"),
        ("http://h:81/p?access_token=a&q=shoes", "http://h:81/p?access_token=REDACTED&q=shoes"),
    ],
)
def test_secrets_are_stripped_from_target_urls(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://h", "http://", "http://h:99999"])
def test_a_target_that_is_not_an_http_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError, match="--target"):
        validate_target_url(url)


def test_a_target_url_loses_its_trailing_slash() -> None:
    assert validate_target_url("http://h:8000/") == "http://h:8000"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8000/ a", "must not contain spaces or control characters"),
        ("http://127.0.0.1:8000/a\nb", "must not contain spaces or control characters"),
        ("http://[::1", "is not a valid URL (Invalid IPv6 URL)"),
        ("http://h:0", "invalid port"),
        ("http://h:abc", "is not a valid URL"),
        ("http://127.0.0.1:8000/?x=1", "must not carry a query string or fragment"),
        ("http://127.0.0.1:8000/api?", "must not carry a query string or fragment"),
        ("http://127.0.0.1:8000/#top", "must not carry a query string or fragment"),
        ("http://bob@127.0.0.1:8000", "credentials must be USER:PASSWORD@"),
        ("http://:pw@127.0.0.1:8000", "credentials must be USER:PASSWORD@"),
    ],
)
def test_a_target_that_cannot_be_used_as_written_is_a_usage_error(url: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        validate_target_url(url)
    assert message in caught.value.message
    assert "\n" not in caught.value.message  # one line


def test_a_password_never_shows_in_a_target_error() -> None:
    with pytest.raises(UsageError) as caught:
        validate_target_url("http://bob:hunter2@127.0.0.1:8000/?x=1")
    assert "hunter2" not in caught.value.message
    assert "bob:REDACTED@" in caught.value.message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000/shop/", "http://127.0.0.1:8000/shop"),
        ("https://bob:s%40cret@api.example.com/v1", "https://bob:s%40cret@api.example.com/v1"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_a_path_prefix_and_credentials_are_kept(url: str, expected: str) -> None:
    assert validate_target_url(url) == expected


def test_credentials_become_a_basic_auth_header_and_leave_the_url() -> None:
    bare, header = split_credentials("http://bob:s%40cret@[::1]:8000/shop")
    assert bare == "http://[::1]:8000/shop"
    assert header == "Basic " + base64.b64encode(b"bob:s@cret").decode()
    assert split_credentials("http://h/shop") == ("http://h/shop", None)


def test_a_closed_port_is_unreachable_within_the_deadline() -> None:
    port = find_free_port()
    started = time.monotonic()
    with pytest.raises(TargetUnreachableError) as caught:
        wait_for_target(f"http://user:pw@127.0.0.1:{port}", deadline_s=0.5)
    assert time.monotonic() - started < 3.0
    assert f"127.0.0.1:{port}" in caught.value.message
    assert "pw" not in caught.value.message


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def answering_404() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_any_http_answer_means_the_target_is_there(answering_404: str) -> None:
    wait_for_target(answering_404, deadline_s=2.0)


class _BasicAuthOnly(http.server.BaseHTTPRequestHandler):
    expected = "Basic " + base64.b64encode(b"bob:s3cret").decode()
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization"))
        self.send_response(200 if self.headers.get("Authorization") == self.expected else 401)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_target_with_credentials_is_checked_with_basic_auth() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BasicAuthOnly)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        wait_for_target(f"http://bob:s3cret@127.0.0.1:{server.server_address[1]}", deadline_s=2.0)
    finally:
        server.shutdown()
        server.server_close()
    assert _BasicAuthOnly.seen == [_BasicAuthOnly.expected]


def test_a_backend_that_dies_at_start_is_a_backend_error(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "backend.log", BackendOptions(catalog_size=0))
    with pytest.raises(BackendError, match="exited with code"), backend:
        backend.start()
    assert (tmp_path / "backend.log").exists()
