"""create_app(settings) -> the Starlette application: GraphQL, health, metrics and the dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from packgraph.db import config_from_settings
from packgraph.live.hub import Hub
from packgraph.resolvers.endpoint import make_graphql_app
from packgraph.settings import Settings

log = logging.getLogger("packgraph")

REPO_ROOT = Path(__file__).resolve().parents[2]


def frontend_dist(settings: Settings) -> Path:
    return Path(settings.frontend_dist) if settings.frontend_dist else REPO_ROOT / "frontend/dist"


async def _database_reachable() -> bool:
    try:
        connection = Tortoise.get_connection("default")
        await asyncio.wait_for(connection.execute_query("SELECT 1"), timeout=2)
    except Exception:  # any failure means "not ready"; the reason is logged, not shown
        log.warning("readiness: database unreachable", exc_info=True)
        return False
    return True


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app. Nothing touches the database until the lifespan starts."""
    settings = settings or Settings.from_env()
    hub = Hub(settings)
    graphql = make_graphql_app(settings, hub=hub)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Compiled INSERTs are cached per connection name; a process that serves several apps
        # (tests) must not reuse another backend's SQL.
        EXECUTOR_CACHE.clear()
        await Tortoise.init(config=config_from_settings(settings), _enable_global_fallback=True)
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await Tortoise.close_connections()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        database = await _database_reachable()
        broker = hub.ready
        body = {
            "database": "ok" if database else "unreachable",
            "broker": hub.broker_state,
        }
        return JSONResponse(body, status_code=200 if database and broker else 503)

    async def metrics(request: Request) -> Response:
        lines = [
            "# HELP packgraph_broker_connected 1 when the broadcast broker is connected.",
            "# TYPE packgraph_broker_connected gauge",
            f"packgraph_broker_connected {1 if hub.ready else 0}",
        ]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    routes: list = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/graphql", graphql, methods=["GET", "POST", "OPTIONS"]),
        WebSocketRoute("/graphql", graphql),
    ]
    dist = frontend_dist(settings)
    if (dist / "index.html").exists():
        index = dist / "index.html"

        async def spa(request: Request) -> Response:
            # Client-side routes (/packs/12, /today) all load the dashboard's index.html.
            return FileResponse(index)

        if (dist / "assets").is_dir():
            routes.append(Mount("/assets", StaticFiles(directory=dist / "assets"), name="assets"))
        routes.append(Route("/{path:path}", spa))

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.hub = hub
    return app
