"""Reading the outbox: a business's events in ``seq`` order, each with the rows it talks about.

A :class:`LiveEvent` is built once per server process and shared by every subscriber of that
process: the hub reads a batch of new outbox rows, loads the packs, ledger entries and payments
they name with one query per table, and fans the same objects out. Nothing here is per subscriber.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.functions import Max

from packgraph.models import Business, Event, EventType, LedgerEntry, Pack, Payment

PAGE_SIZE = 100


@dataclass(frozen=True)
class EventFilter:
    """What one subscription wants to see; the empty filter matches every event."""

    pack_id: int | None = None
    client_id: int | None = None
    types: frozenset[EventType] | None = None

    def matches(self, event: LiveEvent) -> bool:
        if self.pack_id is not None and event.pack_id != self.pack_id:
            return False
        if self.client_id is not None and event.client_id != self.client_id:
            return False
        return self.types is None or event.type in self.types

    def query_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.pack_id is not None:
            arguments["pack_id"] = self.pack_id
        if self.client_id is not None:
            arguments["client_id"] = self.client_id
        if self.types is not None:
            arguments["type__in"] = [event_type.value for event_type in self.types]
        return arguments


@dataclass(eq=False)
class LiveEvent:
    """One outbox row with its pack (as read right after the event), entry and payment.

    ``pack`` is read when the process first handles the event, so it is never older than the
    event; a replayed event carries the pack as it is at replay time. ``shared`` is a per-process
    memo the API layer fills once per event (the GraphQL object, rendered results).
    """

    seq: int
    business_id: int
    type: EventType
    occurred_at: datetime
    actor: str
    actor_name: str
    pack_id: int | None
    client_id: int | None
    entry_id: int | None
    payment_id: int | None
    payload: dict[str, Any]
    pack: Pack | None = None
    entry: LedgerEntry | None = None
    payment: Payment | None = None
    shared: dict[Any, Any] = field(default_factory=dict, repr=False)


async def committed_positions(business_ids: Iterable[int]) -> dict[int, int]:
    """The ``seq`` of the last committed event of each business (0 when it has none).

    Reads the business row's counter: it is advanced in the transaction that writes the event, so
    a committed value ``n`` means events ``1..n`` are all visible. One small indexed query.
    """
    ids = list(business_ids)
    if not ids:
        return {}
    rows = await Business.filter(id__in=ids).values_list("id", "event_seq")
    return {int(business_id): int(seq) for business_id, seq in rows}


async def last_seq(business_id: int) -> int:
    """The last visible event of ``business_id`` (0 when none), from the outbox itself."""
    row = await Event.filter(business_id=business_id).annotate(top=Max("seq")).values("top")
    top = row[0]["top"] if row else None
    return int(top or 0)


async def read_events(
    business_id: int,
    *,
    after: int,
    until: int | None = None,
    limit: int = PAGE_SIZE,
    event_filter: EventFilter | None = None,
) -> list[LiveEvent]:
    """Up to ``limit`` events of ``business_id`` with ``after < seq <= until``, in seq order."""
    query = Event.filter(business_id=business_id, seq__gt=after)
    if until is not None:
        query = query.filter(seq__lte=until)
    if event_filter is not None:
        query = query.filter(**event_filter.query_arguments())
    rows = await query.order_by("seq").limit(limit)
    return await build_live_events(rows)


async def build_live_events(rows: Sequence[Event]) -> list[LiveEvent]:
    """Wrap outbox rows, loading what they name with one query per table (not per event)."""
    pack_ids = {row.pack_id for row in rows if row.pack_id is not None}  # type: ignore[attr-defined]
    entry_ids = {row.entry_id for row in rows if row.entry_id is not None}  # type: ignore[attr-defined]
    payment_ids = {row.payment_id for row in rows if row.payment_id is not None}  # type: ignore[attr-defined]
    packs = await _by_id(Pack, pack_ids, prefetch=("items__eligible__service", "client"))
    entries = await _by_id(LedgerEntry, entry_ids)
    payments = await _by_id(Payment, payment_ids)
    events = []
    for row in rows:
        pack_id = row.pack_id  # type: ignore[attr-defined]
        entry_id = row.entry_id  # type: ignore[attr-defined]
        payment_id = row.payment_id  # type: ignore[attr-defined]
        events.append(
            LiveEvent(
                seq=int(row.seq),
                business_id=int(row.business_id),  # type: ignore[attr-defined]
                type=EventType(row.type),
                occurred_at=row.created_at,
                actor=row.actor,
                actor_name=row.actor_name,
                pack_id=pack_id,
                client_id=row.client_id,  # type: ignore[attr-defined]
                entry_id=entry_id,
                payment_id=payment_id,
                payload=dict(row.payload or {}),
                pack=packs.get(pack_id),
                entry=entries.get(entry_id),
                payment=payments.get(payment_id),
            )
        )
    return events


async def _by_id(model: Any, ids: set[int], prefetch: Sequence[str] = ()) -> dict[int, Any]:
    if not ids:
        return {}
    query = model.filter(id__in=sorted(ids))
    if prefetch:
        query = query.prefetch_related(*prefetch)
    return {row.id: row for row in await query}
