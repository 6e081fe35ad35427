"""The direct path: read the target's /metrics every interval during the run.

A background thread runs an asyncio loop with one aiohttp session; each scrape is parsed
(`_exposition.py`), turned into points against the previous scrape (`_derive.py`) and
appended to RUN_DIR/server.jsonl at once, so a run that dies keeps what was read. The
target's own families are discovered once for the run (`_discovery.py`), and a cut of them
is named in server.json. A scrape that fails is counted and named in server.json; it never
stops the run.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from pathlib import Path
from types import TracebackType

import aiohttp

from harness.observe._derive import derive_points
from harness.observe._discovery import Discovery
from harness.observe._exposition import Snapshot, parse_exposition
from harness.observe._resources import Resources, local_resources
from harness.observe._server_series import SeriesWriter, ServerInfo, write_server_info

DEFAULT_INTERVAL_S = 1.0
METRICS_PATH = "/metrics"
_MAX_ERRORS_KEPT = 5


class ServerScraper:
    """Scrapes `target_url`/metrics every `interval_s` into RUN_DIR/server.jsonl until stopped."""

    def __init__(
        self,
        target_url: str,
        run_dir: Path,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        resources: Resources | None = None,
    ) -> None:
        from harness.redaction import redact_url

        self.url = target_url.rstrip("/") + METRICS_PATH
        self.shown_url = redact_url(self.url)
        self.run_dir = run_dir
        self.interval_s = interval_s
        self.resources = resources or local_resources()
        self._writer = SeriesWriter(run_dir)
        self._discovery = Discovery()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._errors: list[str] = []
        self._failures = 0
        self.scrapes = 0

    def start(self) -> None:
        """Start scraping in a daemon thread (the first scrape happens at once)."""
        self._thread = threading.Thread(target=self._run, name="perfctl-scraper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # Ctrl-C and SIGTERM are the main thread's: delivered to this thread (or the threads
        # it starts), they would wait for the main thread's next wake-up and be handled out
        # of order
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            asyncio.run(self._loop())
        except Exception as error:  # recorded in server.json rather than lost on stderr
            self._note(f"the scraper stopped: {type(error).__name__}: {error}")

    def stop(self) -> ServerInfo:
        """Take a last scrape, stop, and write server.json; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5.0)
            if self._thread.is_alive():
                self._errors.append("the scraper did not stop in time; its last points are lost")
            self._thread = None
        self._writer.close()
        info = ServerInfo(
            source="scrape",
            url=self.shown_url,
            interval_s=self.interval_s,
            samples=self._writer.samples,
            errors=self._error_summary(),
            cpu_cores_available=self.resources.cpu_cores,
            memory_bytes_available=self.resources.memory_bytes,
        )
        write_server_info(self.run_dir, info)
        return info

    def _error_summary(self) -> tuple[str, ...]:
        cut = self._discovery.note()
        noted = (*self._errors, cut) if cut else tuple(self._errors)
        if not self.scrapes:
            return ("the scraper never read the target's /metrics", *noted)
        if not self._failures:
            return noted
        return (f"{self._failures} of {self.scrapes} scrapes failed", *noted)

    async def _loop(self) -> None:
        timeout = aiohttp.ClientTimeout(total=max(2.0, self.interval_s * 2))
        previous: Snapshot | None = None
        async with aiohttp.ClientSession(timeout=timeout) as client:
            # stop() runs in another thread: one executor thread waits for it for the whole run
            stopped = asyncio.get_running_loop().run_in_executor(None, self._stop.wait)
            next_at = time.monotonic()
            while True:
                stopping = self._stop.is_set()
                current = await self._scrape(client)
                if current is not None:
                    try:
                        self._writer.write(
                            derive_points(previous, current, self.resources, self._discovery)
                        )
                    except Exception as error:  # one odd exposition must not end the scraping
                        self._note(f"{type(error).__name__} deriving points: {error}")
                    previous = current
                if stopping:
                    return
                next_at += self.interval_s
                await asyncio.wait({stopped}, timeout=max(0.0, next_at - time.monotonic()))
                next_at = max(next_at, time.monotonic())

    async def _scrape(self, client: aiohttp.ClientSession) -> Snapshot | None:
        self.scrapes += 1
        try:
            async with client.get(self.url) as response:
                text = await response.text()
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
            return parse_exposition(text, time.time())
        except (aiohttp.ClientError, TimeoutError, ValueError, UnicodeDecodeError) as error:
            self._failures += 1
            self._note(f"{self.shown_url}: {type(error).__name__}: {error}".rstrip(": "))
            return None

    def _note(self, message: str) -> None:
        if len(self._errors) < _MAX_ERRORS_KEPT and message not in self._errors:
            self._errors.append(message)

    def __enter__(self) -> ServerScraper:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
