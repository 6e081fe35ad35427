"""`perfctl import openapi`: an API description becomes a starter scenario and SLA.

Every read operation (GET) becomes a journey of one request, weight 1, with example
parameters from the document (`_examples`): path parameters as journey variables, required
query and header parameters inline. Operations are named by their `operationId` (snake_case),
else from the method and path (`get_api_products_id`). Credentials the document's security
schemes ask for are `${env:NAME}` placeholders. Writes (POST, PUT, PATCH, DELETE) are listed
at the end of the scenario, not generated: a write needs a body and an order a document
does not give.

The server is the document's first `servers` entry (or `--server N`), resolved against the URL
the document came from; `--base-url` replaces it. Its path (`/v1`) prefixes every request; its
origin is the `--target` to run against. OpenAPI 3.0 and 3.1 are read; Swagger 2.0 is not.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.importers._draft import (
    Imported,
    JourneyDraft,
    ScenarioDraft,
    SlaDraft,
    SlaOperation,
    StepDraft,
)
from harness.importers._examples import NoExampleError, parameter_example, resolve
from harness.importers._names import operation_name, unique_name, variable_name
from harness.importers._secrets import SecretVault, env_placeholder
from harness.importers._source import SourceDocument, read_document

SUPPORTED_VERSIONS = ("3.0", "3.1")
READ_METHODS = ("get",)
WRITE_METHODS = ("post", "put", "patch", "delete")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})  # OpenAPI ignores them
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True, slots=True)
class _Server:
    """Where requests go: the path prefix of every request and the origin to run against."""

    prefix: str
    target: str | None


def import_openapi(
    source: str,
    *,
    name: str | None = None,
    base_url: str | None = None,
    server: int | None = None,
) -> Imported:
    """The starter scenario and SLA for the OpenAPI document in the file or at the URL."""
    document = read_document(source, allow_yaml=True)
    spec = _checked(document)
    chosen = _server(spec, document, base_url, server)
    info = _mapping(spec.get("info"))
    title = str(info.get("title") or Path(urllib.parse.urlsplit(source).path).stem or "api")
    scenario_name = variable_name(name or title)
    vault = SecretVault()
    notes: list[str] = []
    journeys: list[JourneyDraft] = []
    operations: list[SlaOperation] = []
    left_out: list[str] = []
    taken: list[str] = []
    for path, item in _paths(spec):
        for method, operation in _operations(spec, item):
            label = f"{method.upper()} {path}"
            if method not in READ_METHODS:
                left_out.append(f"{label} ({operation.get('operationId') or 'no operationId'})")
                continue
            if operation.get("deprecated") is True:
                left_out.append(f"{label} (deprecated)")
                continue
            op_name = unique_name(_operation_name(operation, method, path), taken)
            taken.append(op_name)
            try:
                journeys.append(
                    _journey(spec, op_name, method, path, item, operation, chosen, vault)
                )
            except NoExampleError as error:
                left_out.append(f"{label} (no example value: {error})")
                notes.append(f"{label}: left out, no example value ({error}); add it by hand")
                continue
            summary = str(operation.get("summary") or "").strip()
            operations.append(SlaOperation(op_name, f"{label}: {summary}" if summary else label))
    if not journeys:
        raise UsageError(
            f"{document.label}: no read (GET) operation to generate a journey for"
            f"{' (left out: ' + '; '.join(left_out) + ')' if left_out else ''}"
        )
    if left_out:
        notes.append(
            f"not generated: {len(left_out)} operations (writes, deprecated, or without an "
            "example value), listed at the end of the scenario"
        )
    if chosen.target is None:
        notes.append("the document names no server URL: run with --target BASE_URL")
    scenario = ScenarioDraft(
        name=scenario_name,
        title=f"{title} (starter)",
        description=(
            f"One journey per read operation of {title} ({len(journeys)}), imported from its "
            "OpenAPI document."
        ),
        journeys=tuple(journeys),
        header=_header(document.label, chosen, vault),
        footer=_footer(left_out),
    )
    sla = SlaDraft(
        name=f"{title} (starter)",
        description=f"Starter objectives for the read operations of {title}.",
        operations=tuple(operations),
    )
    return Imported(
        scenario=scenario,
        sla=sla,
        notes=tuple(notes),
        env_vars=tuple(vault.names),
        target=chosen.target,
    )


def _mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one (a malformed part reads as absent)."""
    return value if isinstance(value, dict) else {}


def _checked(document: SourceDocument) -> dict[str, Any]:
    spec = document.data
    if not isinstance(spec, dict):
        raise UsageError(f"{document.label}: not an OpenAPI document (not a JSON/YAML object)")
    if "swagger" in spec:
        raise UsageError(
            f"{document.label}: Swagger {spec['swagger']} is not supported; convert it to "
            "OpenAPI 3 first (e.g. with swagger2openapi)"
        )
    version = spec.get("openapi")
    if version is None:
        raise UsageError(f"{document.label}: not an OpenAPI document (no `openapi` version field)")
    if not str(version).startswith(tuple(f"{v}." for v in SUPPORTED_VERSIONS)):
        raise UsageError(
            f"{document.label}: OpenAPI {version} is not supported; "
            f"supported: {', '.join(SUPPORTED_VERSIONS)}"
        )
    if not isinstance(spec.get("paths"), dict):
        raise UsageError(f"{document.label}: no `paths` in the OpenAPI document")
    return spec


def _server(
    spec: dict[str, Any], document: SourceDocument, base_url: str | None, server: int | None
) -> _Server:
    if base_url is not None:
        url = base_url
    else:
        servers = [s for s in spec.get("servers") or [] if isinstance(s, dict) and "url" in s]
        if server is not None and not 1 <= server <= len(servers):
            listed = "; ".join(f"{n}: {s['url']}" for n, s in enumerate(servers, 1)) or "none"
            raise UsageError(
                f"{document.label}: no server {server}; the document's servers: {listed}"
            )
        url = _server_url(servers[(server or 1) - 1]) if servers else ""
        if document.url is not None:
            url = urllib.parse.urljoin(document.url, url or "/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise UsageError(f"base URL {url!r}: expected an http(s) URL")
    target = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
    return _Server(prefix=parts.path.rstrip("/"), target=target)


def _server_url(entry: dict[str, Any]) -> str:
    """A server's URL with its `{variables}` set to their defaults."""
    variables = _mapping(entry.get("variables"))
    return _PLACEHOLDER.sub(
        lambda m: str(_mapping(variables.get(m.group(1))).get("default", m.group(0))),
        str(entry["url"]),
    )


def _paths(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, resolve(spec, item))
        for path, item in spec["paths"].items()
        if isinstance(path, str) and isinstance(resolve(spec, item), dict)
    ]


def _operations(spec: dict[str, Any], item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (method, item[method])
        for method in (*READ_METHODS, *WRITE_METHODS)
        if isinstance(item.get(method), dict)
    ]


def _operation_name(operation: dict[str, Any], method: str, path: str) -> str:
    operation_id = operation.get("operationId")
    if isinstance(operation_id, str) and operation_id.strip():
        return variable_name(operation_id)
    return operation_name(method, _PLACEHOLDER.sub("{id}", path))


def _parameters(
    spec: dict[str, Any], item: dict[str, Any], operation: dict[str, Any]
) -> list[dict[str, Any]]:
    """Path-level parameters overridden by the operation's own (same name and location)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for source in (item.get("parameters") or [], operation.get("parameters") or []):
        for raw in source:
            parameter = resolve(spec, raw)
            if isinstance(parameter, dict) and "name" in parameter and "in" in parameter:
                merged[(str(parameter["name"]), str(parameter["in"]))] = parameter
    return list(merged.values())


def _journey(
    spec: dict[str, Any],
    op_name: str,
    method: str,
    path: str,
    item: dict[str, Any],
    operation: dict[str, Any],
    server: _Server,
    vault: SecretVault,
) -> JourneyDraft:
    variables: dict[str, Any] = {}
    renamed: dict[str, str] = {}
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for parameter in _parameters(spec, item, operation):
        where, name = parameter["in"], str(parameter["name"])
        required = parameter.get("required") is True or where == "path"
        if not required and "example" not in parameter and "examples" not in parameter:
            continue
        if where == "header" and name.lower() in _IGNORED_HEADERS:
            continue
        if where == "cookie":
            raise NoExampleError(f"cookie parameter {name} is required")
        value = _plain(parameter_example(spec, parameter), name)
        if where == "path":
            variable = unique_name(variable_name(name), variables)
            renamed[name] = variable
            variables[variable] = value
        elif where == "query":
            query[name] = vault.query(name, value) if isinstance(value, str) else value
        elif where == "header":
            headers[name] = vault.header(name, str(value))
    headers.update(_security_headers(spec, operation, query, vault))
    full_path = server.prefix + _PLACEHOLDER.sub(
        lambda m: "{" + renamed.get(m.group(1), variable_name(m.group(1))) + "}", path
    )
    for placeholder in _PLACEHOLDER.findall(full_path):
        variables.setdefault(placeholder, 1)  # a path parameter the document did not declare
    step = StepDraft(
        operation=op_name,
        method=method.upper(),
        path=full_path,
        query=query,
        headers=headers,
        status=(_success_status(operation),),
    )
    summary = " ".join(str(operation.get("summary") or "").split())
    return JourneyDraft(
        name=op_name,
        steps=(step,),
        variables=variables,
        variable_notes=dict.fromkeys(variables, "example from the document"),
        note=f"{method.upper()} {path}" + (f": {summary}" if summary else ""),
    )


def _plain(value: Any, name: str) -> Any:
    """A scalar for a path, query or header value (the first item of an array example)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, dict | list):
        raise NoExampleError(f"parameter {name} needs a plain value")
    return value


def _success_status(operation: dict[str, Any]) -> int:
    """The lowest 2xx status the operation declares (200 when it declares none)."""
    codes = [int(code) for code in operation.get("responses") or {} if str(code).isdigit()]
    successes = sorted(code for code in codes if 200 <= code < 300)
    return successes[0] if successes else 200


def _security_headers(
    spec: dict[str, Any], operation: dict[str, Any], query: dict[str, Any], vault: SecretVault
) -> dict[str, str]:
    """Headers (and query keys, added to `query`) for the operation's first security
    requirement, each a `${env:NAME}` placeholder; none when security is optional."""
    requirements = operation.get("security", spec.get("security")) or []
    if not isinstance(requirements, list) or not requirements or {} in requirements:
        return {}
    first = _mapping(requirements[0])
    schemes = _mapping(_mapping(spec.get("components")).get("securitySchemes"))
    headers: dict[str, str] = {}
    for scheme_name in first:
        scheme = resolve(spec, schemes.get(scheme_name))
        if not isinstance(scheme, dict):
            continue
        kind = scheme.get("type")
        key = str(scheme.get("name", scheme_name))
        if kind == "apiKey" and scheme.get("in") == "header":
            headers[key] = vault.secret(variable_name(key).upper(), f"the {key} header")
        elif kind == "apiKey" and scheme.get("in") == "query":
            query[key] = vault.secret(variable_name(key).upper(), f"the query parameter {key}")
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            secret = vault.secret("API_BASIC_AUTH", "the Authorization header (Basic credentials)")
            headers["Authorization"] = f"Basic {secret}"
        elif kind in ("http", "oauth2", "openIdConnect"):
            secret = vault.secret("API_TOKEN", "the Authorization header (Bearer credentials)")
            headers["Authorization"] = f"Bearer {secret}"
    return headers


def _header(label: str, server: _Server, vault: SecretVault) -> tuple[str, ...]:
    """The paragraphs at the top of the scenario."""
    lines = [
        f"Imported by `perfctl import openapi {label}`: one journey per read operation, with "
        "example parameters from the document. Tune the weights to your traffic mix, and the "
        "variables to values your data holds (a list draws one per iteration).",
    ]
    if server.target:
        lines.append(
            f"The document's server is {server.target}: run with `--target {server.target}`."
        )
    for env, where in vault.names.items():
        lines.append(f"Set {env} in the environment: {env_placeholder(env)} stands for {where}.")
    return tuple(lines)


def _footer(left_out: list[str]) -> tuple[str, ...]:
    if not left_out:
        return ()
    return (
        "Not generated (a write needs a body and an order: add it by hand as a step of a flow):",
        *(f"  {line}" for line in left_out),
    )
