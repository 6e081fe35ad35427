"""A tiny target that is not the reference backend: a ticket office with metrics of its own.

Its /metrics (prometheus_client's text format, `*_created` samples included) counts tickets
sold at a steady TICKETS_PER_S in all, over two venues, holds SEATS_HELD seats, and exposes
`extra_families` more made-up counters (to try the discovery's bound). Every value is a
function of the time of the request, so any two scrapes give the exact rates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TICKETS_PER_S = {"north": 10.0, "south": 5.0}
"""Tickets sold per second at each venue."""
TICKETS_PER_S_TOTAL = sum(TICKETS_PER_S.values())
SEATS_HELD = {"north": 7.0, "south": 3.0}
"""Seats held at each venue (a gauge)."""
SEATS_HELD_TOTAL = sum(SEATS_HELD.values())


def exposition(elapsed_s: float, extra_families: int = 0) -> str:
    """The ticket office's /metrics `elapsed_s` after it opened."""
    created = 1_700_000_000.0
    lines = [
        "# HELP tickets_sold_total Tickets sold.",
        "# TYPE tickets_sold_total counter",
        *(
            f'tickets_sold_total{{venue="{venue}"}} {per_s * elapsed_s}'
            for venue, per_s in TICKETS_PER_S.items()
        ),
        "# HELP tickets_sold_created Tickets sold.",
        "# TYPE tickets_sold_created gauge",
        *(f'tickets_sold_created{{venue="{venue}"}} {created}' for venue in TICKETS_PER_S),
        "# HELP seats_held Seats held now.",
        "# TYPE seats_held gauge",
        *(f'seats_held{{venue="{venue}"}} {held}' for venue, held in SEATS_HELD.items()),
        "# HELP box_office_wait_seconds Queue wait.",
        "# TYPE box_office_wait_seconds summary",
        f"box_office_wait_seconds_count {elapsed_s}",
        f"box_office_wait_seconds_sum {elapsed_s / 10}",
        "# HELP process_cpu_seconds_total CPU time.",
        "# TYPE process_cpu_seconds_total counter",
        f"process_cpu_seconds_total {0.25 * elapsed_s}",
        "# HELP process_resident_memory_bytes Resident memory.",
        "# TYPE process_resident_memory_bytes gauge",
        "process_resident_memory_bytes 5e+07",
        "# HELP python_gc_objects_collected_total Objects collected during gc.",
        "# TYPE python_gc_objects_collected_total counter",
        f'python_gc_objects_collected_total{{generation="0"}} {elapsed_s}',
    ]
    for index in range(extra_families):
        lines += [
            f"# TYPE extra_{index:03d}_total counter",
            f"extra_{index:03d}_total {elapsed_s}",
        ]
    return "\n".join(lines) + "\n"


@contextmanager
def ticket_office(extra_families: int = 0) -> Iterator[str]:
    """Serve the ticket office on a free loopback port; yield its URL."""
    opened = time.time()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = exposition(time.time() - opened, extra_families).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: a scrape every half second

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
