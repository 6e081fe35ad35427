"""One sentence of a run's diagnosis: which rule said it, the figures it cites, where to look.

The diagnosis (harness/verdict/_diagnosis.py) is stored in verdict.json as a list of these,
most important first, so the terminal, summary.md and the report show the same sentences
without judging anything again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DiagnosisRule(StrEnum):
    """The rules of the diagnosis, in the order their findings are ranked."""

    FIRST_BREACH = "first_breach"
    """When the first objective went past its limit: time, load, achieved rps (the knee)."""
    SERVER_SATURATED = "server_saturated"
    """Server CPU or memory beyond the SLA's own server objective in the first breach's window."""
    DB_POOL_EXHAUSTED = "db_pool_exhausted"
    """Every database connection in use in the first breach's window."""
    SLOW_CONNECT = "slow_connect"
    """Connections that took a second or more to open: SYNs the target dropped."""
    DROPPED_ARRIVALS = "dropped_arrivals"
    """Open model: arrivals dropped because every journey slot was busy."""
    OPERATION_BROKE = "operation_broke"
    """An operation (or component) whose objectives failed or warned: how, and its error kinds."""
    TOO_CLOSE_TO_CALL = "too_close_to_call"
    """Objectives whose interval straddles the limit."""
    GENERATOR = "generator"
    """The load generator saturated or fell behind its plan: figures it measured are suspect."""
    RUN_INCOMPLETE = "run_incomplete"
    """The run did not complete (interrupted, aborted, killed, degraded)."""
    COVERAGE = "coverage"
    """In-scope objectives left unjudged (or none judged at all)."""
    NOTHING_TO_DIAGNOSE = "nothing_to_diagnose"
    """No other rule fired: every judged objective held and the generator kept its plan."""


NOTHING_TO_DIAGNOSE = (
    "nothing to diagnose: every judged objective held, the generator kept its plan"
)
"""The one line of a run no rule has anything to say about."""

Figure = float | int | str
"""A cited figure: a number in the unit its key names, or a name (check id, operation)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One ranked sentence of the diagnosis."""

    rule: DiagnosisRule
    """The rule that fired."""
    sentence: str
    """What a person reads, each figure written in it."""
    figures: dict[str, Figure] = field(default_factory=dict)
    """The figures the sentence cites, by name with their unit (`at_s`, `achieved_rps`)."""
    anchor: str | None = None
    """The report section whose plot shows it (`latency`, `connections`, `load`, `errors`,
    `server`, `metadata`, `sla`); None when no plot does."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.value,
            "sentence": self.sentence,
            "figures": dict(self.figures),
            "anchor": self.anchor,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            rule=DiagnosisRule(data["rule"]),
            sentence=str(data["sentence"]),
            figures=dict(data.get("figures") or {}),
            anchor=data.get("anchor"),
        )
