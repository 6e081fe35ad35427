"""Server-side metrics for a run: a direct scrape of the target's /metrics, or a Prometheus.

Both paths leave the same two files in the run directory (`series.py` reads them):

    RUN_DIR/server.jsonl   one point per line: {"t", "metric", "labels", "value"}
    RUN_DIR/server.json    where they came from: source, url (secrets stripped), errors
"""

from harness.observe._collect import (
    ObserveOptions,
    ServerObservation,
)
from harness.observe._local_prometheus import serve_prometheus
from harness.observe._prometheus import (
    check_prometheus,
    prometheus_source,
)
from harness.observe._series import (
    ServerSeries,
    read_server_series,
)

__all__ = [
    "ObserveOptions",
    "ServerObservation",
    "ServerSeries",
    "check_prometheus",
    "prometheus_source",
    "read_server_series",
    "serve_prometheus",
]
