"""The target's own metric families: which ones a run keeps, and the series each becomes.

Beside the families observe turns into canonical metrics (`READ_FAMILIES`, and the runtime
families such as prometheus_client's standard `process_*` metrics), a target exposes
families of its own: tickets sold, seats held, queue depth. Each one is kept as one series,
summed over its labels, named by the family's `# TYPE`:

    counter  <family>_total  ->  <family>_per_s   its rate (increase / elapsed time)
    gauge    <family>        ->  <family>         its value

Left out as measurement of something else, or as tooling: histograms, summaries, info,
stateset and untyped families; prometheus_client's `*_created` timestamps; runtime families
(`process_*`, `python_*`, `go_*`); per-process CPU and memory under other names
(`*cpu_seconds*`, `*memory_bytes*`: cpu_* and memory_* measure those); any family whose
series would take a canonical metric's name. A run keeps at most `MAX_DISCOVERED` families,
the first seen, so a target with thousands of families cannot flood server.jsonl; the cut
is named in server.json (`Discovery.note`).
"""

from __future__ import annotations

from harness.observe._server_series import METRICS

MAX_DISCOVERED = 50
"""Families of the target's own kept in one run, at most."""

READ_FAMILIES = frozenset(
    {
        "http_request_duration_seconds",
        "cache_requests",
        "rate_limited",
        "db_pool_in_use",
        "db_pool_size",
        "circuit_breaker_state",
        "backend_workers",
    }
)
"""Families (counters without `_total`) the canonical metrics are made of (`_derive.py`,
`_prometheus.DEFAULT_QUERIES`), beside the `process_*` ones: never discovered again."""

RUNTIME_PREFIXES = ("process_", "python_", "go_")
"""Families the client libraries export about their own process and runtime."""

RESOURCE_PARTS = ("cpu_seconds", "memory_bytes")
"""CPU time and memory under another family name (per worker, per pid): resources."""

OWN_KINDS = ("counter", "gauge")
"""The `# TYPE`s a family of the target's own is kept for."""

_NOTED_NAMES = 5


def own_series_name(family: str, kind: str) -> str | None:
    """The series `family` (of `# TYPE` `kind`) becomes; None when it is not the target's own.

    A counter's family may be named with or without `_total` (the text parser strips it,
    Prometheus's metadata keeps what the `# TYPE` line says).
    """
    if kind not in OWN_KINDS:
        return None
    base = family.removesuffix("_total") if kind == "counter" else family
    if (
        family.removesuffix("_total") in READ_FAMILIES  # a counter exposed as a gauge too
        or base.startswith(RUNTIME_PREFIXES)
        or base.endswith("_created")
        or any(part in base for part in RESOURCE_PARTS)
    ):
        return None
    name = f"{base}_per_s" if kind == "counter" else base
    return None if name in METRICS else name


class Discovery:
    """The families of the target's own one run keeps: the first `limit` seen, for good."""

    def __init__(self, limit: int = MAX_DISCOVERED) -> None:
        self.limit = limit
        self._kept: dict[str, str] = {}
        self._names: set[str] = set()
        self._left_out: dict[str, None] = {}  # insertion-ordered set: the note names the first

    def keep(self, family: str, kind: str) -> str | None:
        """The series name `family` is written under; None when it is not kept."""
        kept = self._kept.get(family)
        if kept is not None or family in self._left_out:
            return kept
        name = own_series_name(family, kind)
        if name is None or name in self._names:
            return None  # not the target's own, or a second family under one series name
        if len(self._kept) >= self.limit:
            self._left_out[family] = None
            return None
        self._kept[family] = name
        self._names.add(name)
        return name

    @property
    def kept(self) -> dict[str, str]:
        """Family -> series name, in the order they were first seen."""
        return dict(self._kept)

    def note(self) -> str | None:
        """What server.json says about the cut; None when every family was kept."""
        if not self._left_out:
            return None
        left_out = list(self._left_out)
        shown = ", ".join(left_out[:_NOTED_NAMES]) + (
            ", ..." if len(left_out) > _NOTED_NAMES else ""
        )
        return (
            f"the target exposes {len(self._kept) + len(left_out)} metric families of its own; "
            f"the first {self.limit} are kept, {len(left_out)} left out ({shown})"
        )
