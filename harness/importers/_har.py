"""`perfctl import har`: a browser recording (DevTools "Save all as HAR") becomes a flow.

What the recording holds is one person's session against one site, plus everything the
browser fetched on the way. The importer keeps the requests a load test should make:

- Static assets (images, stylesheets, scripts, fonts, media: by Chrome's resource type, the
  response's media type or the file extension), CORS preflights, non-HTTP(S) URLs and
  requests that got no answer are left out.
- One origin is kept: the hosts given with `--include-host`, else the origin most of the
  remaining requests went to (the page's own origin on a tie); third-party hosts (analytics,
  fonts, CDNs) are counted and left out.
- Think times are the gaps between one request's end and the next one's start (capped at
  MAX_THINK_TIME_S), so the replay keeps the person's pace.
- Correlation (`_correlate`) turns ids and tokens that came back from the server into
  variables; secrets that remain (`_secrets`) become `${env:NAME}` placeholders.
- Operations are named from the method and the path with its ids generalised:
  `GET /api/products/1248` is `get_api_products_id`.
"""

from __future__ import annotations

import urllib.parse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from harness.errors import UsageError
from harness.importers._correlate import Correlation, Exchange, correlate
from harness.importers._draft import (
    Imported,
    JourneyDraft,
    ScenarioDraft,
    SlaDraft,
    SlaOperation,
    StepDraft,
)
from harness.importers._har_format import HarEntry, HarLog, read_har
from harness.importers._names import (
    is_id_segment,
    operation_name,
    unique_name,
    variable_name,
)
from harness.importers._secrets import SecretVault, env_placeholder, kept_headers
from harness.importers._source import read_document

MAX_THINK_TIME_S = 30.0
"""A longer pause in the recording (the person left the tab) is replayed as this."""
MIN_THINK_TIME_S = 0.1
"""Shorter gaps are the browser's own pace, not a person's: no pause."""

STATIC_RESOURCE_TYPES = frozenset(
    {"image", "stylesheet", "script", "font", "media", "manifest", "texttrack", "ping"}
)
STATIC_MIME_PREFIXES = ("image/", "font/", "audio/", "video/")
STATIC_MIMES = frozenset(
    {
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/wasm",
        "application/font-woff",
        "application/font-woff2",
        "application/x-font-ttf",
        "application/x-font-woff",
        "application/vnd.ms-fontobject",
        "application/manifest+json",
        "text/vtt",
    }
)
STATIC_EXTENSIONS = frozenset(
    {
        ".css", ".js", ".mjs", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp",
        ".avif", ".ico", ".bmp", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp4", ".webm",
        ".mp3", ".wav", ".ogg", ".m4a", ".wasm",
    }
)  # fmt: skip
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class _Kept:
    """A request the flow replays, with the status its replay should get."""

    entry: HarEntry
    status: int


def import_har(
    path: str, *, name: str | None = None, include_hosts: list[str] | None = None
) -> Imported:
    """The scenario and starter SLA for the recording at `path`."""
    document = read_document(path, allow_yaml=False)
    log = read_har(document)
    scenario_name = variable_name(name or Path(path).stem)
    notes: list[str] = []
    dynamic = _without_static(log, notes)
    if not dynamic:
        raise UsageError(
            f"{path}: no request to replay among its {len(log.entries)} entries "
            "(only static assets, preflights or unanswered requests)"
        )
    origins = _chosen_origins(dynamic, log, include_hosts or [], path)
    others = Counter(_origin(e) for e in dynamic if _origin(e) not in origins)
    if others:
        listed = ", ".join(
            f"{urllib.parse.urlsplit(o).netloc} ×{n}" for o, n in others.most_common()
        )
        notes.append(f"left out {sum(others.values())} requests to other hosts: {listed}")
    kept = _follow_redirects([e for e in dynamic if _origin(e) in origins])
    exchanges = [_exchange(item.entry, index, notes) for index, item in enumerate(kept)]
    correlations = correlate(exchanges)
    vault = SecretVault()
    steps, operations = _steps(kept, exchanges, vault)
    journey = JourneyDraft(
        name=scenario_name,
        steps=tuple(steps),
        note=f"the recorded session: {len(steps)} requests of {len(log.entries)} in the HAR",
    )
    notes += [_correlation_note(c) for c in correlations]
    if len(origins) > 1:
        notes.append(
            f"kept requests to {len(origins)} origins ({', '.join(sorted(origins))}); a run "
            "sends every one to its --target"
        )
    target = next(iter(origins)) if len(origins) == 1 else None
    scenario = ScenarioDraft(
        name=scenario_name,
        title=f"Recorded session {Path(path).name}",
        description=(
            f"Imported from the browser recording {Path(path).name}: {len(steps)} requests"
            f"{f' to {target}' if target else ''}, with the recorded think times."
        ),
        journeys=(journey,),
        header=_header(path, target, vault),
    )
    sla = SlaDraft(
        name=f"{scenario_name} (starter)",
        description=f"Starter objectives for the operations recorded in {Path(path).name}.",
        operations=tuple(operations),
    )
    return Imported(
        scenario=scenario,
        sla=sla,
        notes=tuple(notes),
        env_vars=tuple(vault.names),
        target=target,
    )


def _origin(entry: HarEntry) -> str:
    parts = urllib.parse.urlsplit(entry.request.url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _static_reason(entry: HarEntry) -> str | None:
    """Why a request is not replayed, or None when it is."""
    scheme = urllib.parse.urlsplit(entry.request.url).scheme.lower()
    if scheme not in ("http", "https"):
        return "non-HTTP(S) URLs"
    if entry.request.method.upper() == "OPTIONS" or entry.resource_type == "preflight":
        return "CORS preflights"
    mime = entry.response_mime
    suffix = PurePosixPath(urllib.parse.urlsplit(entry.request.url).path).suffix.lower()
    if (
        entry.resource_type in STATIC_RESOURCE_TYPES
        or mime.startswith(STATIC_MIME_PREFIXES)
        or mime in STATIC_MIMES
        or suffix in STATIC_EXTENSIONS
    ):
        return "static assets"
    if entry.response.status == 0:
        return "requests without an answer (blocked or cancelled)"
    return None


def _without_static(log: HarLog, notes: list[str]) -> list[HarEntry]:
    dropped: Counter[str] = Counter()
    kept: list[HarEntry] = []
    for entry in sorted(log.entries, key=lambda e: e.started):
        reason = _static_reason(entry)
        if reason is None:
            kept.append(entry)
        else:
            dropped[reason] += 1
    if dropped:
        notes.append(
            "left out " + ", ".join(f"{count} {reason}" for reason, count in dropped.items())
        )
    return kept


def _host_matches(origin: str, wanted: str) -> bool:
    netloc = urllib.parse.urlsplit(origin).netloc
    wanted = wanted.lower().rstrip("/")
    if "://" in wanted:
        return origin == wanted
    return wanted in (netloc, netloc.split(":")[0])


def _chosen_origins(
    dynamic: list[HarEntry], log: HarLog, include_hosts: list[str], path: str
) -> set[str]:
    counts = Counter(_origin(entry) for entry in dynamic)
    if include_hosts:
        chosen = {o for o in counts if any(_host_matches(o, host) for host in include_hosts)}
        if not chosen:
            seen = ", ".join(urllib.parse.urlsplit(o).netloc for o in counts)
            raise UsageError(
                f"{path}: no request to replay goes to {', '.join(include_hosts)}; "
                f"hosts in the recording: {seen}"
            )
        return chosen
    page_origin = _page_origin(log)
    best = max(counts.values())
    tied = [origin for origin, count in counts.items() if count == best]
    return {page_origin if page_origin in tied else tied[0]}


def _page_origin(log: HarLog) -> str | None:
    """The origin of the first page: its title when that is a URL, else the first document."""
    for page in log.pages:
        if urllib.parse.urlsplit(page.title).scheme in ("http", "https"):
            parts = urllib.parse.urlsplit(page.title)
            return f"{parts.scheme}://{parts.netloc}".lower()
    for entry in log.entries:
        if entry.resource_type == "document" or entry.response_mime == "text/html":
            return _origin(entry)
    return None


def _follow_redirects(entries: list[HarEntry]) -> list[_Kept]:
    """The requests with each redirect's target folded into it: the engine's client follows
    redirects, so replaying both would send the target twice."""
    kept: list[_Kept] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        status = 200 if entry.response.status == 304 else entry.response.status
        following = entries[index + 1] if index + 1 < len(entries) else None
        if (
            entry.response.status in _REDIRECTS
            and following is not None
            and entry.response.redirect_url
            and urllib.parse.urljoin(entry.request.url, entry.response.redirect_url)
            == following.request.url
        ):
            status = following.response.status
            index += 1
        kept.append(_Kept(entry, status))
        index += 1
    return kept


def _exchange(entry: HarEntry, index: int, notes: list[str]) -> Exchange:
    parts = urllib.parse.urlsplit(entry.request.url)
    body, other_body = entry.request_body()
    if other_body is not None:
        notes.append(
            f"step {index + 1} ({entry.request.method} {parts.path}): its {other_body} body is "
            "not replayed (a scenario step sends JSON bodies); add it by hand"
        )
    return Exchange(
        path_segments=(parts.path or "/").split("/"),
        query=urllib.parse.parse_qsl(parts.query, keep_blank_values=True),
        headers=kept_headers([(h.name, h.value) for h in entry.request.headers]),
        body=body,
        response=entry.response_json(),
    )


def _steps(
    kept: list[_Kept], exchanges: list[Exchange], vault: SecretVault
) -> tuple[list[StepDraft], list[SlaOperation]]:
    names: dict[tuple[str, str], str] = {}
    operations: list[SlaOperation] = []
    steps: list[StepDraft] = []
    for index, (item, exchange) in enumerate(zip(kept, exchanges, strict=True)):
        method = item.entry.request.method.upper()
        template = "/".join(
            "{id}" if position in exchange.variable_segments or is_id_segment(segment) else segment
            for position, segment in enumerate(exchange.path_segments)
        )
        if (method, template) not in names:
            names[(method, template)] = unique_name(
                operation_name(method, template), names.values()
            )
            operations.append(SlaOperation(names[(method, template)], f"{method} {template}"))
        path, query = _path_and_query(exchange, vault)
        next_entry = kept[index + 1].entry if index + 1 < len(kept) else None
        steps.append(
            StepDraft(
                operation=names[(method, template)],
                method=method,
                path=path,
                query=query,
                headers={k: vault.header(k, v) for k, v in exchange.headers.items()},
                json_body=vault.body(exchange.body),
                extract=dict(exchange.extract),
                extract_notes=dict(exchange.extract_notes),
                status=(item.status,) if item.status < 500 else (200,),
                json_path=next(iter(exchange.extract.values()), None),
                think_time_s=_think_time_s(item.entry, next_entry),
                note=_step_note(index, item, method),
            )
        )
    return steps, operations


def _path_and_query(exchange: Exchange, vault: SecretVault) -> tuple[str, dict[str, Any]]:
    path = "/".join(exchange.path_segments) or "/"
    pairs = [(name, vault.query(name, str(value))) for name, value in exchange.query]
    if len({name for name, _ in pairs}) == len(pairs):
        return path, dict(pairs)
    # a repeated key (?tag=a&tag=b) cannot be a mapping: it stays in the path
    encoded = "&".join(
        f"{urllib.parse.quote(name, safe='')}={urllib.parse.quote(value, safe='{}$:')}"
        for name, value in pairs
    )
    return f"{path}?{encoded}", {}


def _think_time_s(entry: HarEntry, following: HarEntry | None) -> float:
    """The pause between this request's end and the next one's start, capped and rounded."""
    if following is None:
        return 0.0
    gap_s = (following.started - entry.started).total_seconds() - entry.time_ms / 1000.0
    if gap_s < MIN_THINK_TIME_S:
        return 0.0
    return round(min(gap_s, MAX_THINK_TIME_S), 1)


def _step_note(index: int, item: _Kept, method: str) -> str:
    entry = item.entry
    path = urllib.parse.urlsplit(entry.request.url).path or "/"
    recorded = f"HTTP {entry.response.status}, {entry.time_ms:.0f} ms in the recording"
    if entry.response.status >= 500:
        recorded += "; the check expects 200"
    elif entry.response.status in _REDIRECTS and item.status != entry.response.status:
        recorded += f", redirected: {item.status} after the redirect"
    return f"step {index + 1}: {method} {path} ({recorded})"


def _correlation_note(correlation: Correlation) -> str:
    steps = ", ".join(str(step + 1) for step in correlation.used_by)
    return (
        f"correlated {{{correlation.variable}}}: extracted from step "
        f"{correlation.source_step + 1}'s answer ({correlation.json_path}), sent by step"
        f"{'s' if len(correlation.used_by) > 1 else ''} {steps}"
    )


def _header(path: str, target: str | None, vault: SecretVault) -> tuple[str, ...]:
    """The paragraphs at the top of the scenario."""
    lines = [
        f"Imported by `perfctl import har {Path(path).name}`: the recorded session as one flow "
        "journey. Static assets and other hosts are left out; ids and tokens the server "
        "answered are extracted and sent back as {variables}; think times are the recording's.",
    ]
    if target:
        lines.append(f"Recorded against {target}: run with `--target {target}`.")
    for env, where in vault.names.items():
        lines.append(f"Set {env} in the environment: {env_placeholder(env)} stands for {where}.")
    lines.append("Edit weights, stages and checks freely; `perfctl scenarios lint FILE` checks it.")
    return tuple(lines)
