"""Fuzzing against /openapi.json with schemathesis: no input makes the backend answer 5xx.

The backend runs in uvicorn on a real socket; every operation gets a bounded number of
generated cases (valid and invalid), and every answer must conform to the document.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from reference_backend.app import create_app
from reference_backend.openapi import build_openapi
from tests.reference_backend._infra import running_uvicorn
from tests.reference_backend.conftest import TEST_SETTINGS, postgres_database

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def backend_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The backend on each database, served by uvicorn on a real socket."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            path = tmp_path_factory.mktemp("fuzz") / "shop.db"
            settings = replace(TEST_SETTINGS, sqlite_path=str(path))
        else:
            settings = replace(TEST_SETTINGS, database_url=stack.enter_context(postgres_database()))
        yield stack.enter_context(running_uvicorn(create_app(settings)))


# The same document the backend serves at /openapi.json (test_app checks that they match).
schema = schemathesis.openapi.from_dict(build_openapi())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_input_makes_a_server_error(case: schemathesis.Case[Any], backend_url: str) -> None:
    case.call_and_validate(
        base_url=backend_url,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
