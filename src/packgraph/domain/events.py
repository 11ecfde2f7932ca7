"""The outbox writer and the after-commit notifier.

Every state change calls :func:`append_event` inside its transaction. The event's ``seq`` comes from
a conditional UPDATE of the business row: that row stays locked until commit, so a business's events
become visible in ``seq`` order and a reader that resumes "after n" never skips a late commit.

The notifier is handed in by whoever runs the domain code, never installed process-wide: the app
binds its own hub's notifier with :func:`notifying` around every request, WebSocket and background
job it runs, so two apps in one process (tests start many) never wake each other's hub or silence
it when one of them stops. ``write_transaction`` calls it after commit, and only when
:func:`append_event` ran inside the transaction (:func:`watching_outbox`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.clock import utcnow
from packgraph.models import Event, EventType

# Called with a business id after a transaction that wrote events has committed. The live layer
# gives a function that wakes the hub's feed and publishes a wake-up on the broadcast channel.
Notifier = Callable[[int], Awaitable[None]]

# ContextVars, not module globals: a value set around a request is seen by that request's code and
# the tasks it starts, and by nothing else.
_notifier: ContextVar[Notifier | None] = ContextVar("packgraph_notifier", default=None)


@dataclass
class OutboxWrites:
    """Whether the outbox writer ran in the write transaction being watched."""

    wrote: bool = False


_watched: ContextVar[OutboxWrites | None] = ContextVar("packgraph_outbox_writes", default=None)


@contextmanager
def notifying(notifier: Notifier) -> Iterator[None]:
    """Send the wake-ups of the write transactions committed in this block (and in the tasks it
    starts) to ``notifier``."""
    token = _notifier.set(notifier)
    try:
        yield
    finally:
        _notifier.reset(token)


@contextmanager
def watching_outbox() -> Iterator[OutboxWrites | None]:
    """Record whether :func:`append_event` runs in this block (one write transaction).

    Yields None inside a block already watched: a nested transaction commits with the outer one,
    which notifies for both.
    """
    if _watched.get() is not None:
        yield None
        return
    writes = OutboxWrites()
    token = _watched.set(writes)
    try:
        yield writes
    finally:
        _watched.reset(token)


async def notify_committed(business_id: int) -> None:
    """Wake up every server process's hub. Only a hint: the outbox in the database is the truth."""
    notifier = _notifier.get()
    if notifier is not None:
        await notifier(business_id)


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
    writes = _watched.get()
    if writes is not None:
        writes.wrote = True
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
        created_at=utcnow(),
        using_db=connection,
    )
