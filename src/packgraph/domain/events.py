"""The outbox writer and the after-commit notifier.

Every state change calls :func:`append_event` inside its transaction. The event's ``seq`` comes from
a conditional UPDATE of the business row: that row stays locked until commit, so a business's events
become visible in ``seq`` order and a reader that resumes "after n" never skips a late commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.models import Event, EventType

# Called with a business id after a transaction that wrote events has committed. The live layer
# installs a function that publishes a wake-up on the broadcast channel; the default does nothing.
Notifier = Callable[[int], Awaitable[None]]


async def _no_notifier(business_id: int) -> None:
    return None


_notifier: Notifier = _no_notifier


def set_notifier(notifier: Notifier | None) -> None:
    global _notifier
    _notifier = notifier or _no_notifier


async def notify_committed(business_id: int) -> None:
    """Wake up every server process's hub. Only a hint: the outbox in the database is the truth."""
    await _notifier(business_id)


async def next_event_seq(connection: BaseDBAsyncClient, business_id: int) -> int:
    placeholder = "$1" if connection.capabilities.dialect == "postgres" else "?"
    rows = await connection.execute_query_dict(
        f"UPDATE business SET event_seq = event_seq + 1 WHERE id = {placeholder} "
        "RETURNING event_seq",
        [business_id],
    )
    return int(rows[0]["event_seq"])


async def append_event(
    connection: BaseDBAsyncClient,
    *,
    actor: Actor,
    type: EventType,
    pack_id: int | None = None,
    client_id: int | None = None,
    entry_id: int | None = None,
    payment_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Write one outbox row in the caller's transaction (``connection``)."""
    seq = await next_event_seq(connection, actor.business_id)
    return await Event.create(
        business_id=actor.business_id,
        seq=seq,
        type=type,
        pack_id=pack_id,
        client_id=client_id,
        actor=actor.label,
        actor_name=actor.name,
        entry_id=entry_id,
        payment_id=payment_id,
        payload=payload or {},
        created_at=datetime.now(UTC),
        using_db=connection,
    )
