"""Server-side metrics for a run: a direct scrape of the target's /metrics, or a Prometheus.

Both paths leave the same two files in the run directory (`series.py` reads them):

    RUN_DIR/server.jsonl   one point per line: {"t", "metric", "labels", "value"}
    RUN_DIR/server.json    where they came from: source, url (secrets stripped), errors
"""
