"""How agents call each other: in-process by default, over HTTP when an agent runs elsewhere.

Each dependency is a small protocol. In one process the agent's service object is the client
(a method call, no serialisation). When `settings.agent_urls` names an agent, its client is
an HTTP client with one pooled aiohttp session per agent and a circuit breaker per
dependency: connection failures, timeouts and 5xx answers count as failures; the agent's 4xx
answers are its business answers and come back as the same `ApiError`s as in-process.

A call made while serving a logged-in user's request carries that user's token
(`forward_credentials`, set by the auth check), so the remote agent authorises it as the
user's own request: agents trust the user's credentials, not each other.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
import orjson

from reference_backend.api import ApiError
from reference_backend.db import OrderRow, ProductQuery, ProductRow
from reference_backend.messages import PaymentOutcome, PaymentRequest, PriceQuote
from reference_backend.metrics import BackendMetrics
from reference_backend.resilience import CircuitBreaker, CircuitOpenError

CONNECTIONS_PER_AGENT = 100
AGENT_NAMES = ("catalog", "inventory", "pricing", "cart", "orders", "payments")
_FORWARDED_TOKEN: ContextVar[str | None] = ContextVar("forwarded_token", default=None)


def forward_credentials(token: str | None) -> None:
    """Makes the agent calls of the current request carry this bearer token."""
    _FORWARDED_TOKEN.set(token)


class CatalogClient(Protocol):
    """Products and search, from the product search agent."""

    async def product(self, product_id: int) -> ProductRow: ...
    async def search(self, query: ProductQuery) -> dict[str, Any]: ...


class InventoryClient(Protocol):
    """Reservations, from the inventory agent."""

    async def reserve(self, lines: list[tuple[int, int]]) -> str: ...
    async def release(self, reservation_id: str) -> None: ...


class PricingClient(Protocol):
    """Price quotes, from the pricing agent."""

    async def quote(self, product_id: int) -> PriceQuote: ...


class CartClient(Protocol):
    """A user's cart, from the cart agent."""

    async def view(self, user_id: int) -> dict[str, Any]: ...


class OrdersClient(Protocol):
    """Orders, from the orders agent."""

    async def order(self, order_id: int) -> OrderRow: ...
    async def user_orders(self, user_id: int, limit: int) -> list[OrderRow]: ...


class PaymentsClient(Protocol):
    """Charges, from the payments agent."""

    async def charge(
        self, request: PaymentRequest, idempotency_key: str | None
    ) -> PaymentOutcome: ...


class _DependencyFailure(Exception):
    """A 5xx answer: the agent failed, which the breaker counts."""


class AgentHttp:
    """One remote agent: a pooled aiohttp session behind a circuit breaker."""

    def __init__(self, name: str, base_url: str, timeout_s: float, metrics: BackendMetrics) -> None:
        self.name = name
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self.breaker = CircuitBreaker(f"agent:{name}", metrics=metrics)

    def _open_session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop that will use it.
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=CONNECTIONS_PER_AGENT, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                json_serialize=lambda v: orjson.dumps(v).decode(),
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        accept: tuple[int, ...] = (),
    ) -> tuple[int, Any, dict[str, str]]:
        """Returns (status, JSON body, headers); 4xx not in `accept` raise the agent's ApiError."""
        session = self._open_session()
        token = _FORWARDED_TOKEN.get()
        if token is not None:
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}

        async def call() -> tuple[int, Any, dict[str, str]]:
            async with session.request(
                method, self._base_url + path, json=body, headers=headers
            ) as response:
                raw = await response.read()
                if response.status >= 500:
                    raise _DependencyFailure(f"{self.name} answered {response.status}")
                return response.status, orjson.loads(raw) if raw else None, dict(response.headers)

        try:
            status, payload, answer_headers = await self.breaker.call(call)
        except CircuitOpenError as error:
            raise ApiError(
                503,
                "dependency_unavailable",
                f"the {self.name} agent is failing; retry in {error.retry_after_s:.1f} s",
                headers={"Retry-After": str(max(1, round(error.retry_after_s)))},
            ) from None
        except (aiohttp.ClientError, TimeoutError, _DependencyFailure) as error:
            raise ApiError(
                502, "dependency_failed", f"the {self.name} agent failed: {error}"
            ) from None
        if status >= 400 and status not in accept:
            detail = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
            raise ApiError(
                status,
                str(detail.get("code", "dependency_error")),
                str(detail.get("message", f"the {self.name} agent answered {status}")),
            )
        return status, payload, answer_headers

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class HttpCatalog:
    """The catalog (product search agent) over HTTP."""

    def __init__(self, http: AgentHttp) -> None:
        self._http = http

    async def product(self, product_id: int) -> ProductRow:
        _, body, _ = await self._http.request("GET", f"/api/products/{product_id}")
        return body  # type: ignore[no-any-return]

    async def search(self, query: ProductQuery) -> dict[str, Any]:
        params: dict[str, Any] = {
            "q": " ".join(query.terms),
            "min_price": query.min_price_cents / 100,
            "max_price": query.max_price_cents / 100,
            "page": query.offset // query.limit + 1,
            "page_size": query.limit,
        }
        if query.category_id is not None:
            params["category"] = query.category_id
        _, body, _ = await self._http.request("GET", f"/api/products/search?{urlencode(params)}")
        return {"items": body["items"], "has_more": body["has_more"]}


class HttpInventory:
    """The inventory agent over HTTP."""

    def __init__(self, http: AgentHttp) -> None:
        self._http = http

    async def reserve(self, lines: list[tuple[int, int]]) -> str:
        items = [{"product_id": p, "quantity": q} for p, q in lines]
        _, body, _ = await self._http.request(
            "POST", "/api/inventory/reservations", body={"items": items}
        )
        return str(body["reservation_id"])

    async def release(self, reservation_id: str) -> None:
        await self._http.request("DELETE", f"/api/inventory/reservations/{reservation_id}")


class HttpPricing:
    """The pricing agent over HTTP."""

    def __init__(self, http: AgentHttp) -> None:
        self._http = http

    async def quote(self, product_id: int) -> PriceQuote:
        _, body, _ = await self._http.request("GET", f"/api/pricing/{product_id}")
        return body  # type: ignore[no-any-return]


class HttpCart:
    """The cart agent over HTTP."""

    def __init__(self, http: AgentHttp) -> None:
        self._http = http

    async def view(self, user_id: int) -> dict[str, Any]:
        _, body, _ = await self._http.request("GET", f"/api/cart/{user_id}")
        return body  # type: ignore[no-any-return]


class HttpOrders:
    """The orders agent over HTTP."""

    def __init__(self, http: AgentHttp) -> None:
        self._http = http

    async def order(self, order_id: int) -> OrderRow:
        _, body, _ = await self._http.request("GET", f"/api/orders/{order_id}")
        return body  # type: ignore[no-any-return]

    async def user_orders(self, user_id: int, limit: int) -> list[OrderRow]:
        _, body, _ = await self._http.request("GET", f"/api/users/{user_id}/orders?limit={limit}")
        return body["items"]  # type: ignore[no-any-return]


class HttpPayments:
    """The payments agent over HTTP; a decline (402) is an answer, not an error."""

    def __init__(self, http: AgentHttp) -> None:
        self._http = http

    async def charge(self, request: PaymentRequest, idempotency_key: str | None) -> PaymentOutcome:
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        status, body, answer_headers = await self._http.request(
            "POST", "/api/payments", body=request.model_dump(), headers=headers, accept=(402,)
        )
        replayed = answer_headers.get("Idempotent-Replayed") == "true"
        return PaymentOutcome(status, body, replayed)


@dataclass(slots=True)
class AgentClients:
    """The agents one agent may call, each in-process or remote."""

    catalog: CatalogClient
    inventory: InventoryClient
    pricing: PricingClient
    cart: CartClient
    payments: PaymentsClient
    orders: OrdersClient | None = None
    """Set once the orders agent exists (it is itself a client of the others)."""

    def require_orders(self) -> OrdersClient:
        """The orders client; it is always set before the app serves."""
        if self.orders is None:
            raise RuntimeError("the orders client is not wired yet")
        return self.orders


@dataclass(slots=True)
class RemoteAgents:
    """The HTTP clients for the agents `settings.agent_urls` names (the rest stay in-process)."""

    catalog: HttpCatalog | None = None
    inventory: HttpInventory | None = None
    pricing: HttpPricing | None = None
    cart: HttpCart | None = None
    orders: HttpOrders | None = None
    payments: HttpPayments | None = None
    connections: tuple[AgentHttp, ...] = ()

    async def aclose(self) -> None:
        """Closes every pooled session."""
        for http in self.connections:
            await http.aclose()


def remote_agents(
    agent_urls: tuple[tuple[str, str], ...], timeout_s: float, metrics: BackendMetrics
) -> RemoteAgents:
    """Builds an HTTP client for each named agent; unknown names are a ValueError."""
    remote = RemoteAgents()
    kinds = {
        "catalog": HttpCatalog,
        "inventory": HttpInventory,
        "pricing": HttpPricing,
        "cart": HttpCart,
        "orders": HttpOrders,
        "payments": HttpPayments,
    }
    connections = []
    for name, url in agent_urls:
        if name not in kinds:
            raise ValueError(
                f"unknown agent {name!r} in agent_urls; known: {', '.join(AGENT_NAMES)}"
            )
        http = AgentHttp(name, url, timeout_s, metrics)
        connections.append(http)
        setattr(remote, name, kinds[name](http))
    remote.connections = tuple(connections)
    return remote
