"""create_app(settings) -> the Starlette application: GraphQL, health, metrics and the dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from packgraph import metrics, runtime_metrics
from packgraph.db import config_from_settings
from packgraph.domain import expiry
from packgraph.domain.events import notifying
from packgraph.live.hub import Hub
from packgraph.middleware import NotifierMiddleware, RequestLogMiddleware
from packgraph.server.endpoint import make_graphql_app
from packgraph.settings import Settings

log = logging.getLogger("packgraph")

REPO_ROOT = Path(__file__).resolve().parents[2]

NO_DASHBOARD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>packgraph</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>packgraph is running</h1>
<p>The dashboard has not been built (no <code>frontend/dist</code>): run <code>make run</code>.</p>
<p>The GraphQL API and GraphiQL are at <a href="/graphql">/graphql</a>.</p>
</body></html>
"""


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


async def run_expiry_once() -> bool:
    """One run of expiry processing (SPEC §1.7). Never raises: a failure is logged and counted.

    Safe with any number of server processes: ``process_expiries`` moves each pack exactly once
    through conditional updates, so concurrent runs only split the work.
    """
    try:
        report = await expiry.process_expiries()
    except Exception:
        metrics.EXPIRY_RUNS.inc(outcome="error")
        log.exception("expiry job failed; it runs again at the next interval")
        return False
    metrics.EXPIRY_RUNS.inc(outcome="ok")
    summary = dataclasses.asdict(report) if dataclasses.is_dataclass(report) else report
    log.info("expiry job: %s", summary)
    return True


def expiry_interval(settings: Settings) -> float:
    """Seconds between expiry runs; 0 turns the job off."""
    return float(max(settings.expiry_interval_seconds, 0))


async def _expire_periodically(interval_seconds: float) -> None:
    # The first run waits a full interval: a process that restarts often does no extra work,
    # and tests that start the app never race the job.
    while True:
        await asyncio.sleep(interval_seconds)
        await run_expiry_once()


@contextlib.asynccontextmanager
async def _background(coroutine_factory, enabled: bool) -> AsyncIterator[None]:
    task = asyncio.create_task(coroutine_factory()) if enabled else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _dashboard_routes(dist: Path) -> list:
    if not (dist / "index.html").exists():

        async def no_dashboard(request: Request) -> Response:
            return HTMLResponse(NO_DASHBOARD_PAGE)

        return [Route("/", no_dashboard)]

    index = dist / "index.html"
    root = dist.resolve()

    async def spa(request: Request) -> Response:
        # A real file at the top of dist (favicon, robots.txt) is served as itself; every other
        # path is a client-side route (/packs/12, /today) and loads the dashboard's index.html.
        candidate = (dist / request.path_params["path"]).resolve()
        if candidate.is_file() and candidate.is_relative_to(root) and candidate != index.resolve():
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    routes: list = []
    if (dist / "assets").is_dir():
        routes.append(Mount("/assets", StaticFiles(directory=dist / "assets"), name="assets"))
    routes.append(Route("/{path:path}", spa))
    return routes


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app. Nothing touches the database until the lifespan starts."""
    settings = settings or Settings.from_env()
    runtime_metrics.install()
    hub = Hub(settings)
    graphql = make_graphql_app(settings, hub=hub)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Compiled INSERTs are cached per connection name; a process that serves several apps
        # (tests) must not reuse another backend's SQL.
        EXECUTOR_CACHE.clear()
        await Tortoise.init(config=config_from_settings(settings), _enable_global_fallback=True)
        try:
            await hub.start()
            try:
                interval = expiry_interval(settings)
                # The expiry job (and code run in the lifespan's task) wakes this app's hub.
                with notifying(hub.notify):
                    async with _background(lambda: _expire_periodically(interval), interval > 0):
                        yield
            finally:
                await hub.stop()
        finally:
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

    async def metrics_endpoint(request: Request) -> Response:
        metrics.BROKER_CONNECTED.set(1 if hub.ready else 0)
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    routes: list = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/graphql", graphql, methods=["GET", "POST", "OPTIONS"]),
        WebSocketRoute("/graphql", graphql),
        *_dashboard_routes(frontend_dist(settings)),
    ]
    middleware = [
        Middleware(RequestLogMiddleware),
        Middleware(NotifierMiddleware, notifier=hub.notify),
        # The dashboard is normally served by this app (same origin); CORS only matters when it
        # is served elsewhere (a Vite dev server), and then only for the configured origins.
        # Tokens travel in the Authorization header, never in cookies: no credentials mode.
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            max_age=600,
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.settings = settings
    app.state.hub = hub
    return app
