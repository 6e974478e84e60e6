"""What each simulated demo node answers when it is healthy: its routes and their JSON.

Pure data. :mod:`agent.demo.ecosystem` serves these over loopback HTTP and bends the answers
according to the fault schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from agent.demo.faults import JsonValue

Payload = Mapping[str, JsonValue | list[Mapping[str, JsonValue]]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    answer: Callable[[int], Payload]  # request number on this route -> JSON body


@dataclass(frozen=True, slots=True)
class Site:
    node: str
    routes: tuple[Route, ...]

    def route(self, method: str, path: str) -> Route | None:
        for route in self.routes:
            if route.method == method and route.path == path:
                return route
        return None


def _ok(_: int) -> Payload:
    return {"status": "ok"}


def _products(_: int) -> Payload:
    return {
        "products": [
            {"sku": "mug-01", "name": "Enamel mug", "price": 12.5, "currency": "EUR"},
            {"sku": "tee-02", "name": "Logo tee", "price": 24.0, "currency": "EUR"},
        ]
    }


def _cart(n: int) -> Payload:
    return {"id": f"cart-{n + 1}", "items": 1}


def _stock(_: int) -> Payload:
    return {"status": "ok", "skus": 2, "units": 140}


def _authorize(n: int) -> Payload:
    return {"status": "approved", "authorization": f"auth-{n + 1}"}


def _quote(carrier: str, price: float, eta_days: int) -> Callable[[int], Payload]:
    def answer(_: int) -> Payload:
        return {"carrier": carrier, "price": price, "currency": "EUR", "eta_days": eta_days}

    return answer


def _payments(node: str) -> Site:
    return Site(
        node,
        (
            Route("GET", "/v1/health", _ok),
            Route("POST", "/v1/authorize", _authorize),
            Route("GET", "/v1/authorize", _authorize),
        ),
    )


DEMO_SITES: Final = (
    Site(
        "storefront",
        (
            Route("GET", "/health", _ok),
            Route("GET", "/products", _products),
            Route("POST", "/cart", _cart),
        ),
    ),
    Site("inventory", (Route("GET", "/health", _stock),)),
    _payments("acme-pay"),
    _payments("backup-pay"),
    Site("fastship", (Route("GET", "/quote", _quote("fastship", 6.9, 1)),)),
    Site("slowfreight", (Route("GET", "/quote", _quote("slowfreight", 3.9, 4)),)),
)
