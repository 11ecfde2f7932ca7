"""Memory held by live subscriptions stays flat however many events they deliver (issue 24).

The real app served by uvicorn in this process, real WebSocket clients, and the interpreter's
heap inspected directly: what an event needs to execute is released after it is delivered, and
what a subscription holds does not grow with the events it has seen.
"""

from __future__ import annotations

import asyncio
import gc

from graphql.execution.collect_fields import CollectedFields, FieldDetails

from packgraph.domain.notes import add_pack_note
from packgraph.live.outbox import last_seq
from packgraph.resolvers.events import event_cursor
from tests.api.support import gid, given_catalog, given_pack, make_tenant, serving
from tests.live.client import PACK_EVENTS, GraphQLWebSocket

# Distinct execution groups: each subscriber resumes from its own cursor, so every event is
# executed once per subscriber (the worst case of the shared execution).
SUBSCRIBERS = 4
OTHER_TYPES = ["PACK_CANCELLED", "PACK_DELETED", "PACK_EXPIRED"]


def _executor_memo_objects() -> int:
    """graphql-core's collected-field records alive in this process (the executor's memo)."""
    gc.collect()
    return sum(isinstance(obj, FieldDetails | CollectedFields) for obj in gc.get_objects())


async def _notes(tenant, pack_id: int, count: int) -> None:
    for index in range(count):
        await add_pack_note(actor=tenant.staff, pack_id=pack_id, text=f"note {index}")


async def test_what_subscriptions_hold_does_not_grow_with_the_events_they_deliver(orm_sqlite):
    # given a business with a pack and subscribers each in its own execution group
    tenant = await make_tenant("Memory Clinic")
    catalog = await given_catalog(tenant)
    sale = await given_pack(tenant, catalog)
    # Subscribing from a known cursor: every later note is delivered, however long the
    # subscriptions take to start.
    start = event_cursor(tenant.id, await last_seq(tenant.id))
    async with serving(orm_sqlite) as address:
        url = f"ws://{address}/graphql"
        async with (
            GraphQLWebSocket.connect(url, tenant.staff_token) as first,
            GraphQLWebSocket.connect(url, tenant.integration_token) as second,
        ):
            sockets = [first, second]
            for index in range(SUBSCRIBERS):
                # Different variables per subscriber: each is its own execution group.
                types = ["NOTE_ADDED", *OTHER_TYPES[:index]]
                variables = {"after": start, "packId": gid("Pack", sale.pack.id), "types": types}
                await sockets[index % 2].subscribe(str(index), PACK_EVENTS, variables)

            async def deliver(count: int) -> None:
                await _notes(tenant, sale.pack.id, count)
                for index in range(SUBSCRIBERS):
                    events = await sockets[index % 2].events(str(index), count, within=30)
                    assert [event["type"] for event in events] == ["NOTE_ADDED"] * count

            # when they have delivered a few events, then many more
            await deliver(10)
            await asyncio.sleep(0)
            warm = _executor_memo_objects()
            await deliver(100)
            after_many = _executor_memo_objects()

    # then the executor's memo did not grow with the events (before the fix it held a few
    # entries per event and subscriber: ~1,200 more here)
    print("MEMO", warm, after_many)
    assert after_many - warm < 60, (warm, after_many)
