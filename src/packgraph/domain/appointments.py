"""Appointments: booking with the client's billing preference, check-in with auto-allocation,
no-show, cancellation (which gives the units back) and soft deletion (SPEC §1.4, §1.5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.allocation import NewServiceLine, redeem_on_line
from packgraph.domain.catalog import get_client, get_service
from packgraph.domain.client_credit import credit_overpayments
from packgraph.domain.clock import local_date, utcnow
from packgraph.domain.deduction import auto_deduct, eligible_items, pack_ids_of, require_pack
from packgraph.domain.errors import DomainError, ErrorCode, invalid, not_found
from packgraph.domain.idempotency import run_idempotent
from packgraph.domain.invoice_voids import lock_invoices, void_lines
from packgraph.domain.invoices import business_of, invoice_for_day
from packgraph.domain.status import lock_pack
from packgraph.domain.transaction import write_transaction
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    Client,
    CreditEntry,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LineKind,
    Pack,
    PackItemService,
    PackTemplate,
    Service,
    Staff,
)


@dataclass(frozen=True)
class AppointmentResult:
    appointment: Appointment


@dataclass(frozen=True)
class CheckInResult:
    """A check-in (or a charged no-show): the SERVICE line, and the redemption when a pack took it.

    ``invoice``/``line`` are None for a no-charge visit; ``entry``/``pack`` are None when no pack
    could take the service (the line is then charged at the service price).
    """

    appointment: Appointment
    invoice: Invoice | None = None
    line: InvoiceLine | None = None
    entry: LedgerEntry | None = None
    pack: Pack | None = None
    replayed: bool = False


@dataclass(frozen=True)
class CancelResult:
    """A cancelled appointment, the REVERSAL entries that gave its units back, the invoice
    lines it voided and the credit entries of what had been paid for them."""

    appointment: Appointment
    entries: list[LedgerEntry] = field(default_factory=list)
    packs: list[Pack] = field(default_factory=list)
    lines: list[InvoiceLine] = field(default_factory=list)
    credits: list[CreditEntry] = field(default_factory=list)


async def get_appointment(
    conn: BaseDBAsyncClient | None, *, actor: Actor, appointment_id: int
) -> Appointment:
    """A live appointment; deleted, unknown and other-business IDs are all NOT_FOUND."""
    appointment = await Appointment.get_or_none(
        id=appointment_id, business_id=actor.business_id, deleted_at__isnull=True
    ).using_db(conn)
    if appointment is None:
        raise not_found("appointment", "appointmentId")
    return appointment


async def _default_service_of(conn: BaseDBAsyncClient, pack: Pack) -> int | None:
    """The service a pack stands for: its template's default, else its only eligible service."""
    if pack.template_id is not None:
        template = await PackTemplate.get_or_none(id=pack.template_id).using_db(conn)
        if template is not None and template.default_service_id is not None:
            return template.default_service_id
    service_ids = (
        await PackItemService.filter(item__pack_id=pack.id)
        .using_db(conn)
        .values_list("service_id", flat=True)
    )
    distinct = set(service_ids)
    return distinct.pop() if len(distinct) == 1 else None


async def create_appointment(
    *,
    actor: Actor,
    client_id: int,
    starts_at: datetime,
    service_id: int | None = None,
    practitioner_id: int | None = None,
    chosen_pack_id: int | None = None,
) -> AppointmentResult:
    """Book a visit. The client's billing preference is applied (Power Diary "Billing setup"):
    without a chosen pack, the preferred pack becomes the chosen pack when it covers the service;
    without a service, the preferred service (or the chosen pack's default service) is used."""
    actor.require_staff()
    if starts_at.tzinfo is None:
        raise invalid("start time must carry a timezone", "startsAt")
    async with write_transaction(actor.business_id) as conn:
        client = await get_client(conn, actor=actor, client_id=client_id)
        chosen = None
        if chosen_pack_id is not None:
            chosen = await require_pack(conn, actor=actor, pack_id=chosen_pack_id)
            if chosen.client_id != client.id:
                raise not_found("pack", "chosenPackId")
        preferred = None
        if chosen is None and client.preferred_pack_id is not None:
            preferred = await Pack.get_or_none(
                id=client.preferred_pack_id, deleted_at__isnull=True
            ).using_db(conn)
        if service_id is None:
            service_id = client.preferred_service_id
        if service_id is None and (chosen or preferred) is not None:
            service_id = await _default_service_of(conn, chosen or preferred)
        if service_id is None:
            raise invalid("choose the service of the appointment", "serviceId")
        service = await get_service(conn, actor=actor, service_id=service_id)
        if chosen is not None and not await eligible_items(
            conn, pack_id=chosen.id, service_id=service.id
        ):
            raise DomainError(
                ErrorCode.SERVICE_NOT_IN_PACK,
                f"{service.name!r} is not one of the services of pack {chosen.name!r}",
                "chosenPackId",
            )
        if preferred is not None and await eligible_items(
            conn, pack_id=preferred.id, service_id=service.id
        ):
            chosen = preferred
        if practitioner_id is not None:
            practitioner = await Staff.get_or_none(
                id=practitioner_id, business_id=actor.business_id
            ).using_db(conn)
            if practitioner is None:
                raise not_found("practitioner", "practitionerId")
        appointment = await Appointment.create(
            business_id=actor.business_id,
            client=client,
            service=service,
            practitioner_id=practitioner_id,
            starts_at=starts_at,
            chosen_pack_id=chosen.id if chosen else None,
            using_db=conn,
        )
        return AppointmentResult(appointment=appointment)


async def _charge_visit(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    appointment: Appointment,
    now: datetime,
    charge_without_pack: bool,
) -> CheckInResult:
    """Put the visit's SERVICE line on the client's invoice for that day, auto-allocated."""
    business = await business_of(conn, actor)
    client = await Client.get(id=appointment.client_id).using_db(conn)
    service = await Service.get(id=appointment.service_id).using_db(conn)
    day = local_date(appointment.starts_at, business.timezone)
    deduction = await auto_deduct(
        conn,
        actor=actor,
        business=business,
        client_id=client.id,
        service=service,
        quantity=1,
        on_date=day,
        chosen_pack_id=appointment.chosen_pack_id,
        preferred_pack_id=client.preferred_pack_id,
        now=now,
    )
    if deduction is None and not charge_without_pack:
        return CheckInResult(appointment=appointment)
    invoice = await invoice_for_day(conn, actor=actor, client_id=client.id, day=day)
    if deduction is None:
        line = await InvoiceLine.create(
            business_id=actor.business_id,
            invoice=invoice,
            kind=LineKind.SERVICE,
            description=service.name,
            service=service,
            appointment=appointment,
            quantity=1,
            unit_price=service.price,
            amount=service.price,
            using_db=conn,
        )
        return CheckInResult(appointment=appointment, invoice=invoice, line=line)
    redeemed = await redeem_on_line(
        conn,
        actor=actor,
        deduction=deduction,
        line=NewServiceLine(invoice=invoice, service=service, appointment_id=appointment.id),
        now=now,
    )
    return CheckInResult(
        appointment=appointment,
        invoice=invoice,
        line=redeemed.line,
        entry=redeemed.entry,
        pack=deduction.pack,
    )


async def _set_status(
    conn: BaseDBAsyncClient,
    *,
    appointment: Appointment,
    expected: tuple[AppointmentStatus, ...],
    status: AppointmentStatus,
    **changes,
) -> None:
    """Move the appointment from one of ``expected`` to ``status``; the row count decides, so two
    concurrent check-ins of one appointment cannot both charge it."""
    updated = (
        await Appointment.filter(
            id=appointment.id, status__in=list(expected), deleted_at__isnull=True
        )
        .using_db(conn)
        .update(status=status, **changes)
    )
    if not updated:
        current = await Appointment.get(id=appointment.id).using_db(conn)
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"the appointment is {current.status.value.lower().replace('_', ' ')}",
            "appointmentId",
        )
    appointment.status = status
    appointment.update_from_dict(changes)


async def check_in_appointment(
    *,
    actor: Actor,
    appointment_id: int,
    no_charge: bool = False,
    idempotency_key: str | None = None,
) -> CheckInResult:
    """Mark a booked appointment ATTENDED and, unless ``no_charge``, charge the service on the
    client's invoice for that day, auto-allocated to the best pack (SPEC §1.4). Without an
    eligible pack the line is charged at the service price."""
    actor.require_staff()

    async def body(conn: BaseDBAsyncClient) -> CheckInResult:
        now = utcnow()
        appointment = await get_appointment(conn, actor=actor, appointment_id=appointment_id)
        await _set_status(
            conn,
            appointment=appointment,
            expected=(AppointmentStatus.BOOKED,),
            status=AppointmentStatus.ATTENDED,
            no_charge=no_charge,
        )
        if no_charge:
            return CheckInResult(appointment=appointment)
        return await _charge_visit(
            conn, actor=actor, appointment=appointment, now=now, charge_without_pack=True
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="check_in_appointment",
        request={"appointment": appointment_id, "noCharge": no_charge},
        result_type=CheckInResult,
        body=body,
    )


async def mark_no_show(
    *, actor: Actor, appointment_id: int, idempotency_key: str | None = None
) -> CheckInResult:
    """Mark a booked appointment NO_SHOW. Nothing is deducted unless the business setting
    ``redeem_on_no_show`` is on; then an eligible pack is charged as for a visit (without an
    eligible pack nothing is charged: a no-show is not billed at the full service price)."""
    actor.require_staff()

    async def body(conn: BaseDBAsyncClient) -> CheckInResult:
        now = utcnow()
        business = await business_of(conn, actor)
        appointment = await get_appointment(conn, actor=actor, appointment_id=appointment_id)
        await _set_status(
            conn,
            appointment=appointment,
            expected=(AppointmentStatus.BOOKED,),
            status=AppointmentStatus.NO_SHOW,
        )
        if not business.redeem_on_no_show:
            return CheckInResult(appointment=appointment)
        return await _charge_visit(
            conn, actor=actor, appointment=appointment, now=now, charge_without_pack=False
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="mark_no_show",
        request={"appointment": appointment_id},
        result_type=CheckInResult,
        body=body,
    )


async def cancel_appointment(*, actor: Actor, appointment_id: int) -> CancelResult:
    """Cancel an appointment. Its redemptions are reversed (REVERSAL entries, a FULLY_USED pack
    becomes ACTIVE again) and its service lines are voided ("Appointment cancelled",
    INVOICE_LINE_VOIDED), so they are no longer charged; what was paid for them moves to the
    client's credit (CLIENT_CREDITED)."""
    actor.require_staff()
    async with write_transaction(actor.business_id) as conn:
        now = utcnow()
        appointment = await get_appointment(conn, actor=actor, appointment_id=appointment_id)
        await _set_status(
            conn,
            appointment=appointment,
            expected=(
                AppointmentStatus.BOOKED,
                AppointmentStatus.ATTENDED,
                AppointmentStatus.NO_SHOW,
            ),
            status=AppointmentStatus.CANCELLED,
        )
        lines = (
            await InvoiceLine.filter(appointment_id=appointment.id, kind=LineKind.SERVICE)
            .using_db(conn)
            .order_by("id")
        )
        # Pack rows in primary-key order (the lock order of status.py).
        for pack_id in pack_ids_of(lines):
            await lock_pack(conn, pack_id=pack_id, actor=actor, now=now)
        # Then their invoices, before the first event takes the business row (status.py).
        await lock_invoices(conn, {line.invoice_id for line in lines})
        done = await void_lines(
            conn,
            actor=actor,
            lines=lines,
            reason="Appointment cancelled",
            ledger_reason="Appointment cancelled",
            now=now,
            announce=True,
        )
        credits = await credit_overpayments(
            conn,
            actor=actor,
            invoice_ids={line.invoice_id for line in lines},
            why="appointment cancelled",
            now=now,
        )
        return CancelResult(
            appointment=appointment,
            entries=done.entries,
            packs=done.packs,
            lines=done.lines,
            credits=credits,
        )


async def delete_appointment(*, actor: Actor, appointment_id: int) -> AppointmentResult:
    """Soft-delete an appointment (``deleted_at``); it is never removed from the database.

    Deleting does not touch the ledger or the invoice: a visit that was charged stays charged,
    and the pack investigation reports the deleted appointment (APPOINTMENT_DELETED) so staff
    can decide whether the session should have counted. Cancel instead to give units back.
    """
    actor.require_staff()
    async with write_transaction(actor.business_id) as conn:
        appointment = await get_appointment(conn, actor=actor, appointment_id=appointment_id)
        now = utcnow()
        updated = (
            await Appointment.filter(id=appointment.id, deleted_at__isnull=True)
            .using_db(conn)
            .update(deleted_at=now)
        )
        if not updated:
            raise not_found("appointment", "appointmentId")
        appointment.deleted_at = now
        return AppointmentResult(appointment=appointment)
