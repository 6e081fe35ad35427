"""The system under load: a URL given with `--target`, or the embedded reference backend.

Before any user starts, the target must answer: any HTTP response counts, since a generic
target need not have a health route. The embedded backend is `perfctl serve` in a child
process on a free port, waited on until `/ready` answers 200.
"""

from __future__ import annotations

import base64
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from harness.errors import BackendError, TargetUnreachableError, UsageError
from harness.processes import die_with_parent, stop_process_group
from harness.redaction import redact_url

_LOOPBACK = "127.0.0.1"


def validate_target_url(url: str) -> str:
    """The target URL without a trailing slash; a UsageError naming what is wrong with it.

    The rules: `http(s)://[USER:PASSWORD@]HOST[:PORT][/PREFIX]`. Every request path of the
    plan is appended to the target as written, so a path prefix serves an application mounted
    below the root (`http://h/shop` + `/api/cart` is `http://h/shop/api/cart`). A query
    string or fragment cannot be appended to (it would end up inside every request's path),
    and credentials are sent as HTTP basic auth on every request, so both parts are needed.
    """
    shown = redact_url(url)
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise UsageError(
            f"--target must not contain spaces or control characters, got {shown!r} "
            "(percent-encode them, e.g. %20)"
        )
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UsageError(f"--target is not a valid URL ({error}): {shown!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--target must be an http:// or https:// URL with a host, got {shown!r}")
    if port == 0:
        raise UsageError(f"--target has an invalid port: {shown!r} (expected 1..65535)")
    if "?" in url or "#" in url:
        raise UsageError(
            f"--target must not carry a query string or fragment, got {shown!r}: perfctl "
            "appends each operation's path to the target; put query parameters in the "
            "scenario's steps (`query:`)"
        )
    if parts.username is not None and not (parts.username and parts.password):
        raise UsageError(
            f"--target credentials must be USER:PASSWORD@ (sent as HTTP basic auth), got {shown!r}"
        )
    return url.rstrip("/")


def split_credentials(url: str) -> tuple[str, str | None]:
    """The URL without its USER:PASSWORD@ part, and the basic-auth header value they make."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    bare = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return bare, f"Basic {token}"


def find_free_port(host: str = _LOOPBACK) -> int:
    """A TCP port that was free on `host` a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str, timeout_s: float) -> int | None:
    """The HTTP status `url` answers with, or None when nothing answered."""
    bare, authorization = split_credentials(url)
    headers = {"Authorization": authorization} if authorization is not None else {}
    try:
        request = urllib.request.Request(bare, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return None


def wait_for_target(url: str, deadline_s: float = 3.0) -> None:
    """Return once `url` gives any HTTP response; TargetUnreachableError after the deadline."""
    give_up_at = time.monotonic() + deadline_s
    while True:
        remaining_s = give_up_at - time.monotonic()
        if _answers(url, timeout_s=max(0.2, min(1.0, remaining_s))) is not None:
            return
        if time.monotonic() >= give_up_at:
            raise TargetUnreachableError(
                f"target {redact_url(url)} did not answer within {deadline_s:g} s "
                "(is it running, and is the URL right?)"
            )
        time.sleep(0.2)


@dataclass(frozen=True, slots=True)
class BackendOptions:
    """How the embedded reference backend is started for a run."""

    catalog_size: int | None = None
    """Products to seed; None keeps the backend's default."""
    admin_token: str | None = None
    """Enables the /admin fault routes; None keeps them off."""
    workers: int = 1
    """Server processes behind the port (a capacity search's instances)."""
    ready_deadline_s: float = 60.0
    """How long the backend may take to answer /ready with 200."""


class EmbeddedBackend:
    """`perfctl serve` on a free loopback port in a child process, stopped on exit."""

    def __init__(self, log_path: Path, options: BackendOptions = BackendOptions()) -> None:
        self._log_path = log_path
        self._options = options
        self._process: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def exit_code(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def start(self) -> str:
        """Start the backend and wait until /ready answers 200; return its base URL."""
        port = find_free_port()
        command = [
            sys.executable,
            "-m",
            "harness.cli",
            "serve",
            "--host",
            _LOOPBACK,
            "--port",
            str(port),
        ]
        if self._options.catalog_size is not None:
            command += ["--catalog-size", str(self._options.catalog_size)]
        if self._options.admin_token is not None:
            command += ["--admin-token", self._options.admin_token]
        if self._options.workers != 1:
            command += ["--workers", str(self._options.workers)]
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches perfctl only; it stops us in order
                preexec_fn=die_with_parent,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.url = f"http://{_LOOPBACK}:{port}"
        self._wait_ready()
        return self.url

    def _wait_ready(self) -> None:
        assert self._process is not None
        give_up_at = time.monotonic() + self._options.ready_deadline_s
        while time.monotonic() < give_up_at:
            if self._process.poll() is not None:
                raise BackendError(
                    f"the embedded backend exited with code {self._process.returncode} "
                    f"before it was ready: {_last_line(self._log_path)}"
                )
            if _answers(f"{self.url}/ready", timeout_s=1.0) == 200:
                return
            time.sleep(0.1)
        raise BackendError(
            f"the embedded backend did not answer {self.url}/ready within "
            f"{self._options.ready_deadline_s:g} s (log: {self._log_path})"
        )

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the backend, SIGKILL it after `grace_s`; safe to call twice."""
        if self._process is not None:
            stop_process_group(self._process, grace_s)

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # an error or a second Ctrl-C: do not linger
        self.stop(grace_s=10.0 if exc_type is None else 2.0)


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(empty log)"
