"""sla.yaml: the shipped file encodes the seed, and wrong files give exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import SpecError
from harness.spec import Sla, load_sla
from tests.harness.spec._support import REPO, valid_sla


@pytest.fixture(scope="module")
def shipped() -> Sla:
    return load_sla(REPO / "sla.yaml")


def _write(tmp_path: Path, data: object, name: str = "sla.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# -- the shipped file -------------------------------------------------------------------------

SEED_LATENCY_MS = {
    "product_search": (200, 500, 1000),
    "recommendations": (300, 800, 1500),
    "order_processing": (500, 1000, 2000),
    "payment_processing": (1000, 2000, 5000),
    "customer_support": (1000, 2000, 3000),
    "inventory_check": (100, 200, 500),
}


@pytest.mark.parametrize(("operation", "limits_ms"), SEED_LATENCY_MS.items())
def test_latency_target_is_the_median_and_p95_p99_follow_the_seed(
    shipped: Sla, operation: str, limits_ms: tuple[int, int, int]
) -> None:
    for statistic, limit_ms in zip(("p50", "p95", "p99"), limits_ms, strict=True):
        objective = shipped.objective(f"{operation}.latency.{statistic}")
        assert objective.metric == "latency"
        assert objective.statistic == statistic
        assert objective.limit is not None
        assert (objective.limit.comparator, objective.limit.value) == ("<", limit_ms)
        assert objective.window_s == 60.0


SEED_SERVICES = {
    # operation: (availability, error rate, throughput rps, severity)
    "product_search": (0.999, 0.001, 10000, "high"),
    "recommendations": (0.999, 0.001, 5000, "high"),
    "order_processing": (0.9995, 0.0005, 3000, "critical"),
    "payment_processing": (0.9995, 0.0005, 2000, "critical"),
    "customer_support": (0.995, 0.005, 2000, "medium"),
    "inventory_check": (0.999, 0.001, 8000, "high"),
}


@pytest.mark.parametrize(("operation", "figures"), SEED_SERVICES.items())
def test_service_table_and_tiers_follow_the_seed(
    shipped: Sla, operation: str, figures: tuple[float, float, float, str]
) -> None:
    availability, error_rate, throughput, severity = figures
    objective = shipped.objective(f"{operation}.availability")
    assert objective.limit is not None
    assert (objective.limit.comparator, objective.limit.value) == (">=", availability)
    assert objective.severity == severity
    errors = shipped.objective(f"{operation}.error_rate")
    assert errors.limit is not None
    assert (errors.limit.comparator, errors.limit.value) == ("<", error_rate)
    rate = shipped.objective(f"{operation}.throughput")
    assert rate.limit is not None
    assert rate.limit.value == throughput
    assert rate.window_s == 300.0
    assert rate.scales_with_load


SEED_COMPONENTS = {
    "api_gateway": ("*", 10000, 50000, 100000),
    "recommendation_agent": ("recommendations", 5000, 25000, 50000),
    "customer_support_agent": ("customer_support", 2000, 10000, 20000),
    "inventory_agent": ("inventory_check", 8000, 40000, 80000),
    "order_agent": ("order_processing", 3000, 15000, 30000),
    "pricing_agent": ("price_lookup", 6000, 30000, 60000),
}


@pytest.mark.parametrize(("name", "figures"), SEED_COMPONENTS.items())
def test_component_throughput_target_peak_burst(
    shipped: Sla, name: str, figures: tuple[str, int, int, int]
) -> None:
    operation, target, peak, burst = figures
    component = next(c for c in shipped.components if c.name == name)
    assert (component.operation, component.target_rps, component.peak_rps, component.burst_rps) == (
        operation,
        target,
        peak,
        burst,
    )
    assert component.scaling is not None
    assert shipped.objective(f"{name}.throughput.target").scope == "run"
    assert shipped.objective(f"{name}.throughput.peak").scope == "peak"
    assert shipped.objective(f"{name}.throughput.burst").scope == "spike"


@pytest.mark.parametrize(
    ("kpi", "limit", "warn"),
    [
        ("response_time", ("<", 500.0), ("<=", 1000.0)),
        ("throughput", (">=", 10000.0), (">=", 5000.0)),
        ("error_rate", ("<", 0.001), ("<=", 0.01)),
        ("availability", (">=", 0.999), (">=", 0.995)),
        ("cpu", ("<", 0.7), ("<=", 0.85)),
        ("memory", ("<", 0.8), ("<=", 0.9)),
    ],
)
def test_kpis_have_target_as_limit_and_alert_threshold_as_warn(
    shipped: Sla, kpi: str, limit: tuple[str, float], warn: tuple[str, float]
) -> None:
    objective = shipped.objective(f"kpi.{kpi}")
    assert objective.operation == "*"
    assert objective.limit is not None
    assert objective.warn is not None
    assert (objective.limit.comparator, objective.limit.value) == limit
    assert (objective.warn.comparator, objective.warn.value) == warn


def test_monitoring_scaling_tiers_and_incident_response_are_the_seeds(shipped: Sla) -> None:
    spec = shipped.spec
    assert {key: entry.every for key, entry in spec.monitoring.items()} == {
        "response_time": 60.0,
        "availability": 60.0,
        "error_rate": 60.0,
        "throughput": 300.0,
        "resource_usage": 60.0,
    }
    rows = {
        name: (
            r.min_instances,
            r.max_instances,
            r.target_cpu,
            r.target_memory,
            r.scale_out_cooldown,
        )
        for name, r in spec.scaling.items()
    }
    assert rows == {
        "api_gateway": (2, 50, 0.7, 0.8, 300.0),
        "lambda_functions": (10, 1000, 0.6, 0.7, 60.0),
        "ecs_tasks": (3, 100, 0.7, 0.75, 300.0),
        "rds_instances": (1, 5, 0.8, 0.85, 900.0),
        "elasticache": (2, 20, 0.7, 0.8, 300.0),
    }
    tiers = {name: (t.availability, t.rto, t.rpo) for name, t in spec.tiers.items()}
    assert tiers == {
        "critical": (0.9995, 900.0, 300.0),
        "important": (0.999, 1800.0, 900.0),
        "standard": (0.995, 3600.0, 1800.0),
    }
    critical = shipped.incident_response("critical")
    assert critical is not None
    assert critical.actions == [
        "Auto-scaling activation",
        "Load balancer adjustment",
        "Cache warming",
    ]
    assert set(spec.incident_response) == {"critical", "high", "medium", "low"}


def test_objective_sources_point_at_their_lines(shipped: Sla) -> None:
    lines = (REPO / "sla.yaml").read_text().splitlines()
    objective = shipped.objective("kpi.error_rate")
    line = int(objective.source.rsplit(":", 1)[1])
    assert lines[line - 1].strip() == "error_rate:"
    assert objective.abort_after_s == 30.0


def test_min_samples_default_makes_a_percentile_meaningful(shipped: Sla) -> None:
    # the fewest samples whose 95 % interval has both ends inside the sample
    assert shipped.objective("product_search.latency.p99").min_samples == 368
    assert shipped.objective("product_search.latency.p95").min_samples == 72
    assert shipped.objective("product_search.error_rate").min_samples == 1


def test_drift_and_breaking_point_apply_only_to_their_scenarios(shipped: Sla) -> None:
    drift = shipped.objective("endurance.latency_drift")
    assert drift.applies_to("endurance")
    assert not drift.applies_to("normal")
    assert drift.limit is not None
    assert drift.limit.value == pytest.approx(0.10)
    breaking_point = shipped.objective("capacity.breaking_point")
    assert breaking_point.applies_to("capacity")
    assert not breaking_point.applies_to("normal")
    assert not breaking_point.scales_with_load  # a knee is one instance's, whatever the profile


# -- wrong files: the exact message -----------------------------------------------------------


def _set(data: dict[str, object], path: tuple[str | int, ...], value: object) -> dict[str, object]:
    node: object = data
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    return data


def _drop(data: dict[str, object], path: tuple[str | int, ...]) -> dict[str, object]:
    node: object = data
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    del node[path[-1]]  # type: ignore[attr-defined]
    return data


WRONG_SLAS = [
    (
        _drop(valid_sla(), ("name",)),
        "sla.yaml:1: name: missing required key",
    ),
    (
        _set(valid_sla(), ("servise",), {}),
        "sla.yaml:49: servise: unknown key 'servise' (did you mean 'services'?); expected one of: "
        "components, defaults, description, incident_response, kpis, monitoring, name, "
        "objectives, scaling, services, tiers, version",
    ),
    (
        _set(valid_sla(), ("services", "product_search", "latency", "p95"), "< 500 kg"),
        "sla.yaml:20: services.product_search.latency.p95.limit: unit 'kg' does not fit this "
        "metric; use 'ms' or 's', got '< 500 kg'",
    ),
    (
        _set(valid_sla(), ("services", "product_search", "latency", "p95"), "fast"),
        "sla.yaml:20: services.product_search.latency.p95: expected a comparison such as "
        "'< 500 ms', '<= 0.1 %' or '>= 10000 rps', got 'fast'",
    ),
    (
        _set(valid_sla(), ("services", "product_search", "latency", "p100"), "< 1 s"),
        "sla.yaml:21: services.product_search.latency.p100: a percentile must lie strictly "
        "between 0 and 100, got 'p100'",
    ),
    (
        _set(valid_sla(), ("services", "product_search", "tier"), "gold"),
        "sla.yaml:17: services.product_search.tier: unknown tier 'gold'; known tiers: critical",
    ),
    (
        _set(valid_sla(), ("kpis", "cpu", "warn"), "<= 60 %"),
        "sla.yaml:40: kpis.cpu.warn: warn '<= 60 %' must be looser than limit '< 70 %' "
        "(the same direction and a wider bound)",
    ),
    (
        _set(valid_sla(), ("kpis", "cpu", "warn"), ">= 90 %"),
        "sla.yaml:40: kpis.cpu.warn: warn '>= 90 %' must be looser than limit '< 70 %' "
        "(the same direction and a wider bound)",
    ),
    (
        _set(valid_sla(), ("kpis", "cpu", "metric"), "cpus"),
        "sla.yaml:38: kpis.cpu.metric: input should be 'latency', 'error_rate', 'availability', "
        "'throughput', 'cpu', 'memory', 'latency_drift', 'memory_drift', 'breaking_point' or "
        "'checks', got 'cpus'",
    ),
    (
        _set(valid_sla(), ("objectives", 0, "statistic"), "p0"),
        "sla.yaml:44: objectives.0.statistic: a percentile must lie strictly between 0 and 100, "
        "got 'p0'",
    ),
    (
        _drop(valid_sla(), ("objectives", 0, "statistic")),
        "sla.yaml:42: objectives.0.statistic: a latency objective needs a statistic: "
        "p50/p95/p99..., mean, min, max",
    ),
    (
        _set(valid_sla(), ("objectives", 0, "abort"), {"after": "soon"}),
        "sla.yaml:47: objectives.0.abort.after: expected a duration such as '30s', '5m' or '2h', "
        "got 'soon'",
    ),
    (
        _set(valid_sla(), ("objectives", 0, "baseline"), "<= 10 ms"),
        "sla.yaml:48: objectives.0.baseline: expected a change against the baseline such as "
        "'<= +10 %' or '>= -5 %', got '<= 10 ms'",
    ),
    (
        _set(valid_sla(), ("tiers", "critical", "availability"), "101 %"),
        "sla.yaml:10: tiers.critical.availability: a percentage must lie between 0 % and 100 %, "
        "got '101 %'",
    ),
    (
        _set(valid_sla(), ("scaling", "gateway", "min_instances"), 60),
        "sla.yaml:31: scaling.gateway.min_instances: min_instances 60 exceeds max_instances 50",
    ),
    (
        _set(valid_sla(), ("components", "api_gateway", "runs_on"), "fargate"),
        "sla.yaml:25: components.api_gateway.runs_on: unknown scaling row 'fargate'; "
        "known rows: gateway",
    ),
]


@pytest.mark.parametrize(("data", "message"), WRONG_SLAS)
def test_wrong_sla_gives_the_exact_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: object, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, data)
    with pytest.raises(SpecError) as caught:
        load_sla("sla.yaml")
    assert caught.value.message == message
    assert caught.value.exit_code == 2


def test_every_problem_is_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = _set(valid_sla(), ("kpis", "cpu", "warn"), "<= 60 %")
    _set(data, ("services", "product_search", "tier"), "gold")
    _write(tmp_path, data)
    with pytest.raises(SpecError) as caught:
        load_sla("sla.yaml")
    lines = caught.value.message.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "services.product_search.tier",
        "kpis.cpu.warn",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "sla.yaml:1: (document): the file is empty, expected a mapping"),
        (b"# only a comment\n", "sla.yaml:1: (document): the file is empty, expected a mapping"),
        (
            b"- a\n- b\n",
            "sla.yaml:1: (document): expected a mapping of keys at the top, got a list",
        ),
        (
            b"just words\n",
            "sla.yaml:1: (document): expected a mapping of keys at the top, got the value 'just words'",
        ),
        (
            b"name: [x\n",
            "sla.yaml:2: not valid YAML: while parsing a flow sequence; expected ',' or ']', but got '<stream end>'",
        ),
        (
            b"name: x\nkpis:\n  a: {metric: cpu, limit: >= 5 %}\n",
            "sla.yaml:3: not valid YAML: while scanning for the next token; found character '>' "
            "that cannot start any token (quote values that start with '>' or '|', e.g. "
            '">= 10000 rps")',
        ),
        (
            b"name: x\nname: y\n",
            "sla.yaml:2: name: duplicate key 'name'",
        ),
        (b"name: \xff\n", "sla.yaml:1: is not UTF-8 text (byte 0xff at offset 6)"),
        (
            b"name: x\nservices:\n  3: {}\n",
            "sla.yaml:3: services.3: a key must be text, got 3 (quote it)",
        ),
        (b"\x00\x01\x02", "sla.yaml: is a binary file, expected YAML text"),
    ],
)
def test_unreadable_files_give_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sla.yaml").write_bytes(content)
    with pytest.raises(SpecError) as caught:
        load_sla("sla.yaml")
    assert caught.value.message == message


def test_a_limit_starting_with_gt_gets_a_quoting_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sla.yaml").write_text("name: x\nkpis:\n  a:\n    metric: cpu\n    limit: >= 5 %\n")
    with pytest.raises(SpecError) as caught:
        load_sla("sla.yaml")
    assert caught.value.message.startswith("sla.yaml:5: not valid YAML: ")
    assert "quote values that start with '>'" in caught.value.message


def test_a_directory_and_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    with pytest.raises(SpecError, match=r"^dir: is a directory, expected a YAML file$"):
        load_sla("dir")
    with pytest.raises(SpecError, match=r"^nothere.yaml: no such file$"):
        load_sla("nothere.yaml")


def test_defaults_min_samples_is_a_floor_and_an_objective_may_set_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = valid_sla()
    data["defaults"] = {"min_samples": 50}
    data["services"]["product_search"]["latency"]["p95"] = {"limit": "< 500 ms", "min_samples": 10}
    _write(tmp_path, data)
    sla = load_sla("sla.yaml")
    assert sla.objective("product_search.latency.p50").min_samples == 50
    assert sla.objective("product_search.latency.p99").min_samples == 368
    assert sla.objective("product_search.latency.p95").min_samples == 10
