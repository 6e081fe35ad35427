"""The Prometheus path: range queries for the run window, after the run, into server.jsonl.

Each canonical metric has a default PromQL over conventional family names (the process ones
are prometheus_client's standard process metrics); an SLA objective on cpu, memory or
memory_drift may carry its own `query`, which is run as well and stored under the
objective's id. The target's own families are discovered from the metadata Prometheus keeps
of the target it scrapes (one lookup, the first `MAX_DISCOVERED` by name, see
`_discovery.py`) and queried within that target's job: a counter as
`sum(rate(...))` into `<counter>_per_s`, a gauge as `sum(...)` under its name. In every
query `$__rate_interval` stands for the rate window: four scrape intervals of the target
(read from Prometheus's active targets), as Grafana does. The step of the range queries is
the scrape interval. Credentials go to Prometheus only; server.json keeps the URL with
secrets stripped.
"""

from __future__ import annotations

import json
import math
import urllib.parse
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import RunError, UsageError
from harness.observe._discovery import Discovery
from harness.observe._resources import Resources, local_resources
from harness.observe._server_series import SeriesWriter, ServerInfo, ServerPoint, write_server_info
from harness.spec import Objective

RATE_INTERVAL = "$__rate_interval"
_SERVED = 'route!~"/metrics|/health|/ready|/admin/faults"'
_REQUESTS = f"http_request_duration_seconds_count{{{_SERVED}}}"
_W = f"[{RATE_INTERVAL}]"

DEFAULT_QUERIES: dict[str, tuple[str, str | None]] = {
    "cpu_cores": (f"sum(rate(process_cpu_seconds_total{_W}))", None),
    "memory_bytes": ("sum(process_resident_memory_bytes)", None),
    "rps": (f"sum(rate({_REQUESTS}{_W}))", None),
    "error_ratio": (
        f'(sum(rate(http_request_duration_seconds_count{{status_class="5xx",{_SERVED}}}{_W}))'
        f" or vector(0)) / sum(rate({_REQUESTS}{_W}))",
        None,
    ),
    "latency_p95_ms": (
        "1000 * histogram_quantile(0.95, sum by (route, le) "
        f"(rate(http_request_duration_seconds_bucket{{{_SERVED}}}{_W})))",
        "route",
    ),
    "cache_hit_ratio": (
        f'sum by (cache_type) (rate(cache_requests_total{{result="hit"}}{_W})) '
        f"/ sum by (cache_type) (rate(cache_requests_total{_W}))",
        "cache_type",
    ),
    "db_pool_in_use": ("sum(db_pool_in_use)", None),
    "db_pool_size": ("sum(db_pool_size)", None),
    "breaker_state": ("max by (dependency) (circuit_breaker_state)", "dependency"),
    "rate_limited_per_s": (f"sum(rate(rate_limited_total{_W}))", None),
}
"""Canonical metric -> (PromQL, the label that tells its series apart)."""

WORKERS_QUERY = "sum(backend_workers)"
"""Worker processes the target reports (caps the cores cpu_ratio is relative to)."""

OBJECTIVE_METRICS = {"cpu": "cpu_ratio", "memory": "memory_ratio", "memory_drift": "memory_bytes"}
"""Objective metric -> the canonical metric its own `query` fills (labelled with its id)."""

MAX_POINTS = 10_000
"""Points per series asked of one range query (Prometheus refuses more than 11,000)."""

DEFAULT_SCRAPE_INTERVAL_S = 15.0
"""Prometheus's own default, used when it lists no active target."""


@dataclass(frozen=True, slots=True)
class PrometheusSource:
    """A Prometheus server and how to authenticate to it (never written anywhere)."""

    url: str
    """Base URL, e.g. http://127.0.0.1:9090."""
    basic_auth: tuple[str, str] | None = None
    """(user, password) for HTTP basic auth."""
    bearer_token: str | None = None
    """Sent as `Authorization: Bearer <token>`."""

    @property
    def shown_url(self) -> str:
        from harness.redaction import redact_url

        return redact_url(self.url)

    def connect(self) -> Any:
        """A `PrometheusConnect` client for this server."""
        from prometheus_api_client import PrometheusConnect
        from urllib3.util.retry import Retry

        headers = {"Authorization": f"Bearer {self.bearer_token}"} if self.bearer_token else None
        # one quick retry: a Prometheus that is down must not hold the end of a run for minutes
        retry = Retry(total=1, backoff_factor=0.2, status_forcelist=(502, 503, 504))
        return PrometheusConnect(
            url=self.url, headers=headers, auth=self.basic_auth, timeout=10, retry=retry
        )


def prometheus_source(
    url: str, auth: str | None = None, token: str | None = None
) -> PrometheusSource:
    """A validated source from --prometheus-url, --prometheus-auth USER:PASS, --prometheus-token."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("--prometheus-url must be an http:// or https:// URL with a host")
    basic: tuple[str, str] | None = None
    if auth is not None:
        user, sep, password = auth.partition(":")
        if not sep or not user:
            raise UsageError("--prometheus-auth must be USER:PASSWORD")
        basic = (user, password)
    elif parts.username is not None:
        basic = (urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return PrometheusSource(base, basic, token or None)


def probe_prometheus(source: PrometheusSource) -> None:
    """Return when Prometheus answers; RunError (exit 3) before any load is sent otherwise."""
    try:
        answered = bool(source.connect().check_prometheus_connection())
    except Exception as error:  # requests raises many kinds; each means "not reachable"
        raise RunError(
            f"Prometheus at {source.shown_url} did not answer: {type(error).__name__}"
        ) from None
    if not answered:
        raise RunError(
            f"Prometheus at {source.shown_url} did not answer its health check "
            "(wrong URL, or credentials refused?)"
        )


def active_targets(client: Any) -> list[dict[str, Any]]:
    """Prometheus's active scrape targets; [] when it does not say."""
    try:
        return list(client.get_targets(state="active").get("activeTargets", []))
    except Exception:
        return []


def _scrapes(target: dict[str, Any], target_url: str | None) -> bool:
    host = urllib.parse.urlsplit(target_url).netloc if target_url else None
    return bool(host) and str(host) in str(target.get("scrapeUrl", ""))


def scrape_interval_s(targets: list[dict[str, Any]], target_url: str | None) -> float:
    """The scrape interval of the job scraping `target_url` (else the longest active one)."""
    intervals = []
    for target in targets:
        try:
            seconds = _duration_s(str(target.get("scrapeInterval", "")))
        except ValueError:
            continue
        if _scrapes(target, target_url):
            return seconds
        intervals.append(seconds)
    return max(intervals, default=DEFAULT_SCRAPE_INTERVAL_S)


def own_queries(client: Any, target: dict[str, Any], discovery: Discovery) -> dict[str, str]:
    """Series name -> PromQL for the target's own families, found in the metadata Prometheus
    keeps of `target` (one of its active targets), within that target's job."""
    labels = target.get("labels", {})
    scope = {key: str(labels[key]) for key in ("job", "instance") if key in labels}
    kinds: dict[str, str] = {}
    for entry in client.get_target_metadata(scope):
        kinds.setdefault(str(entry.get("metric", "")), str(entry.get("type", "")))
    job = f"job={json.dumps(scope['job'])}" if "job" in scope else ""
    queries = {}
    # Prometheus lists metadata in no fixed order: by name, the same families every run
    for family in sorted(kinds):
        name = discovery.keep(family, kinds[family])
        if name is None:
            continue
        if kinds[family] == "gauge":
            queries[name] = f"sum({family}{{{job}}})"
        elif family.endswith("_total"):
            queries[name] = f"sum(rate({family}{{{job}}}{_W}))"
        else:  # an OpenMetrics `# TYPE` names the counter without the `_total` of its samples
            both = f'__name__=~"{family}|{family}_total"'
            queries[name] = f"sum(rate({{{both}{',' if job else ''}{job}}}{_W}))"
    return queries


def _duration_s(text: str) -> float:
    from harness.spec import parse_duration_s

    return parse_duration_s(text)


def collect_from_prometheus(
    source: PrometheusSource,
    run_dir: Path,
    start_t: float,
    end_t: float,
    *,
    target_url: str | None = None,
    objectives: Iterable[Objective] = (),
    resources: Resources | None = None,
) -> ServerInfo:
    """Range-query every canonical metric, the target's own families and each objective's
    own query for [start_t, end_t], write server.jsonl and server.json; errors are recorded,
    not raised."""
    from harness.redaction import redact_url

    resources = resources or local_resources()
    errors: list[str] = []
    writer = SeriesWriter(run_dir)
    discovery = Discovery()
    target: dict[str, Any] | None = None
    step_s = 1.0
    try:
        client = source.connect()
        targets = active_targets(client)
        # Prometheus answers at most 11,000 points per series: a long run takes wider steps
        step_s = max(scrape_interval_s(targets, target_url), (end_t - start_t) / MAX_POINTS)
        query = _RangeQuery(client, start_t, end_t, step_s, errors)
        workers = query.single(WORKERS_QUERY, optional=True)
        for metric, (promql, label) in DEFAULT_QUERIES.items():
            points = query.points(metric, promql, label)
            writer.write(points)
            if metric == "cpu_cores":
                writer.write(_cpu_ratio(points, workers, resources))
            elif metric == "memory_bytes" and resources.memory_bytes > 0:
                writer.write(
                    ServerPoint(p.t, "memory_ratio", {}, p.value / resources.memory_bytes)
                    for p in points
                )
        target = next((found for found in targets if _scrapes(found, target_url)), None)
        for metric, promql in _discovered(client, target, discovery, errors).items():
            writer.write(query.points(metric, promql, None))
        for objective in objectives:
            if objective.query and objective.metric in OBJECTIVE_METRICS:
                values = query.single(objective.query, name=objective.id)
                writer.write(
                    ServerPoint(
                        t, OBJECTIVE_METRICS[objective.metric], {"objective": objective.id}, v
                    )
                    for t, v in values.items()
                )
    except Exception as error:  # a broken Prometheus must not lose the run
        errors.append(f"{source.shown_url}: {type(error).__name__}: {error}")
    finally:
        writer.close()
    if not writer.samples and not errors:
        where = f" {target_url}" if target_url else ""
        errors.append(
            f"Prometheus has no series for the run window: does it scrape the target{where}? "
            "(an embedded backend on a free port is not among its targets; use --target)"
        )
    elif writer.samples and target is None and target_url:
        errors.append(
            f"{redact_url(target_url)} is not among Prometheus's active targets: "
            "the target's own metrics were not looked up"
        )
    cut = discovery.note()
    if cut:
        errors.append(cut)
    info = ServerInfo(
        source="prometheus",
        url=source.shown_url,
        interval_s=step_s,
        samples=writer.samples,
        errors=tuple(errors),
        cpu_cores_available=resources.cpu_cores,
        memory_bytes_available=resources.memory_bytes,
    )
    write_server_info(run_dir, info)
    return info


def _discovered(
    client: Any, target: dict[str, Any] | None, discovery: Discovery, errors: list[str]
) -> dict[str, str]:
    from requests.exceptions import ConnectionError as Unreachable

    if target is None:
        return {}
    try:
        return own_queries(client, target, discovery)
    except Unreachable:
        raise
    except Exception as error:  # an old Prometheus without the metadata API: the rest stands
        errors.append(f"the target's own metrics: {type(error).__name__}: {str(error)[:200]}")
        return {}


def _cpu_ratio(
    cores: list[ServerPoint], workers: dict[float, float], resources: Resources
) -> Iterable[ServerPoint]:
    for point in cores:
        capacity = resources.cpu_capacity(workers.get(point.t))
        if capacity > 0:
            yield ServerPoint(point.t, "cpu_ratio", {}, point.value / capacity)


class _RangeQuery:
    """Runs range queries for one window and turns the answers into points."""

    def __init__(
        self, client: Any, start_t: float, end_t: float, step_s: float, errors: list[str]
    ) -> None:
        self.client = client
        self.start = datetime.fromtimestamp(start_t, UTC)
        self.end = datetime.fromtimestamp(end_t, UTC)
        self.step = f"{step_s:.3f}".rstrip("0").rstrip(".")  # seconds, as Prometheus takes them
        self.rate_window = f"{math.ceil(max(4 * step_s, 4.0))}s"
        self.errors = errors

    def run(self, promql: str, name: str) -> list[dict[str, Any]]:
        from requests.exceptions import ConnectionError as Unreachable

        text = promql.replace(RATE_INTERVAL, self.rate_window)
        try:
            result: list[dict[str, Any]] = self.client.custom_query_range(
                text, start_time=self.start, end_time=self.end, step=self.step
            )
        except Unreachable:
            raise  # no use asking the next query: the collection stops and says why
        except Exception as error:
            self.errors.append(f"{name}: {type(error).__name__}: {str(error)[:200]}")
            return []
        return result

    def points(self, metric: str, promql: str, label: str | None) -> list[ServerPoint]:
        points = []
        for series in self.run(promql, metric):
            labels = series.get("metric", {})
            kept = {label: str(labels[label])} if label and label in labels else {}
            points += [ServerPoint(t, metric, kept, v) for t, v in _values(series)]
        return points

    def single(self, promql: str, *, name: str = "", optional: bool = False) -> dict[float, float]:
        """One value per timestamp; several series are reduced to their maximum (noted)."""
        result = self.run(promql, name or promql)
        if not result and not optional:
            self.errors.append(f"{name or promql}: the query returned no data for the run window")
        if len(result) > 1:
            self.errors.append(
                f"{name or promql}: {len(result)} series returned; their maximum is used "
                "(aggregate them in the query: sum, avg or max)"
            )
        merged: dict[float, float] = defaultdict(lambda: -math.inf)
        for series in result:
            for t, value in _values(series):
                merged[t] = max(merged[t], value)
        return dict(merged)


def _values(series: dict[str, Any]) -> list[tuple[float, float]]:
    rows = []
    for t, text in series.get("values", []):
        value = float(text)
        if math.isfinite(value):
            rows.append((float(t), value))
    return rows
