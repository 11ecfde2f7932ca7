"""Real test databases: an SQLite file or a PostgreSQL database, built by the real migrations.

Migrations run once per test session into a template; each test gets a copy (a file copy for
SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL), so tests are isolated and fast.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from packgraph.db import tortoise_config
from packgraph.migrate import apply_migrations

PG_ADMIN_DSN = os.environ.get(
    "PACKGRAPH_TEST_PG_DSN", "postgres://postgres@127.0.0.1:5432/postgres"
)
PG_TEMPLATE = f"packgraph_tpl_{os.getpid()}"


class ServiceUnavailable(RuntimeError):
    pass


def pg_url(name: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def pg_admin(sql: str) -> None:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        raise ServiceUnavailable(f"PostgreSQL unreachable at {PG_ADMIN_DSN}: {error}") from error
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    forget_compiled_queries()
    await apply_migrations(url)
    await Tortoise.close_connections()


class DatabaseFactory:
    """Hands out fresh migrated databases of one backend and removes them afterwards."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self._template_ready = False
        self._created: list[str] = []

    async def _ensure_template(self) -> None:
        if self._template_ready:
            return
        if self.backend == "sqlite":
            await _migrate(f"sqlite://{self.workdir / 'template.sqlite3'}")
        else:
            await pg_admin(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}"')
            await pg_admin(f'CREATE DATABASE "{PG_TEMPLATE}"')
            await _migrate(pg_url(PG_TEMPLATE))
        self._template_ready = True

    async def create(self) -> str:
        """A new database URL holding the migrated, empty schema."""
        await self._ensure_template()
        if self.backend == "sqlite":
            path = self.workdir / f"db_{uuid.uuid4().hex[:10]}.sqlite3"
            shutil.copyfile(self.workdir / "template.sqlite3", path)
            return f"sqlite://{path}"
        name = f"packgraph_t_{uuid.uuid4().hex[:10]}"
        await pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{PG_TEMPLATE}"')
        self._created.append(name)
        return pg_url(name)

    async def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            path = Path(url.removeprefix("sqlite://"))
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            return
        name = url.rsplit("/", 1)[1]
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self._created:
            self._created.remove(name)

    async def close(self) -> None:
        if self.backend == "postgres" and self._template_ready:
            for name in list(self._created):
                await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await pg_admin(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)')


def forget_compiled_queries() -> None:
    """Tortoise caches compiled INSERTs per connection name, not per dialect: a process that moves
    from SQLite to PostgreSQL (as this test run does) must drop them."""
    EXECUTOR_CACHE.clear()


async def init_orm(url: str) -> None:
    forget_compiled_queries()
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
