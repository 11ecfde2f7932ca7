"""Pack events: the ``packEvents`` subscription and the ``events`` catch-up query.

Both read the same stream, the outbox of the viewer's business in commit order, and share its
cursors: an integration can page through ``events`` and then subscribe with the last
``endCursor``, or resume a dropped subscription with the last event's ``cursor``.

:mod:`packgraph.schema.root` composes ``QUERY_AREAS`` and ``SUBSCRIPTION_AREAS`` into the root
types.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from packgraph.live.outbox import LiveEvent
from packgraph.models import EventType
from packgraph.models import PackStatus as ModelPackStatus
from packgraph.resolvers import events as event_resolvers
from packgraph.resolvers.context import Info
from packgraph.resolvers.ids import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from packgraph.schema.enums import PackStatus, mirror
from packgraph.schema.ledger import LedgerEntryType
from packgraph.schema.packs import PackType, pack_from_row
from packgraph.schema.relay import FIRST, connection_of
from packgraph.schema.tenants import StaffType
from packgraph.schema.visits import PaymentType

PackEventKind = mirror(
    EventType,
    name="PackEventType",
    description="What happened to a pack.",
    values={
        "PACK_SOLD": "A pack was sold to a client.",
        "SESSION_REDEEMED": "Units were used: a check-in, a walk-in or an allocated invoice line.",
        "REDEMPTION_REVERSED": "Units were given back (unallocated line, cancelled visit).",
        "PACK_CORRECTED": "A manager corrected the balance, with a reason.",
        "PAYMENT_RECORDED": "A payment was recorded for the pack (or its invoice).",
        "PAYMENT_REFUNDED": "Money paid for the pack (or its invoice) was given back.",
        "EXPIRY_CHANGED": "The expiry date was changed or removed.",
        "PACK_EXPIRING_SOON": "The pack expires within the business's reminder days.",
        "PACK_EXPIRED": "The pack reached its expiry date with balance left.",
        "PACK_FULLY_USED": "The pack's last unit was used.",
        "PACK_CANCELLED": "A manager cancelled the pack.",
        "PACK_DELETED": "A manager deleted the pack (it stays in history and events).",
        "NOTE_ADDED": "A note was added to the pack.",
        "ALLOCATIONS_MOVED": "Invoice lines were moved from one pack to another.",
        "INVOICE_LINE_VOIDED": "An invoice line was voided, in whole or (a cancelled or deleted "
        "pack's sale) its unpaid part; `details` has the invoice, line, amount and reason.",
        "INVOICE_VOIDED": "A whole invoice was voided with a reason; `details` lists its lines.",
        "CLIENT_CREDITED": "Money moved from an invoice or a pack to the client's credit "
        "(`payment` is the negative CLIENT_CREDIT row); `details` has `creditBalance`.",
        "CREDIT_APPLIED": "The client's credit paid (part of) an invoice (`payment` is the "
        "CLIENT_CREDIT row, on the pack it reached); `details` has `creditBalance`.",
        "CREDIT_REFUNDED": "Client credit was given back to the client; `details` has the "
        "amount, method, reason and `creditBalance`.",
        "SERVICE_CHANGED": "The service of a visit (or of its invoice line) was changed: the "
        "line was re-priced and re-allocated; `details` has the line, the services, the amount "
        "before and after and the packs it left and reached (`entry`: its new redemption).",
    },
)


@strawberry.enum(name="EventActorKind", description="Who caused an event.")
class EventActorKind(Enum):
    STAFF = strawberry.enum_value("STAFF", description="A staff member, in the dashboard.")
    INTEGRATION = strawberry.enum_value("INTEGRATION", description="An API key.")
    SYSTEM = strawberry.enum_value(
        "SYSTEM", description="packgraph itself (expiry processing, automatic renewals)."
    )


@strawberry.type(description="Who caused an event, as recorded when it happened.")
class EventActor:
    kind: EventActorKind = strawberry.field(description="A staff member, an API key or the system.")
    name: str = strawberry.field(description="Their name at the time of the event.")
    staff_id: strawberry.Private[int | None]

    @classmethod
    def from_label(cls, label: str, name: str) -> EventActor:
        kind, _, number = label.partition(":")
        if kind == "staff" and number.isdigit():
            return cls(kind=EventActorKind.STAFF, name=name, staff_id=int(number))
        if kind == "api_key":
            return cls(kind=EventActorKind.INTEGRATION, name=name, staff_id=None)
        return cls(kind=EventActorKind.SYSTEM, name=name or "packgraph", staff_id=None)

    @strawberry.field(description="The staff member, when a staff member caused the event.")
    async def staff(self, info: Info) -> StaffType | None:
        row = await info.context.loaders.staff.load(self.staff_id) if self.staff_id else None
        return StaffType.from_row(row) if row else None


def _status(value: object) -> ModelPackStatus | None:
    try:
        return ModelPackStatus(value) if value else None
    except ValueError:
        return None


@strawberry.type(
    description="Something that happened to a pack, in the order the business's changes "
    "committed. Carries the pack as it is after the event, so a dashboard can replace its card "
    "without refetching."
)
class PackEvent:
    cursor: str = strawberry.field(
        description="This event's position: pass it as `after` (to `packEvents` or `events`) to "
        "continue right after it. Store the last one you processed."
    )
    type: PackEventKind = strawberry.field(description="What happened.")  # type: ignore[valid-type]
    occurred_at: datetime = strawberry.field(description="When the change committed.")
    actor: EventActor = strawberry.field(description="Who made the change.")
    pack: PackType | None = strawberry.field(
        description="The pack after the event (read when the event is delivered, so never older "
        "than the event; compare `version` to order snapshots)."
    )
    entry: LedgerEntryType | None = strawberry.field(
        description="The ledger entry written by the change (redemptions, reversals, corrections)."
    )
    payment: PaymentType | None = strawberry.field(
        description="The payment or refund recorded by the change."
    )
    status_from: PackStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="The pack's status before the change, when the change moved it."
    )
    status_to: PackStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="The pack's status after the change, when the change moved it."
    )
    details: JSON = strawberry.field(
        description="The event's recorded data, e.g. `{noteId, text}` for NOTE_ADDED."
    )
    live: strawberry.Private[LiveEvent]

    @classmethod
    def from_live(cls, live: LiveEvent, cursor: str) -> PackEvent:
        payload = live.payload
        return cls(
            cursor=cursor,
            type=live.type,
            occurred_at=live.occurred_at,
            actor=EventActor.from_label(live.actor, live.actor_name),
            pack=pack_from_row(live.pack) if live.pack is not None else None,
            entry=LedgerEntryType.from_row(live.entry) if live.entry is not None else None,
            payment=PaymentType.from_row(live.payment) if live.payment is not None else None,
            status_from=_status(payload.get("statusFrom")),
            status_to=_status(payload.get("statusTo")),
            details=payload,
            live=live,
        )


@strawberry.type(description="One event in a page of `events`.")
class PackEventEdge:
    cursor: str = strawberry.field(description="The event's cursor (the same as `node.cursor`).")
    node: PackEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of pack events, oldest first.")
class PackEventConnection:
    edges: list[PackEventEdge] = strawberry.field(description="The events of this page.")
    page_info: relay.PageInfo = strawberry.field(
        description="`endCursor` is the cursor to ask for the next page with (null on an empty "
        "page: keep the cursor you have and ask again later)."
    )
    count_rows: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many events match, across every page.")
    async def total_count(self) -> int:
        return await self.count_rows()


PACK_ID = "Only events of this pack."
CLIENT_ID = "Only events of this client's packs."
TYPES = "Only events of these types."
EVENTS_AFTER = (
    "Start after this cursor (an event's `cursor` or a page's `endCursor`); omit it to start "
    "from the business's first event."
)
SUBSCRIBE_AFTER = (
    "Replay every event after this cursor first, then continue live, with no gap and no "
    "duplicate; omit it to receive only events from now on."
)


def _values(types: list[Enum] | None) -> list[str] | None:
    return [kind.value for kind in types] if types else None


def _event(live: LiveEvent) -> PackEvent:
    return PackEvent.from_live(live, event_resolvers.live_cursor(live))


def pack_event_of(live: LiveEvent) -> PackEvent:
    """The GraphQL object of ``live``, built once per process and event and shared by every
    subscriber (so is the result of executing it: :mod:`packgraph.server.execution`)."""
    event = live.shared.get("graphql")
    if event is None:
        event = _event(live)
        live.shared["graphql"] = event
    return event


@strawberry.type(description="Pack events for integrations that poll.")
class EventQueries:
    @strawberry.field(
        description="The business's pack events in commit order, the same stream as `packEvents`. "
        "Poll it with the last `endCursor` to catch up. At most "
        f"{MAX_PAGE_SIZE} per page."
    )
    async def events(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=EVENTS_AFTER)] = None,
        pack_id: Annotated[strawberry.ID | None, strawberry.argument(description=PACK_ID)] = None,
        client_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=CLIENT_ID)
        ] = None,
        types: Annotated[
            list[PackEventKind] | None,  # type: ignore[valid-type]
            strawberry.argument(description=TYPES),
        ] = None,
    ) -> PackEventConnection:
        page = await event_resolvers.events_page(
            info,
            first=first,
            after=after,
            pack_id=pack_id,
            client_id=client_id,
            types=_values(types),
        )
        return connection_of(PackEventConnection, page, _event, PackEventEdge)


@strawberry.type(description="Live pack events over WebSocket.")
class EventSubscriptions:
    @strawberry.subscription(
        description="Every change to the business's packs as it commits, in order. Resume after "
        "a disconnect with `after` set to the last `cursor` you processed. A subscriber that "
        "falls too far behind gets an error with code SUBSCRIBER_TOO_SLOW and a `cursor` "
        "extension to resume from."
    )
    async def pack_events(
        self,
        info: Info,
        after: Annotated[str | None, strawberry.argument(description=SUBSCRIBE_AFTER)] = None,
        pack_id: Annotated[strawberry.ID | None, strawberry.argument(description=PACK_ID)] = None,
        client_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=CLIENT_ID)
        ] = None,
        types: Annotated[
            list[PackEventKind] | None,  # type: ignore[valid-type]
            strawberry.argument(description=TYPES),
        ] = None,
    ) -> AsyncGenerator[PackEvent, None]:
        stream = event_resolvers.pack_events(
            info, after=after, pack_id=pack_id, client_id=client_id, types=_values(types)
        )
        try:
            async for live in stream:
                yield pack_event_of(live)
        finally:
            await stream.aclose()


QUERY_AREAS: list[type] = [EventQueries]
SUBSCRIPTION_AREAS: list[type] = [EventSubscriptions]
