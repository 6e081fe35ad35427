"""JSON Schema of sla.yaml and scenarios/*.yaml, so an editor validates them while typing."""

from __future__ import annotations

from typing import Any

from harness.spec._scenario_models import ScenarioFile
from harness.spec._sla_models import SlaFile

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def sla_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of sla.yaml."""
    return {"$schema": _DIALECT, **SlaFile.model_json_schema(by_alias=True)}


def scenario_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file."""
    return {"$schema": _DIALECT, **ScenarioFile.model_json_schema(by_alias=True)}
