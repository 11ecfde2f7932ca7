"""Resolvers of ``packEvents`` and ``events``: cursors, filters, and the loaders of each event.

A live event reaches every subscriber of a process as the same :class:`LiveEvent`; the loaders
its fields read through are made once per event and shared (``LiveEvent.shared``), so the rows
behind a pack card are read once per process, not once per subscriber. The loaders are new for
every event, so nothing stale is ever served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocket

from packgraph import metrics
from packgraph.domain.actor import Actor
from packgraph.live.feed import CredentialsRevoked, HubStopped, SubscriberTooSlow
from packgraph.live.outbox import EventFilter, LiveEvent, committed_positions, read_events
from packgraph.models import Client, Event, EventType, Pack
from packgraph.resolvers.context import Info
from packgraph.resolvers.ids import (
    BadRequestError,
    decode_cursor,
    encode_cursor,
    page_size,
    parse_global_id,
)
from packgraph.resolvers.loaders import Loaders
from packgraph.resolvers.pagination import Page

CURSOR_TAG = "event"
# Loads nothing (no business): what a subscription's context holds between events.
IDLE_LOADERS = Loaders(None)
# How long a revoked connection stays open so the error reaches the client before the close.
REVOKED_CLOSE_DELAY = 0.2


def event_cursor(business_id: int, seq: int) -> str:
    return encode_cursor(CURSOR_TAG, business_id, seq)


async def parse_event_cursor(cursor: str | None, business_id: int) -> int | None:
    """The ``seq`` an ``after`` cursor points at (None when there is no cursor).

    A cursor of another list, of another business, not a cursor at all, or one past the last
    event (a database restored from an older backup) is a clear error, never silently "from the
    start" or "wait for events that were already numbered".
    """
    values = decode_cursor(cursor, CURSOR_TAG)
    if values is None:
        return None
    if not (
        len(values) == 2
        and all(isinstance(value, int) and not isinstance(value, bool) for value in values)
        and values[0] == business_id
        and 0 <= values[1] < 2**63
    ):
        raise BadRequestError(
            "`after` is not a pack event cursor of your business: use an event's `cursor` or an "
            "`events` page's `endCursor`.",
            code="INVALID_CURSOR",
        )
    seq = int(values[1])
    committed = (await committed_positions([business_id])).get(business_id, 0)
    if seq > committed:
        raise BadRequestError(
            "`after` points past the last event of your business (was the database restored "
            "from a backup?): catch up with `events` from an older cursor.",
            code="INVALID_CURSOR",
        )
    return seq


async def event_filter_of(
    actor: Actor,
    *,
    pack_id: str | None,
    client_id: str | None,
    types: Sequence[str] | None,
) -> EventFilter:
    """The filter of the arguments; an unknown pack or client (or another business's) is
    NOT_FOUND, so a subscription never waits silently for events that cannot come."""
    pack_pk = await _owned_pk(actor, pack_id, "Pack", Pack, "packId")
    client_pk = await _owned_pk(actor, client_id, "Client", Client, "clientId")
    return EventFilter(
        pack_id=pack_pk,
        client_id=client_pk,
        types=frozenset(EventType(value) for value in types) if types else None,
    )


async def _owned_pk(
    actor: Actor, value: str | None, type_name: str, model: type, argument: str
) -> int | None:
    if value is None:
        return None
    parsed = parse_global_id(value, type_name)
    if parsed is None or not await model.exists(id=parsed[1], business_id=actor.business_id):
        raise BadRequestError(f"`{argument}`: {type_name.lower()} not found", code="NOT_FOUND")
    return parsed[1]


def shared_loaders(live: LiveEvent) -> Loaders:
    """The loaders every subscriber of this process resolves ``live``'s fields through.

    Primed with the rows the hub read with the event, so a pack card (items, services, client,
    entry, payment) needs no further query.
    """
    loaders = live.shared.get("loaders")
    if loaders is None:
        loaders = Loaders(live.business_id)
        prime_loaders(loaders, [live])
        live.shared["loaders"] = loaders
    return loaders


def prime_loaders(loaders: Loaders, events: Sequence[LiveEvent]) -> None:
    for live in events:
        pack = live.pack
        if pack is not None:
            loaders.pack.prime(pack.id, pack)
            items = sorted(pack.items, key=lambda item: (item.position, item.id))
            loaders.pack_items.prime(pack.id, items)
            for item in items:
                links = sorted(item.eligible, key=lambda link: link.id)
                loaders.pack_item_services.prime(item.id, links)
                for link in links:
                    loaders.service.prime(link.service.id, link.service)
            loaders.client.prime(pack.client.id, pack.client)
        if live.entry is not None:
            loaders.entry.prime(live.entry.id, live.entry)
        if live.payment is not None:
            loaders.payment.prime(live.payment.id, live.payment)


async def pack_events(
    info: Info,
    *,
    after: str | None,
    pack_id: str | None,
    client_id: str | None,
    types: Sequence[str] | None,
) -> AsyncIterator[LiveEvent]:
    """The ``packEvents`` stream: replay after ``after``, then live, until the hub ends it."""
    context = info.context
    actor = context.require_actor()
    hub = context.hub
    if hub is None:
        raise GraphQLError(
            "Live events are not available on this server.", extensions={"code": "UNAVAILABLE"}
        )
    after_seq = await parse_event_cursor(after, actor.business_id)
    event_filter = await event_filter_of(actor, pack_id=pack_id, client_id=client_id, types=types)
    # Until an event arrives nothing resolves, and each event brings its own loaders: drop the
    # operation's (a full set per subscription adds up over thousands of dashboards).
    context.loaders = IDLE_LOADERS
    stream = hub.stream(
        business_id=actor.business_id,
        after=after_seq,
        event_filter=event_filter,
        credential=_token_of(context),
    )
    try:
        async for live in stream:
            context.loaders = shared_loaders(live)
            metrics.EVENTS_DELIVERED.inc()
            yield live
    except SubscriberTooSlow as ended:
        raise GraphQLError(
            "This subscription fell too far behind and was ended. Subscribe again with "
            "`after` set to the `cursor` in this error's extensions to continue without a gap.",
            extensions={
                "code": "SUBSCRIBER_TOO_SLOW",
                "cursor": event_cursor(actor.business_id, ended.last_seq),
            },
        ) from None
    except CredentialsRevoked:
        _close_soon(context.request)
        raise GraphQLError(
            "The token of this connection was revoked or expired: connect again with a valid "
            "token.",
            extensions={"code": "UNAUTHENTICATED"},
        ) from None
    except HubStopped as ended:
        raise GraphQLError(
            "The server is shutting down. Subscribe again (to any server) with `after` set to "
            "the `cursor` in this error's extensions.",
            extensions={
                "code": "SERVER_SHUTTING_DOWN",
                "cursor": event_cursor(actor.business_id, ended.last_seq),
            },
        ) from None
    finally:
        await stream.aclose()


def _token_of(context: Any) -> str | None:
    """The token the subscription was authorised with, for the hub to check again later."""
    token = (context.connection_params or {}).get("token")
    if isinstance(token, str) and token:
        return token
    headers = getattr(context.request, "headers", None)
    scheme, _, value = (headers.get("authorization", "") if headers else "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


_closing: set[asyncio.Task[None]] = set()


def _close_soon(request: object) -> None:
    """Close a WebSocket whose credentials were revoked, once the error has been sent: its
    other operations must not keep running on the old actor."""
    if not isinstance(request, WebSocket):
        return

    async def close() -> None:
        await asyncio.sleep(REVOKED_CLOSE_DELAY)
        with contextlib.suppress(Exception):
            await request.close(code=4403, reason="Forbidden: credentials revoked")

    task = asyncio.create_task(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


async def events_page(
    info: Info,
    *,
    first: int | None,
    after: str | None,
    pack_id: str | None,
    client_id: str | None,
    types: Sequence[str] | None,
) -> Page[LiveEvent]:
    """One page of the ``events`` query: the events after the cursor, oldest first."""
    actor = info.context.require_actor()
    size = page_size(first)
    after_seq = await parse_event_cursor(after, actor.business_id) or 0
    event_filter = await event_filter_of(actor, pack_id=pack_id, client_id=client_id, types=types)
    rows = await read_events(
        actor.business_id, after=after_seq, limit=size + 1, event_filter=event_filter
    )
    prime_loaders(info.context.loaders, rows[:size])

    async def count_rows() -> int:
        return await Event.filter(
            business_id=actor.business_id, **event_filter.query_arguments()
        ).count()

    return Page.of(rows, size=size, after=after, cursor_of=live_cursor, count_rows=count_rows)


def live_cursor(live: LiveEvent) -> str:
    """The cursor of an event: where to resume right after it."""
    return event_cursor(live.business_id, live.seq)
