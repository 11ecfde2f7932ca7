"""The deduction core, run inside the caller's transaction (SPEC §1.1, §1.4, §1.5).

A unit is used when a SERVICE invoice line is allocated to a pack. ``used`` only changes through
conditional UPDATEs whose WHERE clause carries the bound (``used + n <= allowance``,
``used - n >= 0``); the affected-row count decides. The pack row is locked first (see the lock
order in ``status.py``), so the items of one pack are only ever changed by one transaction at a
time and every redemption sees its pack's current status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q

from packgraph.domain.actor import Actor
from packgraph.domain.amounts import units_text
from packgraph.domain.clock import local_date
from packgraph.domain.errors import DomainError, ErrorCode, invalid, not_found
from packgraph.domain.status import StatusChange, lock_pack, update_pack_status
from packgraph.domain.units import session_number, units_for
from packgraph.models import (
    Appointment,
    Business,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    Metric,
    Pack,
    PackItem,
    PackItemService,
    PackStatus,
    PaymentStatus,
    Service,
)

# Errors that mean "this pack cannot take it": auto-allocation then tries the next candidate.
_PACK_REFUSED = {
    ErrorCode.PACK_NOT_ACTIVE,
    ErrorCode.INSUFFICIENT_BALANCE,
    ErrorCode.SERVICE_NOT_IN_PACK,
    ErrorCode.PACK_NOT_PAID,
}


# --- the core, used in the caller's transaction -------------------------------------------------


@dataclass(frozen=True)
class Deduction:
    """What one deduction changed: the item after it, the units and the session number.

    ``uncovered``: the part of the service price a MONEY pack could not cover (0 when it covered
    all of it, and for the other metrics); the line charges it on top of the session price.
    """

    pack: Pack
    item: PackItem
    units: int
    session_number: int
    change: StatusChange
    uncovered: int = 0


async def eligible_items(conn: BaseDBAsyncClient, *, pack_id: int, service_id: int) -> list[int]:
    """IDs of the pack's items the service may use, in primary-key order."""
    item_ids = (
        await PackItemService.filter(item__pack_id=pack_id, service_id=service_id)
        .using_db(conn)
        .values_list("item_id", flat=True)
    )
    return sorted(set(item_ids))


async def deduct(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    business: Business,
    pack_id: int,
    service: Service,
    quantity: int,
    now: datetime,
    partial: bool = True,
) -> Deduction:
    """Use ``quantity`` of ``service`` from the pack, or raise why not. Writes no entry or event.

    A MONEY pack without the whole price left covers what it has (``partial``; the deduction's
    ``uncovered`` is the rest), unless the caller needs all of it (``partial=False``: a move of
    allocations fails whole instead).
    """
    pack = await lock_pack(
        conn,
        pack_id=pack_id,
        actor=actor,
        require_open=True,
        require_paid=business.redemption_requires_full_payment,
        now=now,
    )
    item_ids = await eligible_items(conn, pack_id=pack.id, service_id=service.id)
    if not item_ids:
        raise DomainError(
            ErrorCode.SERVICE_NOT_IN_PACK,
            f"{service.name!r} is not one of the services of pack {pack.name!r}",
            "serviceId",
        )
    units = units_for(metric=pack.metric, service=service, quantity=quantity)
    if units <= 0:
        raise invalid(f"{service.name!r} has no price to deduct from a money pack", "serviceId")
    # Items in primary-key order: a deterministic order for the row locks the UPDATE takes.
    for item_id in item_ids:
        if await _take(conn, item_id, units):
            return await _deduction(
                conn, actor=actor, pack=pack, item_id=item_id, units=units, now=now
            )
    if partial and pack.metric == Metric.MONEY:
        # No item holds the whole price: the first with money left covers what it has, and the
        # line charges the rest (SPEC §6.1). The pack row is locked, so ``left`` stays true.
        for item_id in item_ids:
            item = await PackItem.get(id=item_id).using_db(conn)
            left = item.allowance - item.used
            if left > 0 and await _take(conn, item_id, left):
                return await _deduction(
                    conn,
                    actor=actor,
                    pack=pack,
                    item_id=item_id,
                    units=left,
                    now=now,
                    uncovered=units - left,
                )
    raise DomainError(
        ErrorCode.INSUFFICIENT_BALANCE,
        f"pack {pack.name!r} does not have {units_text(units, pack.metric, business.currency)} "
        "left",
        "packId",
    )


async def _take(conn: BaseDBAsyncClient, item_id: int, units: int) -> bool:
    """Use ``units`` of an item when its allowance allows: the row count decides."""
    updated = (
        await PackItem.filter(id=item_id, used__lte=F("allowance") - units)
        .using_db(conn)
        .update(used=F("used") + units)
    )
    return bool(updated)


async def _deduction(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    pack: Pack,
    item_id: int,
    units: int,
    now: datetime,
    uncovered: int = 0,
) -> Deduction:
    item = await PackItem.get(id=item_id).using_db(conn)
    number = await session_number(conn, item=item, metric=pack.metric)
    change = await update_pack_status(conn, pack_id=pack.id, actor=actor, now=now, locked=pack)
    return Deduction(
        pack=change.pack,
        item=item,
        units=units,
        session_number=number,
        change=change,
        uncovered=uncovered,
    )


async def give_back(
    conn: BaseDBAsyncClient, *, actor: Actor, line: InvoiceLine, now: datetime, reason: str = ""
) -> tuple[LedgerEntry, Pack]:
    """Reverse the deduction of an allocated line: REVERSAL entry, ``used`` back down, status.

    The caller must hold the lock of the line's pack (``lock_pack``). Leaves the line as it is
    and writes no event: the caller updates the line and reports the change.
    """
    units = int(line.units)
    updated = (
        await PackItem.filter(id=line.pack_item_id, used__gte=units)
        .using_db(conn)
        .update(used=F("used") - units)
    )
    if not updated:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "the pack's balance was corrected below this line's use; correct the pack instead",
            "lineId",
        )
    redemption = (
        await LedgerEntry.filter(invoice_line_id=line.id, kind=LedgerKind.REDEMPTION)
        .using_db(conn)
        .order_by("-id")
        .first()
    )
    entry = await LedgerEntry.create(
        business_id=actor.business_id,
        pack_id=line.pack_id,
        item_id=line.pack_item_id,
        kind=LedgerKind.REVERSAL,
        quantity=-units,
        session_number=line.session_number,
        staff_id=actor.staff_id,
        reason=reason,
        appointment_id=line.appointment_id,
        invoice_line_id=line.id,
        reverses_id=redemption.id if redemption else None,
        using_db=conn,
    )
    pack = await Pack.get(id=line.pack_id).using_db(conn)
    return entry, pack


async def visit_date(conn: BaseDBAsyncClient, *, line: InvoiceLine, timezone: str) -> date:
    """The day the charged service happened: its appointment's, else the invoice's date."""
    if line.appointment_id is not None:
        appointment = await Appointment.get(id=line.appointment_id).using_db(conn)
        return local_date(appointment.starts_at, timezone)
    invoice = await Invoice.get(id=line.invoice_id).using_db(conn)
    return invoice.issued_on


async def candidate_packs(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    business: Business,
    client_id: int,
    service: Service,
    quantity: int,
    on_date: date,
    chosen_pack_id: int | None,
    preferred_pack_id: int | None,
    now: datetime,
) -> list[Pack]:
    """The auto-allocation choice (SPEC §1.4), best first.

    Open packs of the client purchased on or before ``on_date`` with an item eligible for the
    service and enough balance (a MONEY pack: any money left, SPEC §6.1): the chosen pack, the
    client's preferred pack, then the packs that cover the whole visit before a MONEY pack that
    covers part of it, then the one expiring soonest (no expiry last), then the oldest.
    """
    query = Pack.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        business_id=actor.business_id,
        client_id=client_id,
        status=PackStatus.ACTIVE,
        deleted_at__isnull=True,
    )
    if business.redemption_requires_full_payment:
        query = query.filter(payment_status=PaymentStatus.PAID)
    packs = [
        pack
        for pack in await query.using_db(conn)
        if local_date(pack.purchased_at, business.timezone) <= on_date
    ]
    # What each pack's eligible items have left, in one query for all of them.
    most_left: dict[int, int] = {}
    items = (
        await PackItem.filter(
            pack_id__in=[pack.id for pack in packs], eligible__service_id=service.id
        )
        .using_db(conn)
        .values_list("pack_id", "allowance", "used")
        if packs
        else []
    )
    for pack_id, allowance, used in items:
        most_left[pack_id] = max(most_left.get(pack_id, 0), allowance - used)
    candidates = []
    covers: dict[int, bool] = {}
    for pack in packs:
        left = most_left.get(pack.id, 0)
        covers[pack.id] = left >= units_for(metric=pack.metric, service=service, quantity=quantity)
        # A MONEY pack with anything left covers part of the visit (the rest is charged).
        if covers[pack.id] or (pack.metric == Metric.MONEY and left > 0):
            candidates.append(pack)

    def rank(pack: Pack) -> tuple:
        return (
            pack.id != chosen_pack_id,
            pack.id != preferred_pack_id,
            not covers[pack.id],
            pack.expires_at is None,
            pack.expires_at or now,
            pack.purchased_at,
            pack.id,
        )

    return sorted(candidates, key=rank)


async def auto_deduct(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    business: Business,
    client_id: int,
    service: Service,
    quantity: int,
    on_date: date,
    chosen_pack_id: int | None,
    preferred_pack_id: int | None,
    now: datetime,
) -> Deduction | None:
    """Deduct from the best candidate pack; None when no pack can take the service."""
    candidates = await candidate_packs(
        conn,
        actor=actor,
        business=business,
        client_id=client_id,
        service=service,
        quantity=quantity,
        on_date=on_date,
        chosen_pack_id=chosen_pack_id,
        preferred_pack_id=preferred_pack_id,
        now=now,
    )
    for pack in candidates:
        try:
            return await deduct(
                conn,
                actor=actor,
                business=business,
                pack_id=pack.id,
                service=service,
                quantity=quantity,
                now=now,
            )
        except DomainError as error:
            # A concurrent transaction took the last unit between the choice and the deduction:
            # the failed conditional UPDATE changed nothing, so the next candidate is tried.
            if error.code not in _PACK_REFUSED:
                raise
    return None


def pack_ids_of(lines: Sequence[InvoiceLine]) -> list[int]:
    """Distinct pack IDs of allocated lines, in primary-key (lock) order."""
    return sorted({line.pack_id for line in lines if line.pack_id is not None})


async def require_pack(conn: BaseDBAsyncClient, *, actor: Actor, pack_id: int) -> Pack:
    pack = await Pack.get_or_none(
        id=pack_id, business_id=actor.business_id, deleted_at__isnull=True
    ).using_db(conn)
    if pack is None:
        raise not_found("pack", "packId")
    return pack
