"""The reference e-commerce backend: perfctl's default target and calibrated system.

It never imports the harness; `perfctl serve` (harness/cli.py) starts it and maps its
`errors` onto the harness's one-line errors. The modules, from what runs the backend down to
what every module reads; each imports only modules below it:

    server      `perfctl serve`: binds the port, prepares the database, runs uvicorn workers
    app         builds the Starlette app: every agent's routes behind the gateway, its lifespan
    openapi     the OpenAPI 3.1 document of every route
    gateway     the ASGI middleware in front of every agent (rate limit, timeout, metrics)
    compression gzip for clients that accept it, each served body compressed once
    faults      fault injection for calibration (the /admin routes)
    agents/     one module per agent of the seed platform: its service and its routes
    clients     how agents call each other: in process, or over HTTP behind a circuit breaker
    messages    the values agents exchange (payment request and outcome, price quote)
    coordination  what the workers share through Redis: rate limit, checkout lock
    cache       an in-process LRU/TTL tier, in front of Redis when a URL is given
    resilience  the circuit breaker and the token-bucket rate limiter
    metrics     Prometheus metrics, correct with one or many workers
    api         HTTP plumbing: JSON responses, the error shape, input parsing
    db/         the database (SQLite or PostgreSQL): prepared once, opened per process
    datagen     the deterministic seeded catalog, users and order history
    settings    the settings every module reads, and their JSON hand-over to the workers
    errors      `ServeError` and its subclasses: why the backend could not start
"""

__version__ = "0.1.0"
