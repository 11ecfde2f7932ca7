"""One transaction per domain operation, with the wake-up sent only after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from packgraph.domain.events import notify_committed, watching_outbox


@asynccontextmanager
async def write_transaction(business_id: int) -> AsyncIterator[BaseDBAsyncClient]:
    """Run the body in one database transaction, then wake the live layer for ``business_id``.

    A DomainError (or any exception) raised in the body rolls everything back: no partial write,
    no event. The notification happens after commit, so a hub never reads a row it cannot see yet,
    and only when the body wrote an event: a write without one has nothing to tell subscribers.
    """
    with watching_outbox() as writes:
        async with in_transaction() as connection:
            yield connection
    if writes is not None and writes.wrote:
        await notify_committed(business_id)
