"""An invoice line allocated to a pack, and released from it: the line, its ledger entry, its
event and the ending it may cause (SPEC §1.4, §1.5), inside the caller's transaction.

Every redeeming operation deducts first (``deduction.deduct``, pack row locked), then puts the
deduction on a line with :func:`redeem_on_line`; reversing ones call :func:`release_line`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import overload

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.deduction import Deduction, give_back
from packgraph.domain.events import append_event
from packgraph.domain.pack_end import apply_pack_end
from packgraph.domain.status import StatusChange, update_pack_status
from packgraph.models import (
    EventType,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    LineKind,
    PackItem,
    Service,
)


@dataclass(frozen=True)
class NewServiceLine:
    """A SERVICE line to add for a deduction: ``quantity`` of ``service`` on ``invoice``."""

    invoice: Invoice
    service: Service
    quantity: int = 1
    appointment_id: int | None = None


@dataclass(frozen=True)
class LineRedemption:
    """The allocated line and its REDEMPTION entry."""

    line: InvoiceLine
    entry: LedgerEntry


def allocated_line_fields(deduction: Deduction, quantity: int) -> dict:
    """An allocated line is charged the pack's session price (SPEC §1.4), plus what a MONEY
    pack could not cover of the service price (SPEC §6.1): one visit, one line, one charge."""
    return {
        "pack_id": deduction.pack.id,
        "pack_item_id": deduction.item.id,
        "units": deduction.units,
        "session_number": deduction.session_number,
        "unit_price": deduction.pack.session_price,
        "amount": deduction.pack.session_price * quantity + deduction.uncovered,
    }


@overload
async def redeem_on_line(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    deduction: Deduction,
    line: NewServiceLine,
    now: datetime,
    retrospective: bool = ...,
    extra: dict | None = ...,
) -> LineRedemption: ...


@overload
async def redeem_on_line(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    deduction: Deduction,
    line: InvoiceLine,
    now: datetime,
    retrospective: bool = ...,
    extra: dict | None = ...,
) -> LineRedemption | None: ...


async def redeem_on_line(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    deduction: Deduction,
    line: NewServiceLine | InvoiceLine,
    now: datetime,
    retrospective: bool = False,
    extra: dict | None = None,
) -> LineRedemption | None:
    """Put a deduction on an invoice line and into the history: the SERVICE line allocated to
    the pack at its session price (a new line, or an existing unallocated one), the REDEMPTION
    entry, SESSION_REDEEMED (``extra`` added to its payload), then the pack's ending if the
    deduction used it up.

    Returns None, changing nothing, when the existing ``line`` was allocated or voided meanwhile:
    the allocation is a conditional update, so a concurrent allocation or void of the same line
    loses and the caller says why.
    """
    if isinstance(line, NewServiceLine):
        line = await InvoiceLine.create(
            business_id=actor.business_id,
            invoice=line.invoice,
            kind=LineKind.SERVICE,
            description=line.service.name,
            service=line.service,
            appointment_id=line.appointment_id,
            quantity=line.quantity,
            retrospective=retrospective,
            **allocated_line_fields(deduction, line.quantity),
            using_db=conn,
        )
    else:
        fields = {"retrospective": retrospective, **allocated_line_fields(deduction, line.quantity)}
        allocated = (
            await InvoiceLine.filter(id=line.id, pack_id__isnull=True, voided_at__isnull=True)
            .using_db(conn)
            .update(**fields)
        )
        if not allocated:
            return None
        line.update_from_dict(fields)
    entry = await record_redemption(conn, actor=actor, deduction=deduction, line=line, extra=extra)
    await apply_pack_end(conn, change=deduction.change, actor=actor, now=now)
    return LineRedemption(line=line, entry=entry)


async def record_redemption(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    deduction: Deduction,
    line: InvoiceLine,
    extra: dict | None = None,
) -> LedgerEntry:
    """The REDEMPTION ledger entry and SESSION_REDEEMED event of a deduction on ``line``."""
    entry = await LedgerEntry.create(
        business_id=actor.business_id,
        pack_id=deduction.pack.id,
        item_id=deduction.item.id,
        kind=LedgerKind.REDEMPTION,
        quantity=deduction.units,
        session_number=deduction.session_number,
        staff_id=actor.staff_id,
        appointment_id=line.appointment_id,
        invoice_line_id=line.id,
        using_db=conn,
    )
    await append_event(
        conn,
        actor=actor,
        type=EventType.SESSION_REDEEMED,
        pack_id=deduction.pack.id,
        client_id=deduction.pack.client_id,
        entry_id=entry.id,
        payload={
            "itemId": deduction.item.id,
            "quantity": deduction.units,
            "used": deduction.item.used,
            "allowance": deduction.item.allowance,
            "sessionNumber": deduction.session_number,
            "serviceId": line.service_id,
            "invoiceId": line.invoice_id,
            "lineId": line.id,
            "appointmentId": line.appointment_id,
            "retrospective": line.retrospective,
            **(extra or {}),
            **deduction.change.payload(),
        },
    )
    return entry


async def release_line(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    line: InvoiceLine,
    now: datetime,
    reason: str = "",
    charge: bool = True,
) -> tuple[LedgerEntry, StatusChange]:
    """Give back an allocated line's units and detach it from its pack (REVERSAL entry and
    REDEMPTION_REVERSED event, then the ending if the pack is past its date). ``charge``: re-price
    it at the service price (the visit is charged in full again), else keep the price it had (the
    caller voids the line). The caller holds the pack's lock (``lock_pack``)."""
    entry, pack = await give_back(conn, actor=actor, line=line, now=now, reason=reason)
    change = await update_pack_status(conn, pack_id=pack.id, actor=actor, now=now)
    fields: dict = {
        "pack_id": None,
        "pack_item_id": None,
        "units": 0,
        "session_number": None,
        "retrospective": False,
    }
    if charge:
        service = await Service.get_or_none(id=line.service_id).using_db(conn)
        unit_price = service.price if service else 0
        fields.update(unit_price=unit_price, amount=unit_price * line.quantity)
    await InvoiceLine.filter(id=line.id).using_db(conn).update(**fields)
    item = await PackItem.get(id=entry.item_id).using_db(conn)
    await append_event(
        conn,
        actor=actor,
        type=EventType.REDEMPTION_REVERSED,
        pack_id=pack.id,
        client_id=pack.client_id,
        entry_id=entry.id,
        payload={
            "itemId": item.id,
            "quantity": entry.quantity,
            "used": item.used,
            "allowance": item.allowance,
            "sessionNumber": entry.session_number,
            "invoiceId": line.invoice_id,
            "lineId": line.id,
            "appointmentId": line.appointment_id,
            "reason": reason,
            **change.payload(),
        },
    )
    line.update_from_dict(fields)
    await apply_pack_end(conn, change=change, actor=actor, now=now)
    return entry, change
