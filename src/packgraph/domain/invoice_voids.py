"""Voiding invoice lines and whole invoices (SPEC §6.1), and the unpaid part of the sale line of a
pack that ends without being paid for.

Nothing is deleted or rewritten: a void records on the line how much of it is no longer charged
(``voided_amount``), when, who voided it and why, and emits an event. What was paid is never
dropped silently: what a void leaves the invoice paid beyond what it charges moves to the
client's credit (``client_credit.credit_overpayment``), and a pack's sale line is voided only down
to what the pack has paid, so the pack's balance due and its sale line's unpaid amount stay one
number.

- ``void_invoice_line``: one SERVICE or PRODUCT line, whole. A line allocated to a pack gives its
  units back through the ledger first (REVERSAL, REDEMPTION_REVERSED), keeping its price, then is
  voided (INVOICE_LINE_VOIDED). A pack's sale line follows the pack: delete or cancel the pack.
- ``void_invoice``: every line of an invoice, then the invoice (INVOICE_VOIDED); what was paid on
  it moves to the client's credit; it takes no new lines or payments afterwards.
- ``void_unpaid_sale``: a deleted or cancelled pack's sale line charges what the pack has paid
  (``deletePack``, ``cancelPack``, and a later refund of a cancelled pack).

Lock order (``status.py``): the packs of allocated lines by primary key, then the invoice row,
then the business row (the event's ``seq``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.allocation import release_line
from packgraph.domain.amounts import currency_of, money_text
from packgraph.domain.client_credit import credit_overpayment
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import DomainError, ErrorCode, check_reason
from packgraph.domain.events import append_event
from packgraph.domain.invoices import (
    charged,
    get_invoice,
    get_line,
    lock_invoice,
    lock_open_invoice,
    sale_line_of,
)
from packgraph.domain.status import lock_pack
from packgraph.domain.transaction import write_transaction
from packgraph.models import (
    CreditEntry,
    EventType,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LineKind,
    Pack,
    PackStatus,
)

# How often a void retries when a concurrent move re-allocated the line to another pack.
_ATTEMPTS = 3


@dataclass(frozen=True)
class VoidLineResult:
    """The voided line and its invoice; ``pack`` and ``entry`` are the pack whose allocation was
    reversed and the REVERSAL entry, when the line was allocated; ``credit`` what the invoice
    had paid beyond its new total, moved to the client's credit."""

    line: InvoiceLine
    invoice: Invoice
    pack: Pack | None
    entry: LedgerEntry | None
    credit: CreditEntry | None = None


@dataclass(frozen=True)
class VoidInvoiceResult:
    """The void invoice, the lines this void voided, the packs whose allocations it reversed, the
    REVERSAL entries that gave their units back, and the credit entry of what had been paid."""

    invoice: Invoice
    lines: tuple[InvoiceLine, ...]
    packs: tuple[Pack, ...]
    entries: tuple[LedgerEntry, ...]
    credit: CreditEntry | None = None


def line_void_error(field: str = "lineId") -> DomainError:
    return DomainError(ErrorCode.INVOICE_VOID, "this invoice line is void", field)


def _refuse_sale_line(line: InvoiceLine, pack_name: str) -> None:
    if line.kind == LineKind.PACK_SALE:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"this line sells the pack {pack_name!r}: delete or cancel the pack instead, which "
            "voids what is unpaid of its sale",
            "lineId",
        )


async def _pack_name(conn: BaseDBAsyncClient, pack_id: int | None) -> str:
    pack = await Pack.get_or_none(id=pack_id).using_db(conn) if pack_id else None
    return pack.name if pack else "?"


async def _locked_line(conn: BaseDBAsyncClient, *, actor: Actor, line_id: int) -> InvoiceLine:
    """The line, with the pack it is allocated to locked (when it is): the pack is read without
    a lock, locked, and the line read again, until the two agree (a concurrent move may change
    the pack in between)."""
    for _ in range(_ATTEMPTS):
        line = await get_line(conn, actor=actor, line_id=line_id)
        if line.kind != LineKind.SERVICE or line.pack_id is None or line.voided_at is not None:
            return line
        # No new version yet: after a move the pack locked here may not be the one that changes,
        # and release_line gives the one it changes its version with its event.
        await lock_pack(conn, pack_id=line.pack_id, actor=actor, bump=False)
        again = await get_line(conn, actor=actor, line_id=line_id)
        if again.pack_id == line.pack_id:
            return again
    raise DomainError(
        ErrorCode.INVALID_STATE, "the line keeps moving between packs: try again", "lineId"
    )


async def _write_void(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    line: InvoiceLine,
    keep: int,
    reason: str,
    now: datetime,
) -> int:
    """Void ``line`` down to charging ``keep``; returns the amount this void took off."""
    voided_amount = line.amount - keep
    fields = {
        "voided_amount": voided_amount,
        "voided_at": now,
        "void_reason": reason,
        "voided_by_id": actor.staff_id,
    }
    await InvoiceLine.filter(id=line.id).using_db(conn).update(**fields)
    taken = voided_amount - line.voided_amount
    line.update_from_dict(fields)
    return taken


def _line_details(invoice: Invoice, line: InvoiceLine, taken: int) -> dict:
    return {
        "invoiceId": invoice.id,
        "invoiceNumber": invoice.number,
        "lineId": line.id,
        "kind": line.kind.value,
        "description": line.description,
        "amount": taken,
        "charged": charged(line),
        "voided": charged(line) == 0,
        "reason": line.void_reason,
    }


async def void_invoice_line(*, actor: Actor, line_id: int, reason: str) -> VoidLineResult:
    """Void one SERVICE or PRODUCT line with a reason (managers and owners).

    A line allocated to a pack gives its units back first (REVERSAL, REDEMPTION_REVERSED, and
    the pack's status follows), then the line is voided at the price it had. What the invoice
    then has paid beyond its total moves to the client's credit (CLIENT_CREDITED). Refused with
    INVOICE_VOID for a void line or invoice and INVALID_STATE for a pack's sale line (delete or
    cancel the pack). Emits INVOICE_LINE_VOIDED.
    """
    actor.require_manager("void invoice lines")
    reason = check_reason(reason, required=True)
    async with write_transaction(actor.business_id) as conn:
        now = utcnow()
        line = await _locked_line(conn, actor=actor, line_id=line_id)
        invoice = await lock_open_invoice(
            conn, actor=actor, invoice_id=line.invoice_id, field="lineId"
        )
        if line.voided_at is not None:
            raise line_void_error()
        _refuse_sale_line(line, await _pack_name(conn, line.pack_id))
        done = await void_lines(
            conn,
            actor=actor,
            lines=[line],
            reason=reason,
            ledger_reason=f"Line voided: {reason}",
            now=now,
            announce=True,
        )
        credit = await credit_overpayment(
            conn, actor=actor, invoice_id=invoice.id, why=f"line voided: {reason}", now=now
        )
        return VoidLineResult(
            line=line,
            invoice=invoice,
            pack=done.packs[0] if done.packs else None,
            entry=done.entries[0] if done.entries else None,
            credit=credit,
        )


@dataclass(frozen=True)
class VoidedLines:
    """What :func:`void_lines` voided, the REVERSAL entries of the allocations it gave back and
    the packs they went back to (as they are now)."""

    lines: list[InvoiceLine]
    entries: list[LedgerEntry]
    packs: list[Pack]


async def void_lines(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    lines: list[InvoiceLine],
    reason: str,
    ledger_reason: str,
    now: datetime,
    announce: bool,
) -> VoidedLines:
    """Void SERVICE or PRODUCT lines whole, in the caller's transaction: an allocated line gives
    its units back first (a REVERSAL with ``ledger_reason``) and keeps its price. ``announce``:
    one INVOICE_LINE_VOIDED per line (else the caller announces them together). A line voided
    meanwhile is left as it is. The caller holds the packs' and the invoices' locks."""
    voided: list[InvoiceLine] = []
    entries: list[LedgerEntry] = []
    packs: dict[int, Pack] = {}
    for line in lines:
        if await InvoiceLine.filter(id=line.id, voided_at__isnull=False).using_db(conn).exists():
            continue
        if line.pack_id is not None:
            entry, change = await release_line(
                conn, actor=actor, line=line, now=now, reason=ledger_reason, charge=False
            )
            entries.append(entry)
            packs[change.pack.id] = change.pack
        taken = await _write_void(conn, actor=actor, line=line, keep=0, reason=reason, now=now)
        if announce:
            invoice = await Invoice.get(id=line.invoice_id).using_db(conn)
            await append_event(
                conn,
                actor=actor,
                type=EventType.INVOICE_LINE_VOIDED,
                client_id=invoice.client_id,
                payload=_line_details(invoice, line, taken),
            )
        voided.append(line)
    return VoidedLines(lines=voided, entries=entries, packs=list(packs.values()))


async def void_invoice(*, actor: Actor, invoice_id: int, reason: str) -> VoidInvoiceResult:
    """Void a whole invoice with a reason (managers and owners): every line still charged is
    voided (allocated ones give their units back first), what was paid on it moves to the
    client's credit (CLIENT_CREDITED) and the invoice becomes VOID.

    Refused with INVOICE_VOID when it already is, and INVALID_STATE while it sells a pack that
    is not deleted, or a cancelled one that keeps money paid (that pack's sale follows the pack).
    Emits INVOICE_VOIDED, after the REDEMPTION_REVERSED of each allocation it reverses.
    """
    actor.require_manager("void invoices")
    reason = check_reason(reason, required=True)
    async with write_transaction(actor.business_id) as conn:
        now = utcnow()
        invoice = await get_invoice(conn, actor=actor, invoice_id=invoice_id)
        allocated = await _allocated_packs(conn, invoice.id)
        for pack_id in sorted(allocated):
            await lock_pack(conn, pack_id=pack_id, actor=actor, bump=False)
        invoice = await lock_open_invoice(conn, actor=actor, invoice_id=invoice.id)
        lines = await _open_lines(conn, invoice.id)
        if await _allocated_packs(conn, invoice.id) - allocated:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"invoice {invoice.number} changed while it was being voided: try again",
                "invoiceId",
            )
        for line in lines:
            if line.kind == LineKind.PACK_SALE and charged(line) > 0:
                pack = await Pack.get_or_none(id=line.pack_id).using_db(conn)
                name = pack.name if pack else "?"
                if pack is not None and pack.status == PackStatus.CANCELLED:
                    kept = money_text(pack.amount_paid, await currency_of(conn, actor.business_id))
                    raise DomainError(
                        ErrorCode.INVALID_STATE,
                        f"invoice {invoice.number} sells the cancelled pack {name!r}, which "
                        f"keeps {kept} paid: refund it first",
                        "invoiceId",
                    )
                raise DomainError(
                    ErrorCode.INVALID_STATE,
                    f"invoice {invoice.number} sells the pack {name!r}: delete or cancel the "
                    "pack first",
                    "invoiceId",
                )
        done = await void_lines(
            conn,
            actor=actor,
            lines=[line for line in lines if line.kind != LineKind.PACK_SALE],
            reason=reason,
            ledger_reason=f"Invoice voided: {reason}",
            now=now,
            announce=False,
        )
        credit = await credit_overpayment(
            conn, actor=actor, invoice_id=invoice.id, why=f"invoice voided: {reason}", now=now
        )
        fields = {"voided_at": now, "void_reason": reason, "voided_by_id": actor.staff_id}
        await Invoice.filter(id=invoice.id).using_db(conn).update(**fields)
        invoice.update_from_dict(fields)
        await append_event(
            conn,
            actor=actor,
            type=EventType.INVOICE_VOIDED,
            client_id=invoice.client_id,
            payload={
                "invoiceId": invoice.id,
                "invoiceNumber": invoice.number,
                "reason": reason,
                "lineIds": [line.id for line in done.lines],
                "amount": sum(line.voided_amount for line in done.lines),
            },
        )
        # The event holds the business row: a check-in that found this invoice while creating
        # one (invoices.invoice_for_day) has committed its line by now, and it must not stay.
        seen = {line.id for line in lines}
        if any(line.id not in seen for line in await _open_lines(conn, invoice.id)):
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"invoice {invoice.number} got a new line while it was being voided: try again",
                "invoiceId",
            )
        return VoidInvoiceResult(
            invoice=invoice,
            lines=tuple(done.lines),
            packs=tuple(done.packs),
            entries=tuple(done.entries),
            credit=credit,
        )


async def _open_lines(conn: BaseDBAsyncClient, invoice_id: int) -> list[InvoiceLine]:
    """The invoice's lines not voided yet (a cancelled pack's partly voided sale line included)."""
    rows = await InvoiceLine.filter(invoice_id=invoice_id).using_db(conn).order_by("id")
    return [line for line in rows if line.voided_at is None or charged(line) > 0]


async def _allocated_packs(conn: BaseDBAsyncClient, invoice_id: int) -> set[int]:
    rows = await (
        InvoiceLine.filter(
            invoice_id=invoice_id,
            kind=LineKind.SERVICE,
            pack_id__isnull=False,
            voided_at__isnull=True,
        )
        .using_db(conn)
        .values_list("pack_id", flat=True)
    )
    return set(rows)


async def lock_invoices(conn: BaseDBAsyncClient, invoice_ids: set[int]) -> None:
    """Lock invoice rows (void or not) by primary key, for an operation that will void lines on
    them: taken after the packs and before the first event, in the order of ``status.py``."""
    for invoice_id in sorted(invoice_ids):
        await lock_invoice(conn, invoice_id, open_only=False)


async def lock_invoice_of_sale(conn: BaseDBAsyncClient, pack_id: int) -> None:
    """Lock the invoice that sold the pack, for an operation that will void part of its sale."""
    line = await sale_line_of(conn, pack_id)
    if line is not None:
        await lock_invoices(conn, {line.invoice_id})


async def void_unpaid_sale(
    conn: BaseDBAsyncClient, *, actor: Actor, pack_id: int, reason: str, now: datetime
) -> InvoiceLine | None:
    """Void the unpaid part of a deleted or cancelled pack's sale line, so that the line charges
    what the pack has paid (net of refunds); emits INVOICE_LINE_VOIDED for the amount voided.
    Does nothing when the line already charges no more than that. The caller holds the pack's
    and the invoice's locks (``lock_invoice_of_sale``)."""
    pack = await Pack.get(id=pack_id).using_db(conn)
    if pack.deleted_at is None and pack.status != PackStatus.CANCELLED:
        raise AssertionError("only an ended pack's sale is voided")
    line = await sale_line_of(conn, pack.id)
    if line is None or charged(line) <= pack.amount_paid:
        return None
    invoice = await Invoice.get(id=line.invoice_id).using_db(conn)
    taken = await _write_void(
        conn, actor=actor, line=line, keep=pack.amount_paid, reason=reason, now=now
    )
    # A cancelled pack's card shows the event; a deleted pack has left every board with
    # PACK_DELETED, so its sale's void names it in the details only.
    await append_event(
        conn,
        actor=actor,
        type=EventType.INVOICE_LINE_VOIDED,
        pack_id=pack.id if pack.deleted_at is None else None,
        client_id=invoice.client_id,
        payload={**_line_details(invoice, line, taken), "packId": pack.id},
    )
    return line
