"""Ctrl-C and SIGTERM while perfctl drives Locust processes.

The first signal, once a graceful stop is possible, is only counted: the runner sees it,
marks the run interrupted and asks the load to stop so the engine can flush. A signal while
nothing can stop gracefully (starting up), or a second one, raises KeyboardInterrupt at
once; the runner's cleanup then kills its children.
"""

from __future__ import annotations

import signal
from types import FrameType, TracebackType
from typing import Any


class Interrupts:
    """Counts SIGINT/SIGTERM while installed; a context manager that restores the handlers."""

    def __init__(self, *, graceful: bool = False) -> None:
        self.count = 0
        """Signals received so far."""
        self.signal_name = ""
        """Name of the first one, e.g. "SIGINT"."""
        self.graceful = graceful
        """True while the first signal can be left to a graceful stop."""
        self._raised = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1:
            self.signal_name = signal.Signals(signum).name
        if not self._raised and (self.count >= 2 or not self.graceful):
            self._raised = True  # once: the cleanup that follows must not be interrupted
            raise KeyboardInterrupt
