"""Invoices and their lines: per-business invoice numbers and the client's invoice for a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.catalog import get_client, get_service
from packgraph.domain.clock import local_date, utcnow
from packgraph.domain.errors import invalid, not_found
from packgraph.domain.transaction import write_transaction
from packgraph.models import Appointment, Business, Invoice, InvoiceLine, LineKind

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


async def invoice_for_day(
    conn: BaseDBAsyncClient, *, actor: Actor, client_id: int, day: date
) -> Invoice:
    """The client's invoice for ``day``, created when there is none.

    Creating one locks the business row first (the same lock invoice numbering takes) and looks
    again, so two check-ins of one client on one day cannot both create an invoice. It is the
    last lock an operation takes before its event, which keeps the lock order of ``status.py``.
    An invoice that already exists is returned without that lock: invoices are never deleted, so
    the day's first invoice stays the first, and the business row is then locked only by the
    event's ``seq``, for the shortest time (every write of the business queues on it).
    """
    day_invoices = Invoice.filter(
        business_id=actor.business_id, client_id=client_id, issued_on=day
    ).using_db(conn)
    invoice = await day_invoices.order_by("id").first()
    if invoice is not None:
        return invoice
    await conn.execute_query(
        f"UPDATE business SET invoice_seq = invoice_seq WHERE id = {_mark(conn, 1)}",
        [actor.business_id],
    )
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
            invoice = await get_invoice(conn, actor=actor, invoice_id=invoice_id)
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
