"""The committed migrations build the schema from empty on both backends, are applied once even
by racing processes, and cover every model change (the missing-migration check)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

import packgraph.migrations
from packgraph.db import MODEL_MODULES, tortoise_config
from packgraph.migrate import apply_migrations_locked, asyncpg_dsn
from packgraph.models import __models__
from tests.conftest import require_service
from tests.databases import ServiceUnavailable, forget_compiled_queries, pg_admin, pg_url

MIGRATIONS = sorted(
    f"models.{path.stem}" for path in Path(packgraph.migrations.__file__).parent.glob("[0-9]*.py")
)
TABLES = {model._meta.db_table for model in __models__}


def _sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


async def _postgres_tables(url: str) -> set[str]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return {row["table_name"] for row in rows}
    finally:
        await connection.close()


async def _empty_postgres_database() -> str:
    name = f"packgraph_m_{uuid.uuid4().hex[:10]}"
    try:
        await pg_admin(f'CREATE DATABASE "{name}"')
    except ServiceUnavailable as error:
        require_service(error)
    return pg_url(name)


async def _migrate(url: str) -> list[str]:
    forget_compiled_queries()
    try:
        return await apply_migrations_locked(url)
    finally:
        await Tortoise.close_connections()


async def test_migrations_build_the_schema_from_empty_on_sqlite(tmp_path):
    path = tmp_path / "empty.sqlite3"
    assert await _migrate(f"sqlite://{path}") == MIGRATIONS
    assert TABLES <= _sqlite_tables(path)
    assert await _migrate(f"sqlite://{path}") == []


async def test_migrations_build_the_schema_from_empty_on_postgres():
    url = await _empty_postgres_database()
    try:
        assert await _migrate(url) == MIGRATIONS
        assert TABLES <= await _postgres_tables(url)
        assert await _migrate(url) == []
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def _race_two_migrations(url: str) -> list[str]:
    command = [sys.executable, "-m", "packgraph.cli", "--database-url", url, "migrate"]
    env = {**os.environ, "PACKGRAPH_LOG_LEVEL": "warning"}

    def run() -> list[subprocess.CompletedProcess]:
        processes = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        results = []
        for process in processes:
            stdout, stderr = process.communicate(timeout=60)
            results.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
        return results

    results = await asyncio.to_thread(run)
    for result in results:
        assert result.returncode == 0, result.stderr.decode()
    return [line for result in results for line in result.stdout.decode().splitlines()]


async def test_racing_migrate_processes_apply_each_migration_once_on_sqlite(tmp_path):
    path = tmp_path / "race.sqlite3"
    lines = await _race_two_migrations(f"sqlite://{path}")
    assert sorted(line for line in lines if line.startswith("applied")) == [
        f"applied {name}" for name in MIGRATIONS
    ]
    assert TABLES <= _sqlite_tables(path)


async def test_racing_migrate_processes_apply_each_migration_once_on_postgres():
    url = await _empty_postgres_database()
    try:
        lines = await _race_two_migrations(url)
        assert sorted(line for line in lines if line.startswith("applied")) == [
            f"applied {name}" for name in MIGRATIONS
        ]
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def _detected_changes(model_modules: list[str]) -> list[str]:
    """What ``tortoise makemigrations`` would write for these models, as operation names."""
    config = tortoise_config("sqlite://:memory:")
    config["apps"]["models"]["models"] = model_modules
    async with TortoiseContext() as context:
        await context.init(config=config)
        detector = MigrationAutodetector(context.apps, config["apps"])
        writers = await detector.changes()
    return [
        f"{type(operation).__name__} "
        f"{getattr(operation, 'model_name', '') or getattr(operation, 'name', '')}"
        for writer in writers
        for operation in writer.operations
    ]


async def test_every_model_change_has_a_migration():
    changes = await _detected_changes(MODEL_MODULES)
    assert changes == [], (
        "models changed without a migration: run "
        "`.venv/bin/tortoise -c packgraph.db.TORTOISE_ORM makemigrations --name <what>`"
    )


async def test_the_missing_migration_check_notices_a_new_model():
    changes = await _detected_changes([*MODEL_MODULES, "tests.unmigrated_model"])
    assert any("Unmigrated" in change for change in changes), changes


@pytest.mark.parametrize("url", ["postgres://u@h:5/db?minsize=1&maxsize=5", "asyncpg://u@h/db"])
def test_asyncpg_dsn_drops_pool_options(url):
    assert asyncpg_dsn(url).startswith("postgresql://u@h")
    assert "?" not in asyncpg_dsn(url)
