"""server.jsonl written and read back: label filters, time ranges, torn and corrupt lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import RunDirError
from harness.observe._server_series import (
    SeriesWriter,
    ServerInfo,
    ServerPoint,
    read_server_series,
    write_server_info,
)


def _write(run_dir: Path) -> None:
    writer = SeriesWriter(run_dir)
    writer.write(
        [
            ServerPoint(10.0, "cpu_ratio", {}, 0.5),
            ServerPoint(11.0, "cpu_ratio", {}, 0.6),
            ServerPoint(11.0, "cpu_ratio", {"objective": "kpi.cpu"}, 0.9),
            ServerPoint(12.0, "latency_p95_ms", {"route": "/a"}, 20.0),
            ServerPoint(12.0, "rps", {}, float("nan")),  # not written
        ]
    )
    writer.close()
    write_server_info(
        run_dir, ServerInfo("scrape", "http://127.0.0.1:1/metrics", 1.0, writer.samples)
    )


def test_points_round_trip_with_label_and_time_filters(tmp_path: Path) -> None:
    _write(tmp_path)
    series = read_server_series(tmp_path)
    assert series is not None
    assert series.metrics() == {"cpu_ratio", "latency_p95_ms"}
    assert series.values("cpu_ratio", {}) == [(10.0, 0.5), (11.0, 0.6)]
    assert series.values("cpu_ratio", {"objective": "kpi.cpu"}) == [(11.0, 0.9)]
    assert len(series.values("cpu_ratio")) == 3
    assert series.values("cpu_ratio", {}, start_t=11.0, end_t=12.0) == [(11.0, 0.6)]
    assert series.label_sets("latency_p95_ms") == [{"route": "/a"}]
    assert series.source == "scrape"
    assert series.info["samples"] == 4


def test_no_file_means_no_series(tmp_path: Path) -> None:
    assert read_server_series(tmp_path) is None


def test_a_torn_last_line_is_skipped_but_a_corrupt_one_inside_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path)
    path = tmp_path / "server.jsonl"
    with path.open("a") as file:
        file.write('{"t": 13.0, "metric": "cpu_ra')
    series = read_server_series(tmp_path)
    assert series is not None
    assert len(series.values("cpu_ratio")) == 3
    lines = path.read_text().splitlines()
    lines.insert(1, json.dumps({"t": "soon", "metric": "cpu_ratio", "value": 1}))
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RunDirError, match=r"server.jsonl:2"):
        read_server_series(tmp_path)
