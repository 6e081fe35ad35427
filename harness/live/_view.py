"""`perfctl run --ui [PORT]`: the live web view and /metrics, from bind to the report.

The port is bound before anything else of the run (a port in use is exit 2 before any load);
the server and the feed run in threads of the `perfctl run` process until the verdict and the
report are written. Then the view lingers: in a terminal, until Enter (the page links to the
report, which this server serves); otherwise `LINGER_S`, so an open page (and a Prometheus
scraping /metrics) gets the final state.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from rich.console import Console

from harness.live._feed import TURN_S, RunFeed
from harness.live._metrics import metrics_registry
from harness.live._server import LOOPBACK, LiveServer, SnapshotHub
from harness.live._state import LiveState

DEFAULT_UI_PORT = 8089
"""Locust's own web UI port: `--ui` without a port."""
LINGER_S = 3.0
"""Without a terminal, the view stays up this long after the report (final snapshot)."""
FINAL_WAIT_S = 5.0
"""How long the view waits for the feed to see the verdict and the report."""


class LiveView:
    """The live web view of one `perfctl run`: a context manager serving from construction
    (bound) through `__enter__` (threads started) to `__exit__`."""

    def __init__(self, port: int) -> None:
        """Bind 127.0.0.1:`port` (0: any free port); a UsageError when it is taken."""
        self.state = LiveState()
        self.hub = SnapshotHub(self.state)
        self.server = LiveServer(port, self.hub, metrics_registry(self.state))
        self.feed = RunFeed(self.state, self.hub.publish)
        self._serving: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{LOOPBACK}:{self.server.port}/"

    def follow(self, run_dir: Path) -> None:
        """Show the run whose directory this is (the run stage calls it once it exists)."""
        self.server.run_dir = run_dir
        self.feed.follow(run_dir)

    def __enter__(self) -> LiveView:
        self._serving = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="perfctl-live-server",
            daemon=True,
        )
        self._serving.start()
        self.feed.start()
        self.hub.publish()
        return self

    def linger(self, console: Console) -> None:
        """After the report: wait for the feed to show it, then keep serving until Enter in a
        terminal (Ctrl-C too), else for `LINGER_S`."""
        deadline = time.monotonic() + FINAL_WAIT_S
        while not self.feed.done and time.monotonic() < deadline:
            time.sleep(TURN_S / 4)
        if sys.stdin.isatty() and console.is_terminal:
            console.print(
                f"live view: {self.url} (the report at {self.url}report/); press Enter to exit",
                highlight=False,
                soft_wrap=True,
            )
            with contextlib.suppress(EOFError, KeyboardInterrupt):
                input()
        else:
            time.sleep(LINGER_S)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.feed.stop()
        self.hub.close()
        self.server.shutdown()
        self.server.server_close()
        if self._serving is not None:
            self._serving.join(timeout=5)
