"""The Prometheus path for real: Prometheus (the Debian package) scraping the reference
backend every second, queried through prometheus-api-client after a short load, and a
ticket office whose metrics are its own; and `perfctl prometheus` as a user starts and
stops it."""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.observe._local_prometheus import PROMETHEUS_BINARY, LocalPrometheus, prometheus_config
from harness.observe._prometheus import collect_from_prometheus, prometheus_source
from harness.observe._server_series import read_server_series
from harness.run._target import find_free_port
from harness.spec._sla import load_sla
from tests.harness.observe._support import PERFCTL, drive, scraped_once, wait_for
from tests.harness.observe._ticket_office import (
    SEATS_HELD_TOTAL,
    TICKETS_PER_S_TOTAL,
    ticket_office,
)

pytestmark = [
    pytest.mark.skipif(
        not Path(PROMETHEUS_BINARY).is_file(), reason="Debian package prometheus not installed"
    ),
    pytest.mark.serial,  # a real Prometheus (TSDB, shutdown) within fixed timeouts
]


@pytest.fixture(scope="module")
def prometheus_url(backend_url: str) -> Iterator[str]:
    with LocalPrometheus(backend_url, port=find_free_port()) as prometheus:
        yield prometheus.url


SLA = """version: 1
name: prom
objectives:
  - id: own.cpu
    operation: "*"
    metric: cpu
    statistic: mean
    limit: "< 70 %"
    query: 'sum(rate(process_cpu_seconds_total[$__rate_interval])) / 2'
"""


def test_range_queries_after_a_short_load_give_the_canonical_series(
    tmp_path: Path, backend_url: str, prometheus_url: str
) -> None:
    from prometheus_api_client import PrometheusConnect

    scraped_once(prometheus_url)
    start_t = time.time()
    answered = drive(backend_url, 6.0, clients=2, rate_per_s=25)
    end_t = time.time()
    time.sleep(2.0)  # the last second scraped and stored
    # the library answers the reference backend's own names directly
    client = PrometheusConnect(prometheus_url)
    total = client.custom_query(
        'sum(http_request_duration_seconds_count{route="/api/products/search"})'
    )
    assert float(total[0]["value"][1]) >= answered
    (tmp_path / "sla.yaml").write_text(SLA)
    source = prometheus_source(prometheus_url.replace("://", "://viewer:s3cret@"), token="t0ken")
    info = collect_from_prometheus(
        source,
        tmp_path,
        start_t,
        end_t,
        target_url=backend_url,
        objectives=load_sla(tmp_path / "sla.yaml").objectives,
    )
    assert info.errors == (), info.errors
    assert info.interval_s == 1.0  # the scrape interval, read from Prometheus's targets
    series = read_server_series(tmp_path)
    assert series is not None
    assert {"cpu_ratio", "cpu_cores", "memory_bytes", "memory_ratio", "rps"} <= series.metrics()
    assert {
        "latency_p95_ms",
        "cache_hit_ratio",
        "db_pool_size",
        "breaker_state",
    } <= series.metrics()
    peak_rps = max(value for _, value in series.values("rps", {}))
    sent_rps = answered / 6.0  # two clients at up to 25/s each
    assert 0.7 * sent_rps <= peak_rps <= 1.5 * sent_rps
    assert {labels["route"] for labels in series.label_sets("latency_p95_ms")} == {
        "/api/products/search"
    }
    assert series.values("cpu_ratio", {"objective": "own.cpu"})  # the SLA's own PromQL ran
    # the backend's business counters, discovered from Prometheus's metadata of the target
    assert {"orders_per_s", "revenue_cents_per_s", "payment_declines_per_s"} <= series.metrics()
    written = (tmp_path / "server.json").read_text() + (tmp_path / "server.jsonl").read_text()
    assert "s3cret" not in written
    assert "t0ken" not in written
    assert json.loads((tmp_path / "server.json").read_text())["source"] == "prometheus"


def test_a_target_s_own_counters_are_discovered_and_queried(tmp_path: Path) -> None:
    with (
        ticket_office() as url,
        LocalPrometheus(url, port=find_free_port()) as prometheus,
    ):
        scraped_once(prometheus.url)
        start_t = time.time()
        time.sleep(6.0)  # a few scrapes a second apart: rate windows of 4 s fill
        end_t = time.time()
        time.sleep(2.0)  # the last second scraped and stored
        info = collect_from_prometheus(
            prometheus_source(prometheus.url), tmp_path, start_t, end_t, target_url=url
        )
    assert info.errors == (), info.errors
    series = read_server_series(tmp_path)
    assert series is not None
    assert series.label_sets("tickets_sold_per_s") == [{}]  # summed over the venues
    rates = [value for _, value in series.values("tickets_sold_per_s", {})]
    assert rates
    assert statistics.median(rates) == pytest.approx(TICKETS_PER_S_TOTAL, rel=0.1)
    assert {value for _, value in series.values("seats_held", {})} == {SEATS_HELD_TOTAL}
    assert not {"tickets_sold_created", "box_office_wait_seconds"} & series.metrics()
    assert not any(metric.startswith(("process_", "python_")) for metric in series.metrics())


def test_an_unreachable_prometheus_is_recorded_not_fatal(tmp_path: Path) -> None:
    source = prometheus_source(f"http://127.0.0.1:{find_free_port()}")
    info = collect_from_prometheus(source, tmp_path, time.time() - 5, time.time())
    assert info.samples == 0
    assert info.errors


def test_a_killed_perfctl_prometheus_takes_prometheus_along(
    tmp_path: Path, backend_url: str
) -> None:
    import psutil

    port = find_free_port()
    storage = tmp_path / "prometheus"  # a killed perfctl cannot remove a temporary one
    process = subprocess.Popen(
        [
            PERFCTL,
            "prometheus",
            "--port",
            str(port),
            "--target",
            backend_url,
            "--dir",
            str(storage),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/-/ready")
        children = psutil.Process(process.pid).children(recursive=True)
        assert [child.name() for child in children] == ["prometheus"]
    finally:
        process.kill()
        process.wait()
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive


def test_the_generated_config_scrapes_the_target_every_second() -> None:
    config = prometheus_config("http://127.0.0.1:8000", 1.0)
    assert "scrape_interval: 1s" in config
    assert "targets: ['127.0.0.1:8000']" in config
    assert "metrics_path: /metrics" in config


def test_perfctl_prometheus_runs_until_ctrl_c(backend_url: str) -> None:
    port = find_free_port()
    process = subprocess.Popen(
        [PERFCTL, "prometheus", "--port", str(port), "--target", backend_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal delivers it: a suite started in the background by a shell
        # inherits SIGINT ignored, and Python then never turns it into KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first == f"prometheus: http://127.0.0.1:{port}"
        storage = process.stdout.readline().split(" into ")[1].split(";")[0]
        assert process.stdout.readline().startswith("first scrape stored")
        wait_for(f"http://127.0.0.1:{port}/-/ready")
        assert _active_targets(f"http://127.0.0.1:{port}") == [f"{backend_url}/metrics"]
        process.send_signal(signal.SIGINT)
        # read both pipes to the end: a process blocked writing to a full pipe never exits
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr[-2000:]
        assert not Path(storage).exists()  # the temporary storage went with it
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # perfctl stops its Prometheus
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _active_targets(url: str, deadline_s: float = 10.0) -> list[str]:
    """The scrape URLs Prometheus found (it discovers them shortly after it is ready)."""
    give_up_at = time.monotonic() + deadline_s
    while True:
        with urllib.request.urlopen(f"{url}/api/v1/targets", timeout=5) as answer:
            targets = json.loads(answer.read())["data"]["activeTargets"]
        if targets or time.monotonic() > give_up_at:
            return [target["scrapeUrl"] for target in targets]
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["prometheus", "--port", "70000"], 2, "Invalid value for '--port'"),
        (["prometheus", "--target", "ftp://x"], 2, "--target must be an http"),
        (["run", "smoke", "--prometheus-token", "x"], 2, "need --prometheus-url"),
        (["run", "smoke", "--prometheus-url", "nope"], 2, "--prometheus-url must be"),
    ],
)
def test_bad_options_are_one_line_errors(args: list[str], code: int, message: str) -> None:
    result = subprocess.run(
        [PERFCTL, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_run_against_a_silent_prometheus_stops_before_any_load(tmp_path: Path) -> None:
    silent = f"http://127.0.0.1:{find_free_port()}"
    result = subprocess.run(
        [
            PERFCTL,
            "run",
            "smoke",
            "--profile",
            "smoke",
            "--out",
            str(tmp_path),
            "--prometheus-url",
            silent,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    assert f"Prometheus at {silent} did not answer" in result.stderr
    assert not any(tmp_path.iterdir())  # no run directory: nothing was sent


def test_a_long_run_is_asked_in_steps_prometheus_accepts(
    tmp_path: Path, backend_url: str, prometheus_url: str
) -> None:
    """Prometheus refuses more than 11,000 points per series: 6 hours at a 1 s scrape
    interval are asked in 2.16 s steps (rate windows of 9 s)."""
    scraped_once(prometheus_url)
    end_t = time.time()
    info = collect_from_prometheus(
        prometheus_source(prometheus_url), tmp_path, end_t - 6 * 3600, end_t, target_url=backend_url
    )
    assert info.errors == (), info.errors
    assert info.interval_s == pytest.approx(2.16)
    series = read_server_series(tmp_path)
    assert series is not None
    assert series.values("memory_bytes", {})  # the last minutes, when Prometheus ran
