"""Apply the committed migrations (``packgraph migrate``, ``make run`` and the test databases)."""

from __future__ import annotations

from tortoise.migrations.api.migrate import migrate

from packgraph.db import tortoise_config


async def apply_migrations(database_url: str) -> None:
    """Bring ``database_url`` to the latest migration. Leaves Tortoise initialised on it."""
    await migrate(config=tortoise_config(database_url))
