"""Server metrics collected around a real `run` (Locust processes with the runner tests'
stand-in engine, the reference backend as target): scraped during it, or read from a real
Prometheus after it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.observe._collect import ObserveOptions
from harness.observe._local_prometheus import PROMETHEUS_BINARY, LocalPrometheus
from harness.observe._prometheus import prometheus_source
from harness.observe._server_series import read_server_series
from harness.run._runner import RunRequest, run
from harness.run._target import find_free_port
from harness.rundir import read_run_record
from tests.harness.observe._support import scraped_once
from tests.harness.run._support import FAKE_ENGINE, tiny_plan, write_plan


def _request(tmp_path: Path, target: str, observe: ObserveOptions) -> RunRequest:
    plan_file = write_plan(tmp_path / "plan.json", tiny_plan(users=2, run_time_s=4.0))
    return RunRequest(
        scenario=str(plan_file),
        target=target,
        out_dir=tmp_path / "reports",
        run_id="r1",
        quiet=True,
        observe=observe,
    )


def _run_window(run_dir: Path) -> tuple[float, float]:
    from datetime import datetime

    record = read_run_record(run_dir)
    assert record.ended_at is not None
    started = datetime.fromisoformat(record.started_at.replace("Z", "+00:00")).timestamp()
    ended = datetime.fromisoformat(record.ended_at.replace("Z", "+00:00")).timestamp()
    return started, ended


def test_a_run_scrapes_the_target_for_its_whole_length(tmp_path: Path, backend_url: str) -> None:
    result = run(_request(tmp_path, backend_url, ObserveOptions()), locustfile=FAKE_ENGINE)
    series = read_server_series(result.run_dir)
    assert series is not None
    started, ended = _run_window(result.run_dir)
    times = [t for t, _ in series.values("cpu_ratio", {})]
    assert times
    assert min(times) <= started + 2.0
    assert max(times) >= ended - 2.0
    assert max(value for _, value in series.values("rps", {})) > 0  # the load reached it
    assert json.loads((result.run_dir / "server.json").read_text())["source"] == "scrape"


@pytest.mark.skipif(not Path(PROMETHEUS_BINARY).is_file(), reason="prometheus not installed")
@pytest.mark.serial  # a real Prometheus within fixed timeouts
def test_a_run_reads_prometheus_after_the_load(tmp_path: Path, backend_url: str) -> None:
    with LocalPrometheus(backend_url, port=find_free_port()) as prometheus:
        scraped_once(prometheus.url)
        source = prometheus_source(prometheus.url, "admin:hunter2")
        result = run(
            _request(tmp_path, backend_url, ObserveOptions(prometheus=source)),
            locustfile=FAKE_ENGINE,
        )
    info = json.loads((result.run_dir / "server.json").read_text())
    assert info["source"] == "prometheus"
    assert info["url"] == prometheus.url
    series = read_server_series(result.run_dir)
    assert series is not None
    assert series.values("cpu_ratio", {})
    assert max(value for _, value in series.values("rps", {})) > 0
    everything = "".join(path.read_text() for path in result.run_dir.glob("*.json*"))
    assert "hunter2" not in everything


def test_the_queries_asked_are_those_of_the_objectives_the_run_is_judged_on(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from harness.observe._collect import _run_objectives
    from harness.spec._sla import load_sla

    sla = tmp_path / "sla.yaml"
    sla.write_text(
        "version: 1\nname: q\nobjectives:\n"
        "  - {id: sla.cpu, operation: '*', metric: cpu, limit: '< 70 %', query: 'sla_cpu'}\n"
    )
    own = load_sla(sla).objective("sla.cpu")
    scenario_cpu = replace(own, id="scenario.cpu", query="scenario_cpu").to_dict()
    plan = replace(tiny_plan(), scenario_objectives=(scenario_cpu,), uses_sla=True)
    assert [o.id for o in _run_objectives(sla, plan)] == ["sla.cpu", "scenario.cpu"]
    assert [o.id for o in _run_objectives(sla, replace(plan, uses_sla=False))] == ["scenario.cpu"]
    assert _run_objectives(tmp_path / "absent.yaml", None) == ()
