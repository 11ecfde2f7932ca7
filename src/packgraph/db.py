"""Tortoise configuration: one place that turns a database URL into an ORM config."""

from __future__ import annotations

from typing import Any

from packgraph.settings import Settings

MODEL_MODULES = ["packgraph.models"]
MIGRATIONS_MODULE = "packgraph.migrations"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def tortoise_config(database_url: str, *, pool_min: int = 1, pool_max: int = 10) -> dict[str, Any]:
    """The Tortoise config dict for ``database_url`` (used by the app, the CLI and the tests)."""
    if is_postgres(database_url):
        url = database_url.replace("postgresql://", "postgres://", 1)
        separator = "&" if "?" in url else "?"
        if "minsize" not in url:
            url += f"{separator}minsize={pool_min}&maxsize={pool_max}"
        connection: Any = url
    elif database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://")
        connection = {
            "engine": "tortoise.backends.sqlite",
            "credentials": {
                "file_path": path,
                # WAL lets readers in other processes run while one writes; a busy writer waits
                # instead of failing at once.
                "journal_mode": "WAL",
                "journal_size_limit": 16384,
                "foreign_keys": "ON",
                "busy_timeout": 15000,
            },
        }
    else:
        raise ValueError(f"unsupported database URL {database_url!r}: use sqlite:// or postgres://")
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def config_from_settings(settings: Settings) -> dict[str, Any]:
    return tortoise_config(
        settings.database_url, pool_min=settings.db_pool_min, pool_max=settings.db_pool_max
    )


# Read by `tortoise makemigrations -c packgraph.db.TORTOISE_ORM`.
TORTOISE_ORM = config_from_settings(Settings.from_env())


def database_unavailable(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) means the database cannot be reached: refused or
    dropped connections, timeouts, a server shutting down. Such a failure is not a bug: the
    API answers it with SERVICE_UNAVAILABLE (503), and the request can be retried."""
    import asyncpg
    from tortoise.exceptions import DBConnectionError

    unreachable = (
        OSError,  # refused, reset, timed out (TimeoutError is an OSError)
        DBConnectionError,
        asyncpg.exceptions.ConnectionDoesNotExistError,
        asyncpg.exceptions.CannotConnectNowError,
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.ConnectionFailureError,
        asyncpg.exceptions.TooManyConnectionsError,
    )
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, unreachable):
            return True
        # a pooled connection whose socket died ("connection is closed"); other interface
        # errors are bugs
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
