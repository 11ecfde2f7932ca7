"""Fixtures of the multi-process tests: a database migrated once by ``packgraph migrate``, a
private Redis, and the ORM in the test process (to build tenants and read the outbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from tortoise import Tortoise

from tests.databases import init_orm
from tests.live.services import RedisServer
from tests.multiprocess.cluster import MigratedDatabase


@pytest.fixture(scope="module")
def database() -> Iterator[MigratedDatabase]:
    created = MigratedDatabase.create()
    try:
        yield created
    finally:
        created.drop()


@pytest.fixture(scope="module")
def redis(tmp_path_factory) -> Iterator[RedisServer]:
    """A redis-server of this module's own (never the machine's shared one)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def orm(database: MigratedDatabase) -> AsyncIterator[str]:
    await init_orm(database.url)
    try:
        yield database.url
    finally:
        await Tortoise.close_connections()
