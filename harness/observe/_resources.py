"""What the target may use: the cores and memory cpu_ratio and memory_ratio are relative to.

By default the machine perfctl runs on (the loopback target shares it): the CPUs this
process may run on, capped by a cgroup CPU quota, and the physical memory, capped by a
cgroup memory limit. A target with N worker processes cannot use more than N cores (one
Python process runs on one core at a time), so the CPU capacity is min(workers, cores)
when the target reports its workers. Both can be set explicitly for a remote target.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_CGROUP = Path("/sys/fs/cgroup")


@dataclass(frozen=True, slots=True)
class Resources:
    """The capacity the target's utilisation ratios are computed against."""

    cpu_cores: float
    """Cores the target may use at most (before the worker cap)."""
    memory_bytes: float
    """Memory the target may use."""
    cpu_cores_configured: bool = False
    """True when cpu_cores was set explicitly: then the worker count does not cap it."""

    def cpu_capacity(self, workers: float | None) -> float:
        """Cores available to a target running `workers` processes (None: unknown)."""
        if self.cpu_cores_configured or workers is None or workers < 1:
            return self.cpu_cores
        return min(self.cpu_cores, workers)


def local_resources(cpu_cores: float | None = None, memory_bytes: float | None = None) -> Resources:
    """This machine's cores and memory (cgroup limits applied) unless given explicitly."""
    cores = cpu_cores if cpu_cores is not None else _local_cores()
    memory = memory_bytes if memory_bytes is not None else _local_memory_bytes()
    return Resources(cores, memory, cpu_cores_configured=cpu_cores is not None)


def _local_cores() -> float:
    cores = float(len(os.sched_getaffinity(0)))
    quota = _read(_CGROUP / "cpu.max")
    if quota is not None:
        limit, _, period = quota.partition(" ")
        if limit.isdigit() and period.isdigit() and int(period) > 0:
            cores = min(cores, int(limit) / int(period))
    return cores


def _local_memory_bytes() -> float:
    import psutil

    total = float(psutil.virtual_memory().total)
    limit = _read(_CGROUP / "memory.max")
    if limit is not None and limit.isdigit():
        total = min(total, float(limit))
    return total


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
