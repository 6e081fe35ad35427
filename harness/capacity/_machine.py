"""The whole machine's busy cores while a capacity search runs.

The target's CPU and the generator's are measured per process; what else the machine spent
(a database, a cache, the operating system) is the machine's busy time minus both. On a
machine the generator shares with the target, those other consumers take cores the target's
instances cannot have, and a machine with every core busy limits a search before the target
does: the scaling efficiency (harness/capacity/_scaling.py) needs both facts.

A thread reads the kernel's cumulative CPU times (psutil.cpu_times) every SAMPLE_INTERVAL_S;
busy cores over a span are the busy seconds between the samples that enclose it, divided by
the seconds between them.
"""

from __future__ import annotations

import bisect
import threading
import time
from types import TracebackType

import psutil

SAMPLE_INTERVAL_S = 0.5
"""Seconds between two readings of the machine's CPU times."""
IDLE_FIELDS = ("idle", "iowait")
"""CPU time fields that are not work (iowait: idle, waiting on a disk)."""


def busy_cpu_s() -> float:
    """CPU seconds all cores spent working since boot."""
    times = psutil.cpu_times()
    total = sum(times)
    return total - sum(getattr(times, name, 0.0) for name in IDLE_FIELDS)


class MachineCpu:
    """Samples the machine's busy CPU seconds in a thread while entered."""

    def __init__(self, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._times_t: list[float] = []
        self._busy_s: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_forever, daemon=True)

    def __enter__(self) -> MachineCpu:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def busy_cores(self, start_t: float, end_t: float) -> float | None:
        """Mean busy cores between Unix times `start_t` and `end_t`, from the samples that
        enclose the span; None when no sample lies on either side of it."""
        with self._lock:
            times, busy = list(self._times_t), list(self._busy_s)
        first = bisect.bisect_right(times, start_t) - 1
        last = bisect.bisect_left(times, end_t)
        if first < 0 or last >= len(times) or times[last] <= times[first]:
            return None
        busy_cores = (busy[last] - busy[first]) / (times[last] - times[first])
        # the kernel counts CPU time in ticks and the samples' clock reads lag them: an idle
        # span's difference of two sums can be -1e-12, a saturated one's a little above the
        # cores there are (2.006 of 2 seen with the machine full)
        return min(max(0.0, busy_cores), float(psutil.cpu_count() or busy_cores))

    def _sample_forever(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample()

    def _sample(self) -> None:
        now_t, busy_s = time.time(), busy_cpu_s()
        with self._lock:
            self._times_t.append(now_t)
            self._busy_s.append(busy_s)
