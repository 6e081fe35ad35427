"""Server-side metrics for a run: a direct scrape of the target's /metrics, or a Prometheus.

Both paths leave the same two files in the run directory (`_server_series.py` reads them):

    RUN_DIR/server.jsonl   one point per line: {"t", "metric", "labels", "value"}; the
                           canonical resource metrics, and every counter (`<counter>_per_s`)
                           and gauge the target exposes of its own (at most 50 families)
    RUN_DIR/server.json    where they came from: source, url (secrets stripped), errors

    ServerObservation   the context the runner enters around the load: scrapes /metrics, or
                        queries Prometheus after, and writes the two files
    ObserveOptions      which of the two (scrape, or --prometheus-url) and how
    prometheus_source   a Prometheus URL and its credentials, from the --prometheus-* options
    probe_prometheus    return when Prometheus answers; RunError before any load otherwise
    serve_prometheus    `perfctl prometheus`: a local Prometheus scraping a target
    read_server_series  a run's server-side series, or None when it collected none
    ServerSeries        those series, grouped by metric, for range questions
"""

from harness.observe._collect import (
    ObserveOptions,
    ServerObservation,
)
from harness.observe._local_prometheus import serve_prometheus
from harness.observe._prometheus import (
    probe_prometheus,
    prometheus_source,
)
from harness.observe._server_series import (
    ServerSeries,
    read_server_series,
)

__all__ = [
    "ObserveOptions",
    "ServerObservation",
    "ServerSeries",
    "probe_prometheus",
    "prometheus_source",
    "read_server_series",
    "serve_prometheus",
]
