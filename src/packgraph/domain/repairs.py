"""Repairs the pack investigation (``diagnosis.py``) suggests that no other operation covers.

``charge_appointment`` is the AcuBliss advice "recreate the invoice for that visit and apply the
package service to it" as one action, for a visit checked in with "no charge" or deleted from the
schedule: nothing else can charge those (check-in needs a BOOKED, not-deleted appointment).
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from packgraph.domain.actor import Actor
from packgraph.domain.allocation import NewServiceLine, redeem_on_line
from packgraph.domain.appointments import CheckInResult
from packgraph.domain.clock import local_date, utcnow
from packgraph.domain.deduction import deduct, require_pack
from packgraph.domain.errors import DomainError, ErrorCode, invalid, not_found
from packgraph.domain.idempotency import run_idempotent
from packgraph.domain.invoices import business_of, invoice_for_day
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    InvoiceLine,
    LineKind,
    Service,
)


async def charge_appointment(
    *, actor: Actor, appointment_id: int, pack_id: int, idempotency_key: str | None = None
) -> CheckInResult:
    """Charge an uncharged visit to a pack: a SERVICE line for the appointment on the client's
    invoice for the visit's day, allocated to ``pack_id`` (flagged ``retrospective`` when the
    visit is before the purchase day), with its REDEMPTION entry and SESSION_REDEEMED event.

    Accepts an ATTENDED appointment without a SERVICE line (checked in with "no charge"; the flag
    is cleared) and a deleted appointment that was ATTENDED or BOOKED (it becomes ATTENDED and
    stays deleted). A BOOKED appointment that is not deleted is refused (check it in instead), as
    is one already charged (allocate its line instead). Deduction errors are those of
    ``redeem_session`` (PACK_NOT_ACTIVE, INSUFFICIENT_BALANCE, SERVICE_NOT_IN_PACK, PACK_NOT_PAID).
    """
    actor.require_staff()

    async def body(conn: BaseDBAsyncClient) -> CheckInResult:
        now = utcnow()
        business = await business_of(conn, actor)
        appointment = await Appointment.get_or_none(
            id=appointment_id, business_id=actor.business_id
        ).using_db(conn)
        if appointment is None:
            raise not_found("appointment", "appointmentId")
        # The appointment row is locked first (the lock order of status.py); the WHERE clause
        # says which visits can be charged this way.
        chargeable = Q(status=AppointmentStatus.ATTENDED) | Q(
            status=AppointmentStatus.BOOKED, deleted_at__isnull=False
        )
        updated = (
            await Appointment.filter(chargeable, id=appointment.id)
            .using_db(conn)
            .update(status=AppointmentStatus.ATTENDED, no_charge=False)
        )
        if not updated:
            if appointment.status == AppointmentStatus.BOOKED:
                message = "the appointment is not checked in yet: check it in instead"
            else:
                message = f"the appointment is {appointment.status.value.lower().replace('_', ' ')}"
            raise DomainError(ErrorCode.INVALID_STATE, message, "appointmentId")
        # Read under the appointment lock: a concurrent charge of the same visit has committed.
        charged = (
            await InvoiceLine.filter(appointment_id=appointment.id, kind=LineKind.SERVICE)
            .using_db(conn)
            .exists()
        )
        if charged:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                "the visit is already charged: allocate its invoice line instead",
                "appointmentId",
            )
        pack = await require_pack(conn, actor=actor, pack_id=pack_id)
        if pack.client_id != appointment.client_id:
            raise invalid("the pack belongs to another client", "packId")
        service = await Service.get(id=appointment.service_id).using_db(conn)
        deduction = await deduct(
            conn,
            actor=actor,
            business=business,
            pack_id=pack.id,
            service=service,
            quantity=1,
            now=now,
        )
        day = local_date(appointment.starts_at, business.timezone)
        invoice = await invoice_for_day(conn, actor=actor, client_id=appointment.client_id, day=day)
        redeemed = await redeem_on_line(
            conn,
            actor=actor,
            deduction=deduction,
            line=NewServiceLine(invoice=invoice, service=service, appointment_id=appointment.id),
            now=now,
            retrospective=day < local_date(deduction.pack.purchased_at, business.timezone),
            extra={"charged": True},
        )
        appointment.status = AppointmentStatus.ATTENDED
        appointment.no_charge = False
        return CheckInResult(
            appointment=appointment,
            invoice=invoice,
            line=redeemed.line,
            entry=redeemed.entry,
            pack=deduction.pack,
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="charge_appointment",
        request={"appointment": appointment_id, "pack": pack_id},
        result_type=CheckInResult,
        body=body,
    )
