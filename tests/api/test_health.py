"""The operational endpoints of the real app: health, readiness, metrics, CORS and the dashboard."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from packgraph import app as app_module
from packgraph import metrics
from packgraph.app import create_app
from packgraph.domain import expiry
from packgraph.settings import Settings
from tests.databases import pg_admin
from tests.waiting import until


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan started, and an HTTP client talking to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def _settings(url: str, **changes) -> Settings:
    return Settings(database_url=url, expiry_interval_seconds=0, **changes)


async def test_healthz_and_readyz_answer_ok_with_a_database(database_url):
    async with running(create_app(_settings(database_url))) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json() == {"database": "ok", "broker": "connected"}


async def test_readyz_is_503_when_the_database_goes_away(postgres_url):
    async with running(create_app(_settings(postgres_url))) as client:
        assert (await client.get("/readyz")).status_code == 200
        name = postgres_url.rsplit("/", 1)[1]
        await pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        ready = await client.get("/readyz")
        health = await client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"
    # Liveness does not depend on the database: the process itself is fine.
    assert health.status_code == 200


async def test_metrics_are_prometheus_text(sqlite_url):
    async with running(create_app(_settings(sqlite_url))) as client:
        await client.get("/healthz")
        await client.get("/no/such/page")
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert text.endswith("\n")
    sample = re.compile(r'^[a-z_:][a-z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? \S+$')
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or sample.match(line), line
    assert "# TYPE packgraph_http_requests_total counter" in text
    assert 'packgraph_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "packgraph_broker_connected 1" in text
    assert "# TYPE packgraph_http_request_duration_seconds histogram" in text
    assert 'packgraph_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"}' in text
    for name in ("graphql_operations_total", "events_delivered_total", "websocket_connections"):
        assert f"# TYPE packgraph_{name}" in text
    # What lets an operator see a leak or a pause coming (issue 24).
    values = _samples(text)
    assert values["process_resident_memory_bytes"] > 10 * 2**20
    assert values["process_open_fds"] > 0
    for generation in "012":
        assert f'python_gc_collections_total{{generation="{generation}"}}' in values
        assert f'python_gc_pause_seconds_total{{generation="{generation}"}}' in values
        assert f'python_gc_pause_max_seconds{{generation="{generation}"}}' in values
    assert values['python_gc_objects_tracked{generation="2"}'] > 10_000
    for name in ("subscriptions", "buffered_events", "buffer_depth_max"):
        assert values[f"packgraph_live_{name}"] == 0


def _samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if not line.startswith("#")
    }


def test_callback_instruments_are_read_at_every_scrape():
    registry = metrics.Registry()
    readings = {("0",): 1.0, ("1",): 2.5}
    registry.register(
        metrics.Counter("t_collections_total", "Per generation.", ("generation",), lambda: readings)
    )
    registry.register(metrics.Gauge("t_level", "One value.", function=lambda: 7))
    first = registry.render()
    readings[("0",)] = 4.0
    assert 't_collections_total{generation="0"} 1' in first
    assert 't_collections_total{generation="1"} 2.5' in first
    assert "t_level 7" in first
    assert 't_collections_total{generation="0"} 4' in registry.render()


def test_metric_registry_counts_and_renders():
    registry = metrics.Registry()
    jobs = registry.register(metrics.Counter("t_jobs_total", "Jobs.", ("kind",)))
    depth = registry.register(metrics.Gauge("t_depth", 'A "gauge".'))
    jobs.inc(kind="a")
    jobs.inc(2, kind='b"c')
    depth.set(3.5)
    assert registry.register(metrics.Counter("t_jobs_total", "again", ("kind",))) is jobs
    with pytest.raises(ValueError):
        jobs.inc(-1, kind="a")
    with pytest.raises(ValueError):
        jobs.inc(wrong="a")
    assert registry.render() == (
        "# HELP t_jobs_total Jobs.\n"
        "# TYPE t_jobs_total counter\n"
        't_jobs_total{kind="a"} 1\n'
        't_jobs_total{kind="b\\"c"} 2\n'
        '# HELP t_depth A \\"gauge\\".\n'
        "# TYPE t_depth gauge\n"
        "t_depth 3.5\n"
    )


async def test_requests_are_logged_without_query_strings_or_tokens(sqlite_url, caplog):
    caplog.set_level(logging.INFO, logger="packgraph.http")
    async with running(create_app(_settings(sqlite_url))) as client:
        await client.get(
            "/graphql?query={ok}&token=hunter2",
            headers={"Authorization": "Bearer pgs_secret-token", "Accept": "application/json"},
        )
    lines = [record.getMessage() for record in caplog.records if record.name == "packgraph.http"]
    assert any(line.startswith("GET /graphql 200 ") for line in lines), lines
    assert all("198.51.100.7" in line for line in lines)
    assert not any("hunter2" in line or "pgs_secret" in line for line in lines)


async def test_cors_allows_only_the_configured_origins(sqlite_url):
    settings = _settings(sqlite_url, allowed_origins=("http://dashboard.test",))
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with running(create_app(settings)) as client:
        allowed = await client.options(
            "/graphql", headers={"Origin": "http://dashboard.test", **preflight}
        )
        refused = await client.options(
            "/graphql", headers={"Origin": "http://evil.test", **preflight}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://dashboard.test"
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def _dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root>dashboard</div>")
    (dist / "assets" / "app.js").write_text("console.log('app')")
    (dist / "favicon.svg").write_text("<svg/>")
    return dist


async def test_dashboard_routes_fall_back_to_index_html(sqlite_url, tmp_path):
    settings = _settings(sqlite_url, frontend_dist=str(_dist(tmp_path)))
    async with running(create_app(settings)) as client:
        root = await client.get("/")
        deep = await client.get("/packs/1")
        asset = await client.get("/assets/app.js")
        missing_asset = await client.get("/assets/nope.js")
        favicon = await client.get("/favicon.svg")
        escape = await client.get("/..%2f..%2fetc/passwd")
        graphiql = await client.get("/graphql", headers={"Accept": "text/html"})
    for response in (root, deep, escape):
        assert response.status_code == 200
        assert "dashboard" in response.text
    assert asset.text == "console.log('app')"
    assert missing_asset.status_code == 404
    assert favicon.text == "<svg/>"
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()


async def test_without_a_built_dashboard_the_root_page_points_to_graphql(sqlite_url, tmp_path):
    settings = _settings(sqlite_url, frontend_dist=str(tmp_path / "absent"))
    async with running(create_app(settings)) as client:
        root = await client.get("/")
        deep = await client.get("/packs/1")
    assert root.status_code == 200 and 'href="/graphql"' in root.text
    assert deep.status_code == 404


async def test_the_expiry_job_runs_periodically_and_survives_failures(sqlite_url, monkeypatch):
    calls: list[int] = []

    async def flaky(**_: object):
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database on fire")
        return {"expired": 0}

    monkeypatch.setattr(expiry, "process_expiries", flaky)
    monkeypatch.setattr(app_module, "expiry_interval", lambda settings: 0.01)
    errors_before = metrics.EXPIRY_RUNS.value(outcome="error")
    async with running(create_app(Settings(database_url=sqlite_url))):
        await until(lambda: len(calls) >= 3, 5, "three runs of the expiry job", interval=0.01)
    assert metrics.EXPIRY_RUNS.value(outcome="error") == errors_before + 1


async def test_the_expiry_job_is_off_when_the_interval_is_zero(sqlite_url, monkeypatch):
    calls: list[int] = []

    async def record(**_: object):
        calls.append(1)

    monkeypatch.setattr(expiry, "process_expiries", record)
    settings = Settings(database_url=sqlite_url, expiry_interval_seconds=0)
    monkeypatch.setattr(
        app_module, "expiry_interval", lambda s: 0.01 if s.expiry_interval_seconds else 0
    )
    async with running(create_app(settings)):
        await asyncio.sleep(0.1)
    assert calls == []
