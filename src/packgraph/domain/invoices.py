"""Invoices and their lines: per-business invoice numbers, the client's invoice for a day, what
an invoice charges and its status (SPEC §6.1).

A line charges ``amount - voided_amount``: voiding never deletes or rewrites a line, it records
how much of it is no longer charged (all of it, or a cancelled pack's unpaid part). An invoice's
total is what its lines charge; a VOID invoice charges nothing and takes no new lines or
payments. Anything that adds a line or money to an existing invoice locks it first with
:func:`lock_open_invoice`, so it cannot slip in while the invoice is being voided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from packgraph.domain.actor import Actor
from packgraph.domain.catalog import get_client, get_service
from packgraph.domain.clock import local_date, utcnow
from packgraph.domain.errors import DomainError, ErrorCode, invalid, not_found
from packgraph.domain.transaction import write_transaction
from packgraph.models import (
    Appointment,
    Business,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payment,
)

INVOICE_PREFIX = "INV-"


async def business_of(conn: BaseDBAsyncClient | None, actor: Actor) -> Business:
    return await Business.get(id=actor.business_id).using_db(conn)


def _mark(conn: BaseDBAsyncClient, position: int) -> str:
    return f"${position}" if conn.capabilities.dialect == "postgres" else "?"


async def next_invoice_number(conn: BaseDBAsyncClient, *, business_id: int) -> str:
    """The business's next invoice number. The UPDATE ... RETURNING holds the business row until
    commit, so two transactions never take the same number and a rollback frees it again."""
    rows = await conn.execute_query_dict(
        f"UPDATE business SET invoice_seq = invoice_seq + 1 WHERE id = {_mark(conn, 1)} "
        "RETURNING invoice_seq",
        [business_id],
    )
    return f"{INVOICE_PREFIX}{int(rows[0]['invoice_seq']):05d}"


async def lock_business(conn: BaseDBAsyncClient, business_id: int) -> None:
    """Lock the business row now (a no-op UPDATE), as invoice numbering and the outbox ``seq``
    do: the last lock of the order in ``status.py``, for an operation that must hold it before
    it reads what only writers holding it change (the client credit chain)."""
    await conn.execute_query(
        f"UPDATE business SET invoice_seq = invoice_seq WHERE id = {_mark(conn, 1)}",
        [business_id],
    )


async def create_invoice(
    conn: BaseDBAsyncClient, *, actor: Actor, client_id: int, issued_on: date
) -> Invoice:
    """A new numbered invoice for a client, in the caller's transaction."""
    number = await next_invoice_number(conn, business_id=actor.business_id)
    return await Invoice.create(
        business_id=actor.business_id,
        client_id=client_id,
        number=number,
        issued_on=issued_on,
        using_db=conn,
    )


def charged(line: InvoiceLine) -> int:
    """What a line charges now: its amount less what was voided of it."""
    return line.amount - line.voided_amount


async def invoice_total(conn: BaseDBAsyncClient, invoice_id: int) -> int:
    """What the invoice's lines charge now (its voided parts left out)."""
    rows = (
        await InvoiceLine.filter(invoice_id=invoice_id)
        .using_db(conn)
        .values_list("amount", "voided_amount")
    )
    return sum(amount - voided for amount, voided in rows)


async def invoice_paid(conn: BaseDBAsyncClient, invoice_id: int) -> int:
    """The invoice's payments, net of refunds."""
    amounts = (
        await Payment.filter(invoice_id=invoice_id).using_db(conn).values_list("amount", flat=True)
    )
    return sum(amounts)


def status_of(*, voided: bool, total: int, paid: int) -> InvoiceStatus:
    """VOID once voided; else PAID when the net paid covers the total (an invoice that charges
    nothing included), PARTIALLY_PAID when something is paid, ISSUED when nothing is."""
    if voided:
        return InvoiceStatus.VOID
    if paid >= total:
        return InvoiceStatus.PAID
    if paid > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.ISSUED


def void_error(invoice: Invoice, field: str = "invoiceId") -> DomainError:
    return DomainError(
        ErrorCode.INVOICE_VOID,
        f"invoice {invoice.number} is void: it takes no new lines or payments",
        field,
    )


async def lock_invoice(conn: BaseDBAsyncClient, invoice_id: int, *, open_only: bool) -> bool:
    """Lock one invoice row (with ``open_only``, only one that is not void); False when it was not
    locked. The one way every operation locks an invoice.

    A no-op UPDATE rather than SELECT ... FOR UPDATE: it takes PostgreSQL's row lock (FOR NO KEY
    UPDATE, which does not block inserting lines into the invoice) and makes SQLite take its write
    lock now. PostgreSQL re-checks ``voided_at`` once a concurrent ``voidInvoice`` commits, so
    waiting behind one ends in "not locked", never in a line or payment on a void invoice.
    """
    query = Invoice.filter(id=invoice_id)
    if open_only:
        query = query.filter(voided_at__isnull=True)
    return bool(await query.using_db(conn).update(issued_on=F("issued_on")))


async def lock_open_invoice(
    conn: BaseDBAsyncClient, *, actor: Actor, invoice_id: int, field: str = "invoiceId"
) -> Invoice:
    """Lock an invoice of the caller's business that is not void, and return it (NOT_FOUND,
    INVOICE_VOID). Only ``voided_at`` can change on an invoice, so the row read before the lock
    is the row locked."""
    invoice = await get_invoice(conn, actor=actor, invoice_id=invoice_id, field=field)
    if not await lock_invoice(conn, invoice.id, open_only=True):
        raise void_error(invoice, field)
    return invoice


async def sale_line_of(conn: BaseDBAsyncClient, pack_id: int) -> InvoiceLine | None:
    """The PACK_SALE line that sold the pack (None for a pack sold before invoices had one)."""
    return (
        await InvoiceLine.filter(pack_id=pack_id, kind=LineKind.PACK_SALE)
        .using_db(conn)
        .order_by("id")
        .first()
    )


async def invoice_for_day(
    conn: BaseDBAsyncClient, *, actor: Actor, client_id: int, day: date
) -> Invoice:
    """The client's invoice for ``day``, created when there is none.

    Void invoices are passed over. An open invoice that already exists is locked
    (:func:`lock_open_invoice`) and returned: invoices are never deleted, so the day's first open
    invoice stays the first until it is voided, and the business row is then locked only by the
    event's ``seq``, for the shortest time (every write of the business queues on it).

    Creating one locks the business row first (the same lock invoice numbering takes) and looks
    again, so two check-ins of one client on one day cannot both create an invoice. It is the
    last lock an operation takes before its event, which keeps the lock order of ``status.py``.
    An invoice another transaction created meanwhile is then used without its row lock (taking
    it after the business row could deadlock); ``invoice_voids.void_invoice`` reads the lines
    again under the business lock, so a line added this way makes that void fail, not slip in.
    """
    day_invoices = Invoice.filter(
        business_id=actor.business_id, client_id=client_id, issued_on=day, voided_at__isnull=True
    ).using_db(conn)
    invoice = await day_invoices.order_by("id").first()
    if invoice is not None:
        if await lock_invoice(conn, invoice.id, open_only=True):
            return invoice
    await lock_business(conn, actor.business_id)
    invoice = await day_invoices.order_by("id").first()
    if invoice is not None:
        return invoice
    return await create_invoice(conn, actor=actor, client_id=client_id, issued_on=day)


async def get_invoice(
    conn: BaseDBAsyncClient | None, *, actor: Actor, invoice_id: int, field: str = "invoiceId"
) -> Invoice:
    invoice = await Invoice.get_or_none(id=invoice_id, business_id=actor.business_id).using_db(conn)
    if invoice is None:
        raise not_found("invoice", field)
    return invoice


async def get_line(
    conn: BaseDBAsyncClient | None, *, actor: Actor, line_id: int, field: str = "lineId"
) -> InvoiceLine:
    line = await InvoiceLine.get_or_none(id=line_id, business_id=actor.business_id).using_db(conn)
    if line is None:
        raise not_found("invoice line", field)
    return line


def check_quantity(quantity: int) -> None:
    if not isinstance(quantity, int) or quantity <= 0:
        raise invalid("quantity must be more than zero", "quantity")


@dataclass(frozen=True)
class LineResult:
    invoice: Invoice
    line: InvoiceLine


async def add_service_line(
    *,
    actor: Actor,
    client_id: int,
    service_id: int,
    quantity: int = 1,
    invoice_id: int | None = None,
    appointment_id: int | None = None,
    issued_on: date | None = None,
) -> LineResult:
    """Charge a service at its price on an invoice, without a pack (allocate it later).

    Without ``invoice_id`` the line goes on the client's invoice for ``issued_on`` (default: today
    in the business timezone).
    """
    actor.require_staff()
    check_quantity(quantity)
    async with write_transaction(actor.business_id) as conn:
        client = await get_client(conn, actor=actor, client_id=client_id)
        service = await get_service(conn, actor=actor, service_id=service_id)
        if appointment_id is not None:
            appointment = await Appointment.get_or_none(
                id=appointment_id, business_id=actor.business_id, client_id=client.id
            ).using_db(conn)
            if appointment is None:
                raise not_found("appointment", "appointmentId")
        if invoice_id is not None:
            invoice = await lock_open_invoice(conn, actor=actor, invoice_id=invoice_id)
            if invoice.client_id != client.id:
                raise invalid("the invoice belongs to another client", "invoiceId")
        else:
            business = await business_of(conn, actor)
            day = issued_on or local_date(utcnow(), business.timezone)
            invoice = await invoice_for_day(conn, actor=actor, client_id=client.id, day=day)
        line = await InvoiceLine.create(
            business_id=actor.business_id,
            invoice=invoice,
            kind=LineKind.SERVICE,
            description=service.name,
            service=service,
            appointment_id=appointment_id,
            quantity=quantity,
            unit_price=service.price,
            amount=service.price * quantity,
            using_db=conn,
        )
        return LineResult(invoice=invoice, line=line)
