"""One visit, one charge (SPEC §6.1): changing the service of a visit or of its invoice line.

The AcuBliss cause "the service on the invoice is not one of the package's" (a 90-minute massage
charged against a 60-minute pack) is fixed where it went wrong: the visit's service. Its SERVICE
line follows in the same transaction:

1. a line allocated to a pack gives its units back first (REVERSAL, REDEMPTION_REVERSED);
2. the line is re-priced at the new service's price;
3. it is allocated again: to the pack the caller names, else by auto-allocation (SPEC §1.4, the
   pack it had first when that pack covers the new service); without a pack that can take it, it
   stays charged at the service price;
4. SERVICE_CHANGED says what changed; what the invoice then has paid beyond its total moves to the
   client's credit (CLIENT_CREDITED).

So the visit is charged once: at the session price on a pack, or at the service price, never both.

Lock order (``status.py``): the appointment row, the packs the line may leave or reach by primary
key (the one it is on, the one named, and every open pack of the client auto-allocation may pick),
the invoice row, then the business row (the events).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.allocation import redeem_on_line, release_line
from packgraph.domain.appointments import get_appointment
from packgraph.domain.catalog import get_service
from packgraph.domain.client_credit import credit_overpayment
from packgraph.domain.clock import local_date, utcnow
from packgraph.domain.deduction import auto_deduct, deduct, eligible_items, require_pack, visit_date
from packgraph.domain.errors import DomainError, ErrorCode, invalid
from packgraph.domain.events import append_event
from packgraph.domain.idempotency import run_idempotent
from packgraph.domain.invoice_voids import line_void_error
from packgraph.domain.invoices import business_of, get_line, lock_invoice, void_error
from packgraph.domain.status import lock_pack
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    Client,
    CreditEntry,
    EventType,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LineKind,
    Pack,
    PackStatus,
    Service,
)


@dataclass(frozen=True)
class ServiceChangeResult:
    """The visit after the change. ``line``/``invoice``: its SERVICE line, when it was charged;
    ``pack``/``entry``: the pack the line now deducts from and the REDEMPTION, when one took it;
    ``released``: the pack the line was allocated to before, after its units came back;
    ``credit``: what the invoice had paid beyond its new total, moved to the client's credit."""

    appointment: Appointment | None
    line: InvoiceLine | None = None
    invoice: Invoice | None = None
    pack: Pack | None = None
    entry: LedgerEntry | None = None
    released: Pack | None = None
    credit: CreditEntry | None = None
    replayed: bool = False


async def change_appointment_service(
    *,
    actor: Actor,
    appointment_id: int,
    service_id: int,
    pack_id: int | None = None,
    idempotency_key: str | None = None,
) -> ServiceChangeResult:
    """Change the service of a visit. A booked visit keeps its chosen pack only when that pack
    covers the new service (``pack_id`` chooses another). A charged visit's line follows (see
    the module docstring). Refused with INVALID_STATE for a cancelled visit, SERVICE_NOT_IN_PACK
    when ``pack_id`` does not cover the new service, and the deduction errors of
    ``redeemSession`` for the pack named. A retry with the same ``idempotency_key`` returns the
    first result."""
    actor.require_staff()

    async def body(conn: BaseDBAsyncClient) -> ServiceChangeResult:
        appointment = await get_appointment(conn, actor=actor, appointment_id=appointment_id)
        if appointment.status == AppointmentStatus.CANCELLED:
            raise DomainError(
                ErrorCode.INVALID_STATE, "the appointment is cancelled", "appointmentId"
            )
        pack, service = await _targets(
            conn, actor, pack_id, service_id, current=appointment.service_id
        )
        line = (
            await InvoiceLine.filter(
                appointment_id=appointment.id, kind=LineKind.SERVICE, voided_at__isnull=True
            )
            .using_db(conn)
            .order_by("-id")
            .first()
        )
        return await _change(
            conn, actor=actor, appointment=appointment, line=line, service=service, pack=pack
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="change_appointment_service",
        request={"appointment": appointment_id, "service": service_id, "pack": pack_id},
        result_type=ServiceChangeResult,
        body=body,
    )


async def change_line_service(
    *,
    actor: Actor,
    line_id: int,
    service_id: int,
    pack_id: int | None = None,
    idempotency_key: str | None = None,
) -> ServiceChangeResult:
    """Change the service of a SERVICE invoice line (a walk-in, or a visit's charge: its
    appointment's service changes with it), re-priced and re-allocated as the module docstring
    says. Refused with INVOICE_VOID for a void line or invoice."""
    actor.require_staff()

    async def body(conn: BaseDBAsyncClient) -> ServiceChangeResult:
        line = await get_line(conn, actor=actor, line_id=line_id)
        if line.kind != LineKind.SERVICE or line.service_id is None:
            raise invalid("only the service of a SERVICE line can be changed", "lineId")
        if line.voided_at is not None:
            raise line_void_error()
        pack, service = await _targets(conn, actor, pack_id, service_id, current=line.service_id)
        appointment = None
        if line.appointment_id is not None:
            appointment = await Appointment.get(id=line.appointment_id).using_db(conn)
        return await _change(
            conn, actor=actor, appointment=appointment, line=line, service=service, pack=pack
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="change_line_service",
        request={"line": line_id, "service": service_id, "pack": pack_id},
        result_type=ServiceChangeResult,
        body=body,
    )


async def _targets(
    conn: BaseDBAsyncClient,
    actor: Actor,
    pack_id: int | None,
    service_id: int,
    *,
    current: int | None,
) -> tuple[Pack | None, Service]:
    """The pack named (NOT_FOUND first, like any unknown ID) and the new service, which must
    differ from the ``current`` one and be active."""
    pack = await require_pack(conn, actor=actor, pack_id=pack_id) if pack_id else None
    service = await get_service(conn, actor=actor, service_id=service_id)
    if service.id == current:
        raise invalid(
            f"the visit is already for {service.name!r}: to deduct it from a pack, allocate its "
            "invoice line",
            "serviceId",
        )
    if not service.active:
        raise invalid(f"{service.name!r} is archived", "serviceId")
    return pack, service


async def _change(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    appointment: Appointment | None,
    line: InvoiceLine | None,
    service: Service,
    pack: Pack | None,
) -> ServiceChangeResult:
    now = utcnow()
    client_id = appointment.client_id if appointment else None
    pack_id = pack.id if pack else None
    if pack is not None:
        owner = client_id
        if owner is None and line is not None:
            owner = (await Invoice.get(id=line.invoice_id).using_db(conn)).client_id
        if pack.client_id != owner:
            raise invalid("the pack belongs to another client", "packId")
        if not await eligible_items(conn, pack_id=pack.id, service_id=service.id):
            raise DomainError(
                ErrorCode.SERVICE_NOT_IN_PACK,
                f"{service.name!r} is not one of the services of pack {pack.name!r}",
                "packId",
            )
    if appointment is not None:
        appointment = await _change_appointment(
            conn, appointment=appointment, service=service, pack_id=pack_id
        )
    if line is None:
        return ServiceChangeResult(appointment=appointment)
    return await _rebill(
        conn,
        actor=actor,
        appointment=appointment,
        line=line,
        service=service,
        pack_id=pack_id,
        now=now,
    )


async def _change_appointment(
    conn: BaseDBAsyncClient, *, appointment: Appointment, service: Service, pack_id: int | None
) -> Appointment:
    """The appointment row first (lock order 0); its chosen pack is kept only when it covers the
    new service. The conditional UPDATE refuses a concurrent change of the same visit."""
    chosen = pack_id if pack_id is not None else appointment.chosen_pack_id
    if chosen is not None and not await eligible_items(conn, pack_id=chosen, service_id=service.id):
        chosen = None
    changes = {"service_id": service.id, "chosen_pack_id": chosen}
    updated = (
        await Appointment.filter(
            id=appointment.id, service_id=appointment.service_id, status=appointment.status
        )
        .using_db(conn)
        .update(**changes)
    )
    if not updated:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "the appointment changed meanwhile: reload it and try again",
            "appointmentId",
        )
    appointment.update_from_dict(changes)
    return appointment


async def _rebill(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    appointment: Appointment | None,
    line: InvoiceLine,
    service: Service,
    pack_id: int | None,
    now: datetime,
) -> ServiceChangeResult:
    business = await business_of(conn, actor)
    invoice = await Invoice.get(id=line.invoice_id).using_db(conn)
    client = await Client.get(id=invoice.client_id).using_db(conn)
    old_pack_id = line.pack_id
    reachable = {old_pack_id, pack_id}
    if pack_id is None:
        reachable |= set(
            await Pack.filter(
                client_id=client.id, status=PackStatus.ACTIVE, deleted_at__isnull=True
            )
            .using_db(conn)
            .values_list("id", flat=True)
        )
    for each in sorted(p for p in reachable if p is not None):
        await lock_pack(conn, pack_id=each, actor=actor, bump=False)
    if not await lock_invoice(conn, invoice.id, open_only=True):
        raise void_error(invoice, "lineId")
    # Read again under the locks: a concurrent move, void or change of this line has committed.
    line = await get_line(conn, actor=actor, line_id=line.id)
    if line.voided_at is not None:
        raise line_void_error()
    if line.pack_id != old_pack_id:
        raise DomainError(
            ErrorCode.INVALID_STATE, "the line changed meanwhile: reload it and try again", "lineId"
        )
    from_service_id, amount_before = line.service_id, line.amount
    released = None
    if line.pack_id is not None:
        _, change = await release_line(
            conn,
            actor=actor,
            line=line,
            now=now,
            reason=f"Service changed to {service.name}",
            charge=False,
        )
        released = change.pack
    fields = {
        "service_id": service.id,
        "description": service.name,
        "unit_price": service.price,
        "amount": service.price * line.quantity,
    }
    await InvoiceLine.filter(id=line.id).using_db(conn).update(**fields)
    line.update_from_dict(fields)
    day = await visit_date(conn, line=line, timezone=business.timezone)
    if pack_id is not None:
        deduction = await deduct(
            conn,
            actor=actor,
            business=business,
            pack_id=pack_id,
            service=service,
            quantity=line.quantity,
            now=now,
        )
    else:
        deduction = await auto_deduct(
            conn,
            actor=actor,
            business=business,
            client_id=client.id,
            service=service,
            quantity=line.quantity,
            on_date=day,
            chosen_pack_id=old_pack_id or (appointment.chosen_pack_id if appointment else None),
            preferred_pack_id=client.preferred_pack_id,
            now=now,
        )
    entry = None
    if deduction is not None:
        redeemed = await redeem_on_line(
            conn,
            actor=actor,
            deduction=deduction,
            line=line,
            now=now,
            retrospective=day < local_date(deduction.pack.purchased_at, business.timezone),
            extra={"serviceChanged": True},
        )
        assert redeemed is not None, "the line is unallocated and open under its locks"
        entry = redeemed.entry
    pack = deduction.pack if deduction else None
    if released is not None and pack is not None and released.id == pack.id:
        released = None  # the same pack took the visit again: ``pack`` is its newest state
    await append_event(
        conn,
        actor=actor,
        type=EventType.SERVICE_CHANGED,
        pack_id=pack.id if pack else old_pack_id,
        client_id=client.id,
        entry_id=entry.id if entry else None,
        payload={
            "appointmentId": line.appointment_id,
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "lineId": line.id,
            "fromServiceId": from_service_id,
            "toServiceId": service.id,
            "serviceName": service.name,
            "amountBefore": amount_before,
            "amountAfter": line.amount,
            "fromPackId": old_pack_id,
            "toPackId": pack.id if pack else None,
        },
    )
    credit = await credit_overpayment(
        conn, actor=actor, invoice_id=invoice.id, why="service changed", now=now
    )
    return ServiceChangeResult(
        appointment=appointment,
        line=line,
        invoice=invoice,
        pack=pack,
        entry=entry,
        released=released,
        credit=credit,
    )
