"""Malformed SLA and scenario files never crash: always a SpecError, exit code 2, no traceback.

Each example starts from a valid document and breaks it in one way that is known to make it
invalid: a wrong value for a field, a missing required key, an unknown key, broken YAML, or
bytes that are not text. It then goes through the loader and through the console script's
`main()`, where the one error catch lives: 2 x 150 documents per run.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import SpecError
from harness.spec import load_scenario, load_sla
from tests.harness.spec._support import REPO, run_main, valid_scenario, valid_sla

Path_ = tuple[str | int, ...]

_NOT_A_NUMBER_TEXT = st.text(max_size=12).filter(lambda t: not re.search(r"[\d<>]", t))

# Values that are wrong for a field of each kind, whatever the rest of the document says.
_WRONG: dict[str, st.SearchStrategy[Any]] = {
    "limit": st.one_of(
        st.sampled_from(["fast", "500", "< ms", "<< 5 ms", "< 5 parsecs", "~ 5 ms", "< 1e999 ms"]),
        st.integers(),
        st.lists(st.integers(), max_size=2),
        st.just({"lmit": "< 5 ms"}),
        _NOT_A_NUMBER_TEXT,
    ),
    "duration": st.one_of(
        st.sampled_from(["forever", "-5s", "5 parsecs", "m", "1x", True, -3, [1], {"a": 1}]),
        _NOT_A_NUMBER_TEXT,
    ),
    "enum": st.one_of(
        st.text(max_size=10).filter(
            lambda t: (
                t.strip().upper()
                not in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
                and t
                not in {
                    "closed",
                    "open",
                    "critical",
                    "high",
                    "medium",
                    "low",
                    "latency",
                    "error_rate",
                    "availability",
                    "throughput",
                    "cpu",
                    "memory",
                    "latency_drift",
                    "memory_drift",
                    "breaking_point",
                }
            )
        ),
        st.just([]),
        st.just({}),
        st.just(None),
        st.integers(min_value=2),
    ),
    "int": st.sampled_from(["ten", 1.5, -1, [], {}, None, "1 000"]),
    "weight": st.sampled_from([0, -1, "heavy", [], {}, None, -0.5]),
    "str": st.sampled_from([[], {}, 5, None, 1.5, [1, 2]]),
    "ratio": st.sampled_from(["150 %", "-1 %", "lots", 2, -0.5, [], {}, None]),
    "status": st.sampled_from(["ok", 700, 99, [], {}, None, 1.5, [200, "x"]]),
    "mapping": st.sampled_from(["x", 5, [1, 2], True]),
    "path": st.sampled_from(["no-slash", "api/x", [], {}, None, 5]),
}

SLA_FIELDS: dict[Path_, str] = {
    ("services", "product_search", "latency", "p95"): "limit",
    ("services", "product_search", "error_rate"): "limit",
    ("components", "api_gateway", "throughput", "target"): "limit",
    ("kpis", "cpu", "limit"): "limit",
    ("objectives", 0, "limit"): "limit",
    ("monitoring", "response_time", "every"): "duration",
    ("tiers", "critical", "rto"): "duration",
    ("scaling", "gateway", "scale_out_cooldown"): "duration",
    ("objectives", 0, "abort", "after"): "duration",
    ("tiers", "critical", "severity"): "enum",
    ("kpis", "cpu", "metric"): "enum",
    ("objectives", 0, "metric"): "enum",
    ("scaling", "gateway", "max_instances"): "int",
    ("name",): "str",
    ("objectives", 0, "operation"): "str",
    ("components", "api_gateway", "operation"): "str",
    ("scaling", "gateway", "target_cpu"): "ratio",
    ("tiers", "critical", "availability"): "ratio",
    ("services",): "mapping",
    ("tiers",): "mapping",
    ("kpis",): "mapping",
}
SLA_MODELS: tuple[Path_, ...] = (
    (),
    ("monitoring", "response_time"),
    ("tiers", "critical"),
    ("services", "product_search"),
    ("components", "api_gateway"),
    ("components", "api_gateway", "throughput"),
    ("scaling", "gateway"),
    ("kpis", "cpu"),
    ("objectives", 0),
    ("objectives", 0, "abort"),
)
SLA_REQUIRED: tuple[Path_, ...] = (
    ("name",),
    ("tiers", "critical", "availability"),
    ("tiers", "critical", "rto"),
    ("tiers", "critical", "severity"),
    ("components", "api_gateway", "operation"),
    ("scaling", "gateway", "max_instances"),
    ("kpis", "cpu", "metric"),
    ("kpis", "cpu", "limit"),
    ("objectives", 0, "operation"),
    ("objectives", 0, "metric"),
    ("objectives", 0, "abort", "after"),
    ("monitoring", "response_time", "every"),
)

SCENARIO_FIELDS: dict[Path_, str] = {
    ("warmup",): "duration",
    ("stages", 0, "duration"): "duration",
    ("profiles", "quick", "duration"): "duration",
    ("journeys", "search", "think_time"): "duration",
    ("model",): "enum",
    ("journeys", "flow", "steps", 0, "method"): "enum",
    ("stages", 0, "users"): "int",
    ("profiles", "quick", "max_users"): "int",
    ("journeys", "search", "weight"): "weight",
    ("journeys", "flow", "steps", 0, "check", "status"): "status",
    ("journeys", "flow", "steps", 0, "operation"): "str",
    ("journeys", "flow", "steps", 1, "path"): "path",
    ("journeys",): "mapping",
    ("stages",): "mapping",
}
SCENARIO_MODELS: tuple[Path_, ...] = (
    (),
    ("stages", 0),
    ("journeys", "search"),
    ("journeys", "flow"),
    ("journeys", "flow", "steps", 0),
    ("journeys", "flow", "steps", 0, "check"),
    ("profiles", "quick"),
)
SCENARIO_REQUIRED: tuple[Path_, ...] = (
    ("stages",),
    ("journeys",),
    ("stages", 0, "duration"),
    ("stages", 1, "users"),
    ("journeys", "flow", "steps", 0, "operation"),
    ("journeys", "flow", "steps", 1, "path"),
)

_YAML_BREAKERS = ("key: [unclosed", "\tkey: 1", "key: *undefined_alias", "key: {a: 1", "- a\nb: c")
_UNKNOWN_KEY = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10).map(
    lambda text: f"zz_{text}"
)


def _node(data: Any, path: Path_) -> Any:
    for key in path:
        data = data[key]
    return data


@st.composite
def _broken(
    draw: st.DrawFn,
    base: Callable[[], dict[str, Any]],
    fields: dict[Path_, str],
    models: tuple[Path_, ...],
    required: tuple[Path_, ...],
    duplicate_line: str,
) -> bytes:
    data = base()
    how = draw(st.sampled_from(["wrong", "missing", "unknown", "yaml", "bytes"]))
    if how == "wrong":
        path = draw(st.sampled_from(sorted(fields, key=str)))
        _node(data, path[:-1])[path[-1]] = draw(_WRONG[fields[path]])
    elif how == "missing":
        path = draw(st.sampled_from(required))
        del _node(data, path[:-1])[path[-1]]
    elif how == "unknown":
        _node(data, draw(st.sampled_from(models)))[draw(_UNKNOWN_KEY)] = draw(
            st.one_of(st.integers(), st.text(max_size=5), st.none())
        )
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if how == "yaml":
        lines = text.splitlines()
        at = draw(st.integers(min_value=0, max_value=len(lines)))
        breaker = draw(st.sampled_from((*_YAML_BREAKERS, duplicate_line)))
        lines.insert(at, breaker) if breaker != duplicate_line else lines.append(breaker)
        text = "\n".join(lines) + "\n"
    if how == "bytes":
        return draw(
            st.one_of(
                st.binary(max_size=40).map(lambda raw: raw + b"\x00"),
                st.binary(max_size=40).map(lambda raw: b"name: \xff\xfe" + raw),
                st.just(b""),
                st.just(b"   \n# nothing\n"),
                st.just(b"[1, 2, 3]\n"),
            )
        )
    return text.encode()


def _assert_rejected(path: Path, load: Any, *cli_args: str) -> None:
    with pytest.raises(SpecError) as caught:
        load(path)
    assert caught.value.exit_code == 2
    for line in caught.value.message.splitlines():
        assert re.match(r"^\S.*?(:\d+)?: \S", line), line
    outcome = run_main(*cli_args, str(path))
    assert outcome.code == 2, outcome
    assert outcome.stderr.startswith("error: ")
    assert "Traceback" not in outcome.stderr + outcome.stdout


_FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@_FUZZ
@given(_broken(valid_sla, SLA_FIELDS, SLA_MODELS, SLA_REQUIRED, "name: again"))
def test_malformed_sla_files_exit_2(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "sla.yaml"
        path.write_bytes(content)
        scenario = str(REPO / "scenarios" / "smoke.yaml")
        _assert_rejected(path, load_sla, "sla", "lint", "--scenario", scenario)


@_FUZZ
@given(_broken(valid_scenario, SCENARIO_FIELDS, SCENARIO_MODELS, SCENARIO_REQUIRED, "model: open"))
def test_malformed_scenario_files_exit_2(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "broken.yaml"
        path.write_bytes(content)
        _assert_rejected(path, load_scenario, "scenarios", "lint")
