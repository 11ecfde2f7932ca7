"""Fixtures of the live tests: databases shared by a module's server processes, and the ORM in
the test process (to build tenants and read the outbox)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from tortoise import Tortoise

from tests.conftest import require_service
from tests.databases import DatabaseFactory, ServiceUnavailable, init_orm


def _module_database(factory: DatabaseFactory) -> Iterator[str]:
    try:
        url = asyncio.run(factory.create())
    except ServiceUnavailable as error:
        require_service(error)
        raise
    yield url
    asyncio.run(factory.drop(url))


@pytest.fixture(scope="module")
def module_sqlite_url(database_factories) -> Iterator[str]:
    yield from _module_database(database_factories["sqlite"])


@pytest.fixture(scope="module")
def module_postgres_url(database_factories) -> Iterator[str]:
    yield from _module_database(database_factories["postgres"])


async def open_orm(url: str) -> None:
    await init_orm(url)


@pytest.fixture
async def orm_sqlite(module_sqlite_url: str) -> AsyncIterator[str]:
    await init_orm(module_sqlite_url)
    try:
        yield module_sqlite_url
    finally:
        await Tortoise.close_connections()


@pytest.fixture
async def orm_postgres(module_postgres_url: str) -> AsyncIterator[str]:
    await init_orm(module_postgres_url)
    try:
        yield module_postgres_url
    finally:
        await Tortoise.close_connections()
