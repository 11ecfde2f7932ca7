"""Request logging and request metrics, and the hub's notifier handed to the domain, as plain ASGI
middleware (safe for WebSockets too)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from packgraph import metrics
from packgraph.domain.events import Notifier, notifying

log = logging.getLogger("packgraph.http")


def _route_label(scope: Scope) -> str:
    """The matched route's path template, so metric labels stay few (``/graphql``, not ids)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path == "/{path:path}":
        return "/ (dashboard)"
    return path or "unmatched"


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "-"


class RequestLogMiddleware:
    """One log line and one metric sample per HTTP request; WebSocket connections are counted.

    Only the method, the path (never the query string), the status, the duration and the client
    address are logged: no headers, so no bearer token, and no request body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(scope)
            metrics.HTTP_REQUESTS.inc(method=scope["method"], route=route, status=str(status))
            metrics.HTTP_REQUEST_SECONDS.observe(elapsed, route=route)
            level = logging.DEBUG if route in {"/healthz", "/readyz", "/metrics"} else logging.INFO
            log.log(
                level,
                "%s %s %s %.1fms %s",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                _client(scope),
            )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        metrics.WEBSOCKET_CONNECTIONS.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            metrics.WEBSOCKET_CONNECTIONS.dec()
            log.info(
                "WS %s closed after %.1fs %s",
                scope["path"],
                time.perf_counter() - started,
                _client(scope),
            )


class NotifierMiddleware:
    """Every request and WebSocket of the app wakes the app's own hub after its writes commit.

    Bound per connection (a ContextVar, copied into the tasks the connection starts), so another
    app in the same process keeps its own hub.
    """

    def __init__(self, app: ASGIApp, notifier: Notifier) -> None:
        self.app = app
        self.notifier = notifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with notifying(self.notifier):
            await self.app(scope, receive, send)
