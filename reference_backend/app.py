"""The reference backend as one Starlette app: every agent behind the gateway.

`create_app(settings)` mounts the agents' routes, /health, /ready, /metrics, /openapi.json
and (with an admin token) the fault-injection routes, and applies the gateway middleware.
Its lifespan opens the database, the cache and the agents' services and clients and puts
them on `app.state`, where the route handlers find them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from reference_backend.agents import (
    auth,
    cart,
    inventory,
    orders,
    payments,
    preferences,
    pricing,
    recommendations,
    search,
    support,
)
from reference_backend.agents.users import UserDirectory
from reference_backend.api import (
    ApiError,
    JsonResponse,
    api_error_handler,
    error_body,
    http_error_handler,
    json_response,
)
from reference_backend.cache import Cache, open_cache
from reference_backend.clients import AgentClients, RemoteAgents, remote_agents
from reference_backend.coordination import open_coordination
from reference_backend.db import (
    Database,
    ProductQuery,
    open_database,
    prepare_database,
    prepare_postgres,
    prepare_sqlite,
)
from reference_backend.faults import FaultInjector, admin_routes
from reference_backend.gateway import gateway_middleware
from reference_backend.metrics import get_metrics, metrics_endpoint
from reference_backend.openapi import build_openapi
from reference_backend.settings import Settings, settings_from_env

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL_S = 30.0
WARM_PRODUCTS = 200

AGENT_ROUTES: tuple[BaseRoute, ...] = (
    *auth.ROUTES,
    *search.ROUTES,
    *recommendations.ROUTES,
    *inventory.ROUTES,
    *pricing.ROUTES,
    *cart.ROUTES,
    *orders.ROUTES,
    *payments.ROUTES,
    *preferences.ROUTES,
    *support.ROUTES,
)


def create_app_from_env() -> Starlette:
    """The app of one `perfctl serve` worker: settings from PERFCTL_BACKEND_SETTINGS."""
    return create_app(settings_from_env())


def create_app(settings: Settings) -> Starlette:
    """Builds the backend; nothing is opened until the lifespan starts."""
    metrics = get_metrics()
    injector = FaultInjector()
    coordination = open_coordination(settings, metrics)  # connects on first use, in the loop
    routes: list[BaseRoute] = [
        Route("/health", health, methods=["GET"], name="health"),
        Route("/ready", ready, methods=["GET"], name="ready"),
        Route("/metrics", metrics_endpoint, methods=["GET"], name="metrics"),
        Route("/openapi.json", openapi_document, methods=["GET"], name="openapi"),
        *AGENT_ROUTES,
        *admin_routes(settings, injector),
    ]
    app = Starlette(
        routes=routes,
        middleware=gateway_middleware(settings, metrics, injector, coordination),
        exception_handlers={
            ApiError: api_error_handler,
            HTTPException: http_error_handler,
            Exception: _unexpected_error_handler,
        },
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.injector = injector
    app.state.coordination = coordination
    app.state.openapi = build_openapi()
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    metrics = app.state.metrics
    settings = await _ensure_database(settings)
    app.state.settings = settings
    db = await open_database(settings, metrics.db_pool_in_use)
    metrics.db_pool_size.inc(db.pool_size)
    cache = await open_cache(settings, metrics)
    remote = remote_agents(settings.agent_urls, settings.request_timeout_s, metrics)
    _wire_services(app, db, cache, remote)
    app.state.db = db
    app.state.cache = cache
    await _warm(app.state.catalog)
    maintenance = asyncio.create_task(_maintain(app.state.inventory, app.state.sessions))
    try:
        yield
    finally:
        maintenance.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await maintenance
        await remote.aclose()
        await cache.aclose()
        if app.state.coordination is not None:
            await app.state.coordination.aclose()
        await db.close()
        metrics.db_pool_size.dec(db.pool_size)


async def _ensure_database(settings: Settings) -> Settings:
    # Idempotent: a database already seeded with these settings is left as it is.
    if settings.database_url is not None:
        await prepare_postgres(settings.database_url, settings)
        return settings
    if settings.sqlite_path is None:
        return await asyncio.to_thread(prepare_database, settings)
    await asyncio.to_thread(prepare_sqlite, settings.sqlite_path, settings)
    return settings


def _wire_services(app: Starlette, db: Database, cache: Cache, remote: RemoteAgents) -> None:
    state = app.state
    users = UserDirectory(db)
    state.sessions = auth.SessionStore(db, state.settings.session_ttl_s)
    catalog = search.CatalogService(db, cache)
    state.catalog = catalog
    state.inventory = inventory.InventoryService(db, cache, catalog)
    state.pricing = pricing.PricingService(db, cache, catalog)
    state.cart = cart.CartService(db, catalog, users)
    state.payments = payments.PaymentService(db, users, state.settings, state.metrics)
    state.recommendations = recommendations.RecommendationService(db, cache, users)
    state.preferences = preferences.PreferencesService(db, cache, users)
    clients = AgentClients(
        catalog=remote.catalog or catalog,
        inventory=remote.inventory or state.inventory,
        pricing=remote.pricing or state.pricing,
        cart=remote.cart or state.cart,
        payments=remote.payments or state.payments,
    )
    state.orders = orders.OrderService(
        db, users, clients, state.metrics, state.settings, state.coordination
    )
    clients.orders = remote.orders or state.orders
    state.support = support.SupportService(users, clients)
    state.clients = clients


async def _warm(catalog: search.CatalogService) -> None:
    """Loads the categories, their first search pages and the most popular products."""
    categories = await catalog.categories()
    first_pages = {None, *(c["category_id"] for c in categories)}
    pages = [
        ProductQuery((), category_id, 0, search.MAX_PRICE_CENTS, search.DEFAULT_PAGE_SIZE, 0)
        for category_id in first_pages
    ]
    await asyncio.gather(*(catalog.search(query) for query in pages))
    await catalog.warm_popular(WARM_PRODUCTS)
    log.info("cache warmed: %d categories, %d search pages", len(categories), len(pages))


async def _maintain(service: inventory.InventoryService, sessions: auth.SessionStore) -> None:
    """Every MAINTENANCE_INTERVAL_S: release expired reservations, restock what runs low,
    delete expired login sessions."""
    while True:
        await asyncio.sleep(MAINTENANCE_INTERVAL_S)
        try:
            await service.release_expired()
            await service.restock()
            await sessions.purge()
        except Exception:  # keep going; the next round retries
            log.exception("maintenance failed")


async def health(request: Request) -> Response:
    """Liveness: the process answers."""
    return json_response({"status": "ok"})


async def ready(request: Request) -> Response:
    """Readiness: the database and the cache answer."""
    database_ok = await request.app.state.db.ping()
    cache_ok = await request.app.state.cache.ping()
    ok = database_ok and cache_ok
    body = {"status": "ready" if ok else "not_ready", "database": database_ok, "cache": cache_ok}
    return json_response(body, 200 if ok else 503)


async def openapi_document(request: Request) -> Response:
    """The OpenAPI 3.1 document of every route."""
    return json_response(request.app.state.openapi)


async def _unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JsonResponse(error_body("internal_error", "the server failed this request"), 500)
