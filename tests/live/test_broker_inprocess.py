"""Broker supervision in-process: Redis stops and starts again; nothing is lost."""

from __future__ import annotations

import asyncio

import pytest

from packgraph.domain.actor import Actor
from packgraph.domain.events import append_event, notifying
from packgraph.domain.transaction import write_transaction
from packgraph.live.hub import Hub
from packgraph.models import Business, EventType, Role
from packgraph.settings import Settings
from tests.live.services import RedisServer
from tests.waiting import until


async def _write(actor: Actor, count: int, *, hub: Hub) -> None:
    for _ in range(count):
        with notifying(hub.notify):
            async with write_transaction(actor.business_id) as connection:
                await append_event(connection, actor=actor, type=EventType.NOTE_ADDED)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_the_hub_polls_while_redis_is_away_and_listens_again_after(orm_sqlite, redis_server):
    sqlite_url = orm_sqlite
    clinic = await Business.create(name="Clinic")
    actor = Actor(business_id=clinic.id, role=Role.OWNER)
    settings = Settings(database_url=sqlite_url, broadcast_url=redis_server.url).with_overrides(
        live_poll_ms=200, broker_ping_ms=300
    )
    writer = Hub(settings)
    reader = Hub(settings)
    await reader.start()
    assert reader.broker_state == "connected"
    received = []

    async def consume():
        async for event in reader.stream(business_id=clinic.id):
            received.append(event.seq)

    consumer = asyncio.create_task(consume())
    await writer.start()
    try:
        await asyncio.sleep(0.1)
        await _write(actor, 3, hub=writer)
        await until(lambda: len(received) == 3, 3, "three events")
        redis_server.stop()
        await until(lambda: reader.broker_state == "reconnecting", 5, "the broker to be lost")
        await _write(actor, 3, hub=writer)
        await until(lambda: len(received) == 6, 3, "six events")
        redis_server.start()
        await until(lambda: reader.broker_state == "connected", 10, "the broker to be back")
        await _write(actor, 3, hub=writer)
        await until(lambda: len(received) == 9, 3, "nine events")
        assert received == list(range(1, 10))
    finally:
        consumer.cancel()
        await writer.stop()
        await reader.stop()
