"""`import_openapi`: one journey per read operation with example parameters, servers and
credentials from the document, and a clear error for what it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.importers import import_openapi
from harness.importers._examples import schema_example
from tests.harness.importers._support import BOOKSHOP_OPENAPI


def test_every_read_operation_is_a_journey_named_by_its_operation_id() -> None:
    imported = import_openapi(str(BOOKSHOP_OPENAPI))

    names = [journey.name for journey in imported.scenario.journeys]
    assert names == ["list_books", "get_book_by_id", "get_authors_id_books", "partner_stock"]
    assert all(
        len(journey.steps) == 1 and journey.weight == 1 for journey in imported.scenario.journeys
    )
    assert [op.name for op in imported.sla.operations] == names
    assert imported.sla.operations[0].title == "GET /books: List books"
    assert imported.scenario.name == "bookshop_api"
    # writes and deprecated operations are listed, not generated
    assert imported.scenario.footer[1:] == (
        "  POST /books (createBook)",
        "  DELETE /books/{bookId} (deleteBook)",
        "  GET /legacy/catalogue (deprecated)",
    )


def test_parameters_take_the_documents_examples() -> None:
    journeys = {j.name: j for j in import_openapi(str(BOOKSHOP_OPENAPI)).scenario.journeys}

    books = journeys["list_books"].steps[0]
    assert books.query == {"genre": "fiction"}  # required (first enum value); optional left out
    by_id = journeys["get_book_by_id"]
    assert by_id.variables == {"book_id": 9780141}  # the $ref parameter's example
    assert by_id.steps[0].path == "/v2/books/{book_id}"
    by_author = journeys["get_authors_id_books"]
    assert by_author.variables == {"author_slug": "example"}
    assert by_author.steps[0].headers["X-Request-Source"] == "web"
    assert by_author.steps[0].status == (200,)


def test_credentials_are_env_placeholders_per_security_scheme() -> None:
    imported = import_openapi(str(BOOKSHOP_OPENAPI))
    journeys = {j.name: j.steps[0] for j in imported.scenario.journeys}

    assert journeys["list_books"].headers == {}  # security: [] makes it public
    assert journeys["get_book_by_id"].headers == {"Authorization": "Bearer ${env:API_TOKEN}"}
    assert journeys["partner_stock"].headers == {"X-Partner-Key": "${env:X_PARTNER_KEY}"}
    assert imported.env_vars == ("API_TOKEN", "X_PARTNER_KEY")


def test_the_server_gives_the_path_prefix_and_the_target() -> None:
    first = import_openapi(str(BOOKSHOP_OPENAPI))
    assert first.target == "https://eu.bookshop.example"  # {region} at its default

    local = import_openapi(str(BOOKSHOP_OPENAPI), server=2)
    assert local.target == "http://localhost:9000"
    assert local.scenario.journeys[0].steps[0].path == "/v2/books"

    based = import_openapi(str(BOOKSHOP_OPENAPI), base_url="http://127.0.0.1:8080")
    assert based.target == "http://127.0.0.1:8080"
    assert based.scenario.journeys[0].steps[0].path == "/books"


def test_a_relative_server_url_is_a_path_prefix(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(
        "openapi: 3.1.0\ninfo: {title: Rel, version: '1'}\nservers: [{url: /api/v1}]\n"
        "paths:\n  /ping: {get: {operationId: ping, responses: {'200': {description: ok}}}}\n"
    )
    imported = import_openapi(str(path))

    assert imported.scenario.journeys[0].steps[0].path == "/api/v1/ping"
    assert imported.target is None


def test_a_server_that_does_not_exist_lists_the_servers() -> None:
    with pytest.raises(UsageError, match=r"no server 3; the document's servers: 1: https://"):
        import_openapi(str(BOOKSHOP_OPENAPI), server=3)


def test_a_document_without_servers_asks_for_a_target(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "Tiny", "version": "1"},
                "paths": {
                    "/items/{item_id}": {"get": {"responses": {"204": {"description": "ok"}}}}
                },
            }
        )
    )
    imported = import_openapi(str(path))

    step = imported.scenario.journeys[0].steps[0]
    assert (step.operation, step.path, step.status) == ("get_items_id", "/items/{item_id}", (204,))
    assert imported.scenario.journeys[0].variables == {"item_id": 1}  # undeclared: 1
    assert imported.target is None
    assert "the document names no server URL: run with --target BASE_URL" in imported.notes


@pytest.mark.parametrize(
    ("schema", "example"),
    [
        ({"type": "integer", "minimum": 5}, 5),
        ({"type": "integer", "exclusiveMinimum": 0}, 1),
        ({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, 1),
        ({"type": ["integer", "null"], "maximum": 0}, 0),
        ({"type": "number"}, 1.0),
        ({"type": "string", "format": "uuid"}, "00000000-0000-4000-8000-000000000001"),
        ({"type": "string", "minLength": 10}, "examplexxx"),
        ({"type": "string", "maxLength": 3}, "exa"),
        ({"type": "string", "pattern": "^[0-9]+$"}, "1"),
        ({"type": "string", "default": "recent"}, "recent"),
        ({"type": "boolean"}, True),
        ({"type": "array", "items": {"type": "integer"}}, [1]),
        ({"oneOf": [{"type": "string", "enum": ["a"]}, {"type": "integer"}]}, "a"),
    ],
)
def test_schema_examples(schema: dict[str, object], example: object) -> None:
    assert schema_example({}, schema) == example


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"swagger": "2.0", "paths": {}}',
            r"api\.json: Swagger 2\.0 is not supported; convert it",
        ),
        (
            '{"openapi": "4.0.0", "paths": {}}',
            r"api\.json: OpenAPI 4\.0\.0 is not supported; supported: 3\.0, 3\.1",
        ),
        ('{"info": {}}', r"api\.json: not an OpenAPI document \(no `openapi` version field\)"),
        ("[1, 2]", r"api\.json: not an OpenAPI document \(not a JSON/YAML object\)"),
        ('{"openapi": "3.1.0"}', r"api\.json: no `paths` in the OpenAPI document"),
        (
            '{"openapi": "3.0.0", "paths": {"/a": {"post": {"responses": {}}}}}',
            r"api\.json: no read \(GET\) operation to generate a journey for \(left out: POST /a",
        ),
        ("openapi: [unclosed", r"api\.json:1: neither JSON nor YAML"),
    ],
)
def test_bad_documents_are_one_clear_usage_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "api.json"
    path.write_text(content)

    with pytest.raises(UsageError, match=message) as raised:
        import_openapi(str(path))
    assert "\n" not in str(raised.value)


def test_an_unreachable_url_is_a_usage_error() -> None:
    # port 9 (discard) on loopback: nothing listens in a test environment
    with pytest.raises(UsageError, match=r"http://127\.0\.0\.1:9/openapi\.json: unreachable"):
        import_openapi("http://127.0.0.1:9/openapi.json")
