"""Shared fixtures: real databases of both backends, with the ORM initialised on them.

``db`` runs a test on SQLite and on PostgreSQL. A test that cannot reach PostgreSQL fails when
``CI=true`` (CI must prove the PostgreSQL path) and is skipped elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from tortoise import Tortoise

from tests.databases import DatabaseFactory, ServiceUnavailable, init_orm

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite", "postgres"]


def require_service(error: Exception) -> None:
    """Fail in CI, skip on a developer machine without the service."""
    if IN_CI:
        pytest.fail(f"required service unavailable in CI: {error}")
    pytest.skip(str(error))


@pytest.fixture(scope="session")
def database_factories(tmp_path_factory: pytest.TempPathFactory):
    factories = {
        backend: DatabaseFactory(backend, tmp_path_factory.mktemp(f"db_{backend}"))
        for backend in BACKENDS
    }
    yield factories
    import asyncio

    for factory in factories.values():
        try:
            asyncio.run(factory.close())
        except ServiceUnavailable:
            pass


async def fresh_database(factory: DatabaseFactory) -> str:
    try:
        return await factory.create()
    except ServiceUnavailable as error:
        require_service(error)
        raise


@pytest.fixture(params=BACKENDS)
async def database_url(request, database_factories) -> AsyncIterator[str]:
    """A fresh, migrated, empty database of each backend; dropped afterwards."""
    factory = database_factories[request.param]
    url = await fresh_database(factory)
    yield url
    await factory.drop(url)


@pytest.fixture
async def sqlite_url(database_factories) -> AsyncIterator[str]:
    factory = database_factories["sqlite"]
    url = await fresh_database(factory)
    yield url
    await factory.drop(url)


@pytest.fixture
async def postgres_url(database_factories) -> AsyncIterator[str]:
    factory = database_factories["postgres"]
    url = await fresh_database(factory)
    yield url
    await factory.drop(url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """The ORM initialised on a fresh database of each backend (domain tests use this)."""
    await init_orm(database_url)
    try:
        yield database_url
    finally:
        await Tortoise.close_connections()
