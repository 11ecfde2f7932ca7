"""Several server processes on PostgreSQL: wake-ups over Redis or PostgreSQL LISTEN/NOTIFY, and a
broker that goes away and comes back without an event lost, duplicated or reordered."""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg
import httpx
import pytest

from tests.api.support import gid, given_catalog, given_pack, make_tenant
from tests.live.client import PACK_EVENTS, GraphQLWebSocket, Http
from tests.live.services import RedisServer, Server, start_all
from tests.waiting import until

DETAILED = PACK_EVENTS.replace("cursor type", "cursor type details")
# Fast supervision, so a test sees a lost broker within a second and polls every 200 ms.
SUPERVISION = {"live_poll_ms": 200, "broker_ping_ms": 300}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="module")
def redis_servers(module_postgres_url, redis_server, tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    servers = [
        Server(
            database_url=module_postgres_url,
            broadcast_url=redis_server.url,
            log_path=logs / f"server-{name}.log",
            **SUPERVISION,
        )
        for name in "ab"
    ]
    start_all(*servers)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def postgres_servers(module_postgres_url, tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    servers = [
        Server(
            database_url=module_postgres_url,
            broadcast_url=module_postgres_url,
            log_path=logs / f"server-{name}.log",
            **SUPERVISION,
        )
        for name in "ab"
    ]
    start_all(*servers)
    yield servers
    for server in servers:
        server.stop()


async def _clinic():
    tenant = await make_tenant("Chain")
    catalog = await given_catalog(tenant)
    sale = await given_pack(tenant, catalog)
    return tenant, gid("Pack", sale.pack.id)


def _broker_state(server: Server):
    async def state() -> str:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{server.http}/readyz", timeout=5)).json()["broker"]

    return state


async def _subscribers(stack, servers, token, count_per_server: int):
    sockets = []
    for server in servers:
        for _ in range(count_per_server):
            socket = await stack.enter_async_context(GraphQLWebSocket.connect(server.ws, token))
            await socket.subscribe("events", DETAILED)
            sockets.append(socket)
    await asyncio.sleep(0.3)
    return sockets


async def _texts(socket, count: int, within: float = 10) -> list[str]:
    return [event["details"]["text"] for event in await socket.events("events", count, within)]


async def test_a_mutation_through_one_server_reaches_subscribers_of_the_other(
    orm_postgres, redis_servers
):
    tenant, pack_id = await _clinic()
    first, second = redis_servers
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _subscribers(stack, redis_servers, tenant.owner_token, 2)
        clients = [Http(first.http), Http(second.http)]
        for number in range(10):
            started = time.perf_counter()
            await clients[number % 2].add_note(pack_id, f"n{number}", token=tenant.staff_token)
            if number == 0:
                # Through the broker, not the poll: well under the safety poll's 10 seconds.
                for socket in sockets:
                    assert await _texts(socket, 1) == ["n0"]
                assert time.perf_counter() - started < 2
        for socket in sockets:
            assert await _texts(socket, 9) == [f"n{number}" for number in range(1, 10)]
        for client in clients:
            await client.close()


async def test_redis_going_away_mid_stream_delays_events_but_loses_none(
    orm_postgres, redis_servers, redis_server
):
    tenant, pack_id = await _clinic()
    first, second = redis_servers
    total = 30
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _subscribers(stack, redis_servers, tenant.integration_token, 2)
        clients = [Http(first.http), Http(second.http)]
        for number in range(total):
            if number == 10:
                redis_server.stop()
                await until(lambda: _is(_broker_state(second), "reconnecting"), 10, "broker lost")
            if number == 20:
                redis_server.start()
                for server in redis_servers:
                    await until(
                        lambda server=server: _is(_broker_state(server), "connected"),
                        15,
                        "broker back",
                    )
            # Queries and mutations keep working on both servers meanwhile.
            await clients[number % 2].add_note(pack_id, f"n{number}", token=tenant.staff_token)
            await asyncio.sleep(0.05)
        expected = [f"n{number}" for number in range(total)]
        for socket in sockets:
            assert await _texts(socket, total, within=15) == expected
            assert await socket.nothing_for("events", 0.3)
        for client in clients:
            await client.close()


async def _is(check, expected: str) -> bool:
    return await check() == expected


async def _reconnected(server: Server) -> bool:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{server.http}/metrics", timeout=5)).text
    return any(
        line.startswith("packgraph_broker_reconnects_total ") and float(line.split()[1]) >= 1
        for line in text.splitlines()
    )


async def test_postgres_listen_notify_carries_wakeups_and_survives_a_dropped_connection(
    orm_postgres, postgres_servers
):
    tenant, pack_id = await _clinic()
    first, second = postgres_servers
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _subscribers(stack, postgres_servers, tenant.owner_token, 2)
        clients = [Http(first.http), Http(second.http)]
        started = time.perf_counter()
        await clients[0].add_note(pack_id, "n0", token=tenant.staff_token)
        for socket in sockets:
            assert await _texts(socket, 1) == ["n0"]
        assert time.perf_counter() - started < 2
        # The LISTEN connections drop (a PostgreSQL restart or failover looks like this).
        await _drop_listen_connections(orm_postgres)
        for number in range(1, 10):
            await clients[number % 2].add_note(pack_id, f"n{number}", token=tenant.staff_token)
            await asyncio.sleep(0.05)
        for server in postgres_servers:
            await until(lambda server=server: _reconnected(server), 15, "a reconnect")
            await until(lambda server=server: _is(_broker_state(server), "connected"), 15, "back")
        await clients[1].add_note(pack_id, "n10", token=tenant.staff_token)
        for socket in sockets:
            assert await _texts(socket, 10) == [f"n{number}" for number in range(1, 11)]
        for client in clients:
            await client.close()


async def _drop_listen_connections(database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(database_url)
    try:
        dropped = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid() "
            "AND (query LIKE 'LISTEN%' OR query LIKE '%pg_notify%')",
            name,
        )
    finally:
        await admin.close()
    assert dropped >= 2
