"""What live subscriptions cost the server: memory that stays flat however many events they
deliver, and one execution per event for subscribers that would get the same result (issue 24).

The real app served by uvicorn in this process, real WebSocket clients, and the interpreter's
heap inspected directly: what an event needs to execute is released after it is delivered, and
what a subscription holds does not grow with the events it has seen.
"""

from __future__ import annotations

import asyncio
import gc

from graphql import parse
from graphql.execution.collect_fields import CollectedFields, FieldDetails

from packgraph.domain.notes import add_pack_note
from packgraph.live.hub import CATCHING_UP, SUBSCRIPTIONS
from packgraph.live.outbox import last_seq
from packgraph.resolvers.events import EVENT_EXECUTIONS, event_cursor, event_variables
from tests.api.support import gid, given_catalog, given_pack, make_tenant, serving
from tests.live.client import PACK_EVENTS, GraphQLWebSocket

# Distinct execution groups: each subscriber resumes from its own cursor, so every event is
# executed once per subscriber (the worst case of the shared execution).
SUBSCRIBERS = 4
OTHER_TYPES = ["PACK_CANCELLED", "PACK_DELETED", "PACK_EXPIRED"]


async def _until(condition, within: float = 10.0) -> None:
    """Wait for a state the server reports (a readiness signal), not for a fixed time."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the server never got there"
        await asyncio.sleep(0.01)


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


async def test_subscribers_resuming_from_different_cursors_share_each_events_execution(orm_sqlite):
    # given three dashboards of one role that resumed from different cursors, and an integration
    tenant = await make_tenant("Shared Clinic")
    catalog = await given_catalog(tenant)
    sale = await given_pack(tenant, catalog)
    seq = await last_seq(tenant.id)
    cursors = [event_cursor(tenant.id, s) for s in (seq, seq - 1, 0)]
    async with serving(orm_sqlite) as address:
        url = f"ws://{address}/graphql"
        async with (
            GraphQLWebSocket.connect(url, tenant.staff_token) as staff,
            GraphQLWebSocket.connect(url, tenant.integration_token) as integration,
        ):
            subscribers = [(staff, str(index), cursor) for index, cursor in enumerate(cursors)]
            subscribers.append((integration, "key", cursors[0]))
            for socket, operation_id, cursor in subscribers:
                variables = {"after": cursor, "types": ["NOTE_ADDED"]}
                await socket.subscribe(operation_id, PACK_EVENTS, variables)
            # (events read back from the outbox by a subscriber still catching up are executed
            # on their own: correct, only not shared; so the notes come once all are live)
            await _until(lambda: SUBSCRIPTIONS.value() == 4 and CATCHING_UP.value() == 0)
            before = EVENT_EXECUTIONS.value()
            # when five notes are added
            await _notes(tenant, sale.pack.id, 5)
            received = [
                await socket.events(operation_id, 5, within=30)
                for socket, operation_id, _ in subscribers
            ]
    # then everyone received the five events, executed once per event and role
    assert all(len(events) == 5 for events in received)
    assert received[0] == received[1] == received[2]
    assert EVENT_EXECUTIONS.value() - before == 5 * 2


def test_only_variables_below_the_root_field_shape_an_events_result():
    document = parse(
        """
        subscription S($after: String, $types: [PackEventType!], $first: Int, $notes: Boolean!,
                       $size: Int) {
          packEvents(after: $after, types: $types) {
            cursor
            pack { history(first: $first) { totalCount } }
            ...Extra @include(if: $notes)
          }
        }
        fragment Extra on PackEvent { pack { notes(first: $size) { totalCount } } }
        """
    )
    operation, fragment = document.definitions
    fragments = {fragment.name.value: fragment}
    assert event_variables(operation, fragments) == {"first", "notes", "size"}
    on_root = parse(
        "subscription($a: String) { ... on Subscription { packEvents(after: $a) { cursor } } }"
    )
    assert event_variables(on_root.definitions[0], {}) is None
