"""The seed's performance incident response: what to do about a breach of each severity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.verdict._model import CheckStatus, Severity

if TYPE_CHECKING:
    from harness.spec import Objective, Sla

RESPONSE_BY_SEVERITY: dict[Severity, str] = {
    "critical": "Immediate response",
    "high": "Urgent response",
    "medium": "Standard response",
    "low": "Routine response",
}
"""The response level the seed's incident flowchart assigns to each severity."""

ACTIONS_BY_SEVERITY: dict[Severity, tuple[str, ...]] = {
    "critical": ("Auto-scaling activation", "Load balancer adjustment", "Cache warming"),
    "high": ("Resource scaling", "Traffic routing"),
    "medium": ("Performance analysis", "Optimization review"),
    "low": ("Monitoring enhancement", "Capacity planning"),
}
"""Recommended actions per severity, from the seed's "Performance Incident Response" flow."""


def recommended_actions(severity: Severity) -> tuple[str, ...]:
    """The actions the seed recommends for a breach of `severity`, response level first."""
    return (RESPONSE_BY_SEVERITY[severity], *ACTIONS_BY_SEVERITY[severity])


def actions_for(objective: Objective, sla: Sla, status: CheckStatus) -> tuple[str, ...]:
    """What a failed or warned check recommends: the SLA's own incident response for its
    severity when it writes one, else the seed's; nothing for any other status."""
    if status not in ("fail", "warn"):
        return ()
    written = sla.incident_response(objective.severity)
    if written is not None:
        return (written.response, *written.actions)
    return recommended_actions(objective.severity)
