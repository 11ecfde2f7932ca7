"""Apply the committed migrations (``packgraph migrate``, ``make run`` and the test databases)."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise.migrations.api.migrate import migrate

from packgraph.db import is_postgres, tortoise_config

# Any constant works: it only has to be the same in every process that migrates this database.
MIGRATION_LOCK_KEY = 0x7061636B  # "pack"


async def apply_migrations(database_url: str) -> None:
    """Bring ``database_url`` to the latest migration. Leaves Tortoise initialised on it."""
    await migrate(config=tortoise_config(database_url))


def asyncpg_dsn(database_url: str) -> str:
    """A plain libpq DSN for asyncpg: Tortoise's pool options (minsize, ...) are dropped."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite://")


@asynccontextmanager
async def migration_lock(database_url: str) -> AsyncIterator[None]:
    """Hold a lock that every process migrating ``database_url`` takes, so they never race.

    PostgreSQL: a session-level advisory lock on a connection of its own (released when that
    connection closes, even if this process dies). SQLite: an exclusive ``flock`` on a file next
    to the database (released by the kernel when the process exits).
    """
    if is_postgres(database_url):
        connection = await asyncpg.connect(asyncpg_dsn(database_url), timeout=10)
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            try:
                yield
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        finally:
            await connection.close()
        return
    path = sqlite_path(database_url)
    if path in {"", ":memory:"}:
        yield
        return
    descriptor = os.open(f"{path}.migrate-lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


async def apply_migrations_locked(database_url: str) -> list[str]:
    """Apply pending migrations under :func:`migration_lock`; returns the ones this run applied.

    A second process that started at the same time waits for the lock, then finds nothing to do.
    Leaves Tortoise initialised on ``database_url``.
    """
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    async with migration_lock(database_url):
        await migrate(config=tortoise_config(database_url), progress=progress)
    return applied
