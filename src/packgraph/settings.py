"""One frozen Settings object, read from ``PACKGRAPH_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any


class SettingsError(ValueError):
    """A ``PACKGRAPH_*`` variable holds a value that cannot be used."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"expected a boolean, got {raw!r}")


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment. The defaults run a demo on one machine."""

    database_url: str = field(
        default="sqlite://packgraph.db",
        metadata={
            "env": "DATABASE_URL",
            "doc": "Tortoise database URL (sqlite:// or postgres://).",
        },
    )
    broadcast_url: str = field(
        default="memory://",
        metadata={
            "env": "BROADCAST_URL",
            "doc": "broadcaster URL: memory://, redis://, postgres://.",
        },
    )
    host: str = field(default="127.0.0.1", metadata={"env": "HOST", "doc": "Address to bind."})
    port: int = field(default=8000, metadata={"env": "PORT", "doc": "Port to bind."})
    allowed_origins: tuple[str, ...] = field(
        default=("http://127.0.0.1:8000", "http://localhost:8000"),
        metadata={
            "env": "ALLOWED_ORIGINS",
            "doc": "Comma-separated origins allowed for CORS and WebSocket connections.",
        },
    )
    log_level: str = field(default="info", metadata={"env": "LOG_LEVEL", "doc": "Log level."})
    db_pool_min: int = field(
        default=1,
        metadata={"env": "DB_POOL_MIN", "doc": "Minimum PostgreSQL pool size per process."},
    )
    db_pool_max: int = field(
        default=10,
        metadata={"env": "DB_POOL_MAX", "doc": "Maximum PostgreSQL pool size per process."},
    )
    session_ttl_hours: int = field(
        default=12, metadata={"env": "SESSION_TTL_HOURS", "doc": "Lifetime of a staff login token."}
    )
    login_max_attempts: int = field(
        default=10,
        metadata={
            "env": "LOGIN_MAX_ATTEMPTS",
            "doc": "Failed logins allowed per email and per address within the window.",
        },
    )
    login_window_seconds: int = field(
        default=900,
        metadata={"env": "LOGIN_WINDOW_SECONDS", "doc": "Window of the login rate limit."},
    )
    max_body_bytes: int = field(
        default=1_000_000,
        metadata={"env": "MAX_BODY_BYTES", "doc": "Largest accepted GraphQL request body."},
    )
    max_query_depth: int = field(
        default=12, metadata={"env": "MAX_QUERY_DEPTH", "doc": "Deepest accepted GraphQL query."}
    )
    max_query_tokens: int = field(
        default=2000, metadata={"env": "MAX_QUERY_TOKENS", "doc": "Most tokens in one document."}
    )
    max_aliases: int = field(
        default=30, metadata={"env": "MAX_ALIASES", "doc": "Most aliases in one document."}
    )
    max_subscriptions_per_connection: int = field(
        default=20,
        metadata={"env": "MAX_SUBSCRIPTIONS", "doc": "Subscriptions one WebSocket may hold."},
    )
    live_buffer_size: int = field(
        default=500,
        metadata={
            "env": "LIVE_BUFFER_SIZE",
            "doc": "Events buffered per subscription; one that falls further behind catches up "
            "from the outbox.",
        },
    )
    live_max_lag_ms: int = field(
        default=30000,
        metadata={
            "env": "LIVE_MAX_LAG_MS",
            "doc": "How long a subscription may stay behind before it is ended with "
            "SUBSCRIBER_TOO_SLOW (and told to resume from its cursor).",
        },
    )
    live_poll_ms: int = field(
        default=1000,
        metadata={
            "env": "LIVE_POLL_MS",
            "doc": "How often the outbox is polled while the broadcast broker is unreachable.",
        },
    )
    live_safety_poll_ms: int = field(
        default=10000,
        metadata={
            "env": "LIVE_SAFETY_POLL_MS",
            "doc": "How often the outbox is checked for missed wake-ups while the broker is up.",
        },
    )
    broker_ping_ms: int = field(
        default=2000,
        metadata={
            "env": "BROKER_PING_MS",
            "doc": "How often the broker round trip is checked; a lost ping means reconnect.",
        },
    )
    live_auth_check_ms: int = field(
        default=5000,
        metadata={
            "env": "LIVE_AUTH_CHECK_MS",
            "doc": "How often open subscriptions re-check their token (revoked keys, "
            "deactivated staff).",
        },
    )
    expiry_interval_seconds: int = field(
        default=300,
        metadata={
            "env": "EXPIRY_INTERVAL_SECONDS",
            "doc": "How often the server runs expiry processing (0 turns the job off).",
        },
    )
    frontend_dist: str = field(
        default="",
        metadata={
            "env": "FRONTEND_DIST",
            "doc": "Directory of the built dashboard; empty means frontend/dist of the checkout.",
        },
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read every ``PACKGRAPH_*`` variable; a malformed value raises SettingsError."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = "PACKGRAPH_" + spec.metadata["env"]
            if name not in env:
                continue
            raw = env[name]
            try:
                if spec.type in ("int", int):
                    values[spec.name] = int(raw)
                elif spec.type in ("bool", bool):
                    values[spec.name] = _bool(raw)
                elif "tuple" in str(spec.type):
                    values[spec.name] = _origins(raw)
                else:
                    values[spec.name] = raw
            except ValueError as error:
                raise SettingsError(f"{name}: {error}") from None
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def documented(cls) -> list[tuple[str, str, str]]:
        """(variable, default, description) for every setting, for the README and ``--help``."""
        rows = []
        for spec in fields(cls):
            default = spec.default
            if isinstance(default, tuple):
                default = ",".join(default)
            rows.append((f"PACKGRAPH_{spec.metadata['env']}", str(default), spec.metadata["doc"]))
        return rows
