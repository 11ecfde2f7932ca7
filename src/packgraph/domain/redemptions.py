"""Redeeming, allocating, unallocating, moving allocations and deleting packs (SPEC §1.4, §1.5).

Each operation is one transaction built from the deduction core in ``deduction.py`` and the line
helpers in ``allocation.py``: the pack row locked first, ``used`` changed only by conditional
UPDATEs, a ledger entry and an outbox event, then the ending the change caused (``pack_end.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.allocation import (
    NewServiceLine,
    allocated_line_fields,
    redeem_on_line,
    release_line,
)
from packgraph.domain.catalog import get_service
from packgraph.domain.client_credit import (
    credit_overpayment,
    credit_overpayments,
    credit_reason,
)
from packgraph.domain.clock import local_date, utcnow
from packgraph.domain.deduction import deduct, give_back, require_pack, visit_date
from packgraph.domain.errors import DomainError, ErrorCode, invalid
from packgraph.domain.events import append_event
from packgraph.domain.idempotency import run_idempotent
from packgraph.domain.invoice_voids import (
    line_void_error,
    lock_invoice_of_sale,
    lock_invoices,
    void_unpaid_sale,
)
from packgraph.domain.invoices import (
    business_of,
    check_quantity,
    get_invoice,
    get_line,
    invoice_for_day,
    lock_invoice,
)
from packgraph.domain.pack_end import apply_pack_end
from packgraph.domain.payment_allocation import apply_payment
from packgraph.domain.status import lock_pack, update_pack_status
from packgraph.domain.transaction import write_transaction
from packgraph.models import (
    Client,
    CreditEntry,
    CreditKind,
    EventType,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    LineKind,
    Pack,
    PaymentMethod,
    Service,
)


@dataclass(frozen=True)
class RedemptionResult:
    """A redemption: the pack after it, its ledger entry, and the allocated line."""

    pack: Pack
    entry: LedgerEntry
    line: InvoiceLine
    invoice: Invoice
    replayed: bool = False


async def redeem_session(
    *,
    actor: Actor,
    pack_id: int,
    service_id: int,
    quantity: int = 1,
    idempotency_key: str | None = None,
    invoice_id: int | None = None,
) -> RedemptionResult:
    """Walk-in redemption: charge the service on an invoice line allocated to the pack.

    The line goes on ``invoice_id`` or the client's invoice for today (business timezone).
    """
    actor.require_staff()
    check_quantity(quantity)

    async def body(conn: BaseDBAsyncClient) -> RedemptionResult:
        now = utcnow()
        business = await business_of(conn, actor)
        service = await get_service(conn, actor=actor, service_id=service_id)
        invoice = None
        if invoice_id is not None:
            invoice = await get_invoice(conn, actor=actor, invoice_id=invoice_id)
        deduction = await deduct(
            conn,
            actor=actor,
            business=business,
            pack_id=pack_id,
            service=service,
            quantity=quantity,
            now=now,
        )
        pack = deduction.pack
        if invoice is None:
            day = local_date(now, business.timezone)
            invoice = await invoice_for_day(conn, actor=actor, client_id=pack.client_id, day=day)
        elif invoice.client_id != pack.client_id:
            raise invalid("the invoice belongs to another client", "invoiceId")
        redeemed = await redeem_on_line(
            conn,
            actor=actor,
            deduction=deduction,
            line=NewServiceLine(invoice=invoice, service=service, quantity=quantity),
            now=now,
            retrospective=local_date(pack.purchased_at, business.timezone) > invoice.issued_on,
        )
        return RedemptionResult(
            pack=pack, entry=redeemed.entry, line=redeemed.line, invoice=invoice
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="redeem_session",
        request={
            "pack": pack_id,
            "service": service_id,
            "quantity": quantity,
            "invoice": invoice_id,
        },
        result_type=RedemptionResult,
        body=body,
    )


@dataclass(frozen=True)
class AllocationResult:
    """A line allocated to a pack (deducting), or given back (``entry`` is the REVERSAL).
    ``credit``: what the invoice had paid beyond its new total, moved to the client's credit."""

    pack: Pack
    entry: LedgerEntry
    line: InvoiceLine
    invoice: Invoice
    credit: CreditEntry | None = None
    replayed: bool = False


async def allocate_invoice_line(
    *, actor: Actor, line_id: int, pack_id: int, idempotency_key: str | None = None
) -> AllocationResult:
    """Allocate an existing SERVICE line to a pack, deducting from it.

    Works retrospectively: also on paid invoices and for visits dated before the purchase (the
    line is then flagged ``retrospective``). The line is re-priced at the pack's session price;
    what its invoice then has paid beyond its total moves to the client's credit
    (CLIENT_CREDITED), so the visit is never paid for twice.
    """
    actor.require_staff()

    async def body(conn: BaseDBAsyncClient) -> AllocationResult:
        now = utcnow()
        business = await business_of(conn, actor)
        line = await get_line(conn, actor=actor, line_id=line_id)
        if line.kind != LineKind.SERVICE or line.service_id is None:
            raise invalid("only service lines can be allocated to a pack", "lineId")
        if line.voided_at is not None:
            raise line_void_error()
        if line.pack_id is not None:
            raise DomainError(
                ErrorCode.ALREADY_ALLOCATED, "this line is already allocated to a pack", "lineId"
            )
        invoice = await Invoice.get(id=line.invoice_id).using_db(conn)
        if (await require_pack(conn, actor=actor, pack_id=pack_id)).client_id != invoice.client_id:
            raise invalid("the pack belongs to another client", "packId")
        service = await Service.get(id=line.service_id).using_db(conn)
        deduction = await deduct(
            conn,
            actor=actor,
            business=business,
            pack_id=pack_id,
            service=service,
            quantity=line.quantity,
            now=now,
        )
        pack = deduction.pack
        # The invoice after the pack and before the first event (status.py): a paid visit may
        # leave it over-paid, and the excess is moved to the credit below.
        await lock_invoice(conn, invoice.id, open_only=False)
        day = await visit_date(conn, line=line, timezone=business.timezone)
        redeemed = await redeem_on_line(
            conn,
            actor=actor,
            deduction=deduction,
            line=line,
            now=now,
            retrospective=day < local_date(pack.purchased_at, business.timezone),
            extra={"allocated": True},
        )
        if redeemed is None:
            # A concurrent allocation or void of the same line committed first.
            if (await get_line(conn, actor=actor, line_id=line_id)).voided_at is not None:
                raise line_void_error()
            raise DomainError(
                ErrorCode.ALREADY_ALLOCATED, "this line is already allocated to a pack", "lineId"
            )
        credit = await credit_overpayment(
            conn, actor=actor, invoice_id=invoice.id, why="visit allocated to a pack", now=now
        )
        return AllocationResult(
            pack=pack, entry=redeemed.entry, line=line, invoice=invoice, credit=credit
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="allocate_invoice_line",
        request={"line": line_id, "pack": pack_id},
        result_type=AllocationResult,
        body=body,
    )


async def unallocate_invoice_line(*, actor: Actor, line_id: int) -> AllocationResult:
    """Remove the pack from a line (the "red X"): the unit goes back, the line is charged at the
    service price again (should that be below the session price, what the invoice then has paid
    beyond its total moves to the client's credit)."""
    actor.require_staff()
    async with write_transaction(actor.business_id) as conn:
        now = utcnow()
        line = await get_line(conn, actor=actor, line_id=line_id)
        if line.kind != LineKind.SERVICE or line.pack_id is None:
            raise DomainError(
                ErrorCode.NOT_ALLOCATED, "this line is not allocated to a pack", "lineId"
            )
        await lock_pack(conn, pack_id=line.pack_id, actor=actor, now=now)
        # Re-read under the pack lock: a concurrent unallocation may have won.
        line = await get_line(conn, actor=actor, line_id=line_id)
        if line.pack_id is None:
            raise DomainError(
                ErrorCode.NOT_ALLOCATED, "this line is not allocated to a pack", "lineId"
            )
        await lock_invoice(conn, line.invoice_id, open_only=False)
        entry, change = await release_line(
            conn, actor=actor, line=line, now=now, reason="Removed from invoice"
        )
        invoice = await Invoice.get(id=line.invoice_id).using_db(conn)
        credit = await credit_overpayment(
            conn, actor=actor, invoice_id=invoice.id, why="visit re-priced", now=now
        )
        return AllocationResult(
            pack=change.pack, entry=entry, line=line, invoice=invoice, credit=credit
        )


@dataclass(frozen=True)
class MoveResult:
    """Every allocated line of ``from_pack`` now allocated to ``to_pack``; ``credits``: what
    invoices had paid beyond their new totals, moved to the client's credit."""

    from_pack: Pack
    to_pack: Pack
    lines: list[InvoiceLine]
    entries: list[LedgerEntry]
    credits: list[CreditEntry] = field(default_factory=list)


async def move_allocations(*, actor: Actor, from_pack_id: int, to_pack_id: int) -> MoveResult:
    """Move every allocated line from one pack to another in one transaction, all or nothing.

    The seeds' "fix incorrect session packs" workflow as one action: each line's units go back
    to the first pack (REVERSAL) and are deducted from the second (REDEMPTION), the lines are
    re-priced at the second pack's session price (an invoice then paid beyond its total has the
    excess moved to the client's credit). Fails whole with INSUFFICIENT_BALANCE,
    SERVICE_NOT_IN_PACK or PACK_NOT_ACTIVE when the target cannot take every line.
    """
    actor.require_staff()
    if from_pack_id == to_pack_id:
        raise invalid("choose two different packs", "toPackId")
    async with write_transaction(actor.business_id) as conn:
        now = utcnow()
        business = await business_of(conn, actor)
        # Both pack rows locked in primary-key order: two opposite moves cannot deadlock.
        # The target must be open (and paid when the business requires it) before anything moves.
        locked = {
            pack_id: await lock_pack(
                conn,
                pack_id=pack_id,
                actor=actor,
                require_open=pack_id == to_pack_id,
                require_paid=pack_id == to_pack_id and business.redemption_requires_full_payment,
                now=now,
            )
            for pack_id in sorted((from_pack_id, to_pack_id))
        }
        source, target = locked[from_pack_id], locked[to_pack_id]
        if source.client_id != target.client_id:
            raise invalid("both packs must belong to the same client", "toPackId")
        lines = (
            await InvoiceLine.filter(pack_id=source.id, kind=LineKind.SERVICE)
            .using_db(conn)
            .order_by("id")
        )
        if not lines:
            raise DomainError(
                ErrorCode.NOT_ALLOCATED, "no invoice lines are allocated to this pack", "fromPackId"
            )
        invoice_ids = {line.invoice_id for line in lines}
        await lock_invoices(conn, invoice_ids)
        reversals = []
        for line in lines:
            entry, _ = await give_back(
                conn, actor=actor, line=line, now=now, reason=f"Moved to pack {target.name}"
            )
            reversals.append(entry)
        redemptions = []
        for line in lines:
            service = await Service.get(id=line.service_id).using_db(conn)
            try:
                deduction = await deduct(
                    conn,
                    actor=actor,
                    business=business,
                    pack_id=target.id,
                    service=service,
                    quantity=line.quantity,
                    now=now,
                    partial=False,
                )
            except DomainError as error:
                # Open when locked above, so "not active" now means the earlier lines used it up.
                if error.code != ErrorCode.PACK_NOT_ACTIVE:
                    raise
                raise DomainError(
                    ErrorCode.INSUFFICIENT_BALANCE,
                    f"pack {target.name!r} cannot take all {len(lines)} lines",
                    "toPackId",
                ) from error
            day = await visit_date(conn, line=line, timezone=business.timezone)
            fields = allocated_line_fields(deduction, line.quantity)
            fields["retrospective"] = day < local_date(target.purchased_at, business.timezone)
            await InvoiceLine.filter(id=line.id).using_db(conn).update(**fields)
            line.update_from_dict(fields)
            redemptions.append(
                await LedgerEntry.create(
                    business_id=actor.business_id,
                    pack_id=target.id,
                    item_id=deduction.item.id,
                    kind=LedgerKind.REDEMPTION,
                    quantity=deduction.units,
                    session_number=deduction.session_number,
                    staff_id=actor.staff_id,
                    reason=f"Moved from pack {source.name}",
                    appointment_id=line.appointment_id,
                    invoice_line_id=line.id,
                    using_db=conn,
                )
            )
        source_change = await update_pack_status(conn, pack_id=source.id, actor=actor, now=now)
        target_change = await update_pack_status(conn, pack_id=target.id, actor=actor, now=now)
        common = {
            "fromPackId": source.id,
            "toPackId": target.id,
            "lineIds": [line.id for line in lines],
        }
        for change, entries in ((source_change, reversals), (target_change, redemptions)):
            await append_event(
                conn,
                actor=actor,
                type=EventType.ALLOCATIONS_MOVED,
                pack_id=change.pack.id,
                client_id=change.pack.client_id,
                payload={
                    **common,
                    "entryIds": [entry.id for entry in entries],
                    **change.payload(),
                },
            )
        await apply_pack_end(conn, change=source_change, actor=actor, now=now)
        await apply_pack_end(conn, change=target_change, actor=actor, now=now)
        credits = await credit_overpayments(
            conn, actor=actor, invoice_ids=invoice_ids, why="visits re-priced", now=now
        )
        return MoveResult(
            from_pack=source_change.pack,
            to_pack=target_change.pack,
            lines=list(lines),
            entries=reversals + redemptions,
            credits=credits,
        )


@dataclass(frozen=True)
class DeletePackResult:
    """``credit``: what had been paid for the pack, moved to the client's credit."""

    pack: Pack
    credit: CreditEntry | None = None


async def delete_pack(*, actor: Actor, pack_id: int) -> DeletePackResult:
    """Soft-delete a mistaken pack (managers and owners): what was paid for it moves to the
    client's credit (CLIENT_CREDITED), then its sale line is voided ("Pack deleted",
    INVOICE_LINE_VOIDED), so nothing stays owed for it and no money is lost. Refused with
    PACK_HAS_INVOICES, naming the invoices, while any service line is allocated to it (unallocate
    or move them first)."""
    actor.require_staff()
    actor.require_manager("delete packs")
    async with write_transaction(actor.business_id) as conn:
        now = utcnow()
        pack = await lock_pack(conn, pack_id=pack_id, actor=actor, now=now)
        numbers = (
            await Invoice.filter(lines__pack_id=pack.id, lines__kind=LineKind.SERVICE)
            .using_db(conn)
            .distinct()
            .order_by("number")
            .values_list("number", flat=True)
        )
        if numbers:
            raise DomainError(
                ErrorCode.PACK_HAS_INVOICES,
                "the pack is allocated on invoices "
                + ", ".join(numbers)
                + "; unallocate the lines or move them to another pack first",
                "packId",
            )
        await lock_invoice_of_sale(conn, pack.id)
        credit = None
        if pack.amount_paid > 0:
            moved = await apply_payment(
                conn,
                actor=actor,
                amount=-pack.amount_paid,
                method=PaymentMethod.CLIENT_CREDIT,
                reason=credit_reason("pack deleted"),
                pack_id=pack.id,
                received_at=now,
                credit=CreditKind.CREDITED,
            )
            credit = moved.credit
        await Pack.filter(id=pack.id).using_db(conn).update(deleted_at=now)
        pack.deleted_at = now
        await Client.filter(preferred_pack_id=pack.id).using_db(conn).update(preferred_pack_id=None)
        await append_event(
            conn,
            actor=actor,
            type=EventType.PACK_DELETED,
            pack_id=pack.id,
            client_id=pack.client_id,
            payload={"name": pack.name},
        )
        await void_unpaid_sale(conn, actor=actor, pack_id=pack.id, reason="Pack deleted", now=now)
        return DeletePackResult(pack=pack, credit=credit)
