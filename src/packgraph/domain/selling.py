"""Selling packs (SPEC §1.3): from a template or custom fields, onto an invoice, optionally using
the first session at once.

A sale is read as its steps: check the arguments, find what the pack is copied from, check the
price and expiry, take the invoice and appointment it goes with, create the pack
(``pack_creation.py``), deduct the first session, then write the PACK_SALE line and PACK_SOLD
event and put the first session on its SERVICE line (``allocation.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.allocation import NewServiceLine, redeem_on_line
from packgraph.domain.catalog import (
    UNSET,
    TemplateItemSpec,
    Unset,
    check_services,
    get_client,
    get_service,
    get_template,
    validate_pack_fields,
)
from packgraph.domain.clock import local_date, utcnow
from packgraph.domain.deduction import Deduction, deduct
from packgraph.domain.errors import DomainError, ErrorCode, invalid, not_found
from packgraph.domain.idempotency import run_idempotent
from packgraph.domain.invoices import business_of, create_invoice, lock_open_invoice
from packgraph.domain.pack_creation import (
    PackSource,
    add_pack_sale_line,
    append_pack_sold,
    create_pack,
    source_from_template,
)
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    Business,
    Client,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LineKind,
    Metric,
    Pack,
    Service,
)


@dataclass(frozen=True)
class CustomPackSpec:
    """A pack sold without a template (Power Diary "Add New Pack" with its own settings)."""

    name: str
    metric: Metric
    price: int
    items: Sequence[TemplateItemSpec]
    session_price: int = 0
    validity_days: int | None = None
    validity_months: int | None = None
    description: str = ""
    default_service_id: int | None = None


@dataclass(frozen=True)
class SaleResult:
    """The sold pack, its invoice and PACK_SALE line; with ``use_first_session`` the first
    session's ledger entry and its SERVICE line."""

    pack: Pack
    invoice: Invoice
    line: InvoiceLine
    entry: LedgerEntry | None = None
    service_line: InvoiceLine | None = None
    replayed: bool = False


@dataclass(frozen=True)
class _FirstSession:
    service: Service
    deduction: Deduction


async def sell_pack(
    *,
    actor: Actor,
    client_id: int,
    template_id: int | None = None,
    custom: CustomPackSpec | None = None,
    discount: int = 0,
    expires_at: datetime | None | Unset = UNSET,
    invoice_id: int | None = None,
    use_first_session: bool = False,
    service_id: int | None = None,
    appointment_id: int | None = None,
    referrer: str = "",
    authorisation_number: str = "",
    authorised_from: date | None = None,
    authorised_until: date | None = None,
    purchased_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> SaleResult:
    """Sell a pack to a client from a template or custom fields (SPEC §1.3).

    The pack is charged at ``price - discount`` on a PACK_SALE line of ``invoice_id`` or a new
    invoice. Expiry follows the validity (days or months from purchase, or none) unless
    ``expires_at`` is given (``None``: never expires). ``use_first_session`` deducts one unit at
    once, on a SERVICE line of the same invoice (tied to ``appointment_id`` when given, which is
    then marked attended).
    """
    actor.require_staff()
    _check_arguments(
        template_id=template_id,
        custom=custom,
        discount=discount,
        expires_at=expires_at,
        purchased_at=purchased_at,
        authorised_from=authorised_from,
        authorised_until=authorised_until,
        use_first_session=use_first_session,
        service_id=service_id,
        appointment_id=appointment_id,
    )
    referral = {
        "referrer": referrer.strip(),
        "authorisation_number": authorisation_number.strip(),
        "authorised_from": authorised_from,
        "authorised_until": authorised_until,
    }

    async def body(conn: BaseDBAsyncClient) -> SaleResult:
        now = utcnow()
        bought = purchased_at or now
        business = await business_of(conn, actor)
        client = await get_client(conn, actor=actor, client_id=client_id)
        source = await _pack_source(conn, actor=actor, template_id=template_id, custom=custom)
        if discount > source.price:
            raise invalid("discount is more than the price", "discount")
        if isinstance(expires_at, datetime) and expires_at <= bought:
            raise invalid("expiry must be after the purchase", "expiresAt")
        appointment = None
        if appointment_id is not None:
            appointment = await _attend_appointment(
                conn, actor=actor, appointment_id=appointment_id, client=client
            )
        invoice = None
        if invoice_id is not None:
            # After the appointment: the lock order of status.py (appointment, pack, invoice).
            invoice = await _client_invoice(conn, actor=actor, invoice_id=invoice_id, client=client)
        pack = await create_pack(
            conn,
            actor=actor,
            business=business,
            client_id=client.id,
            source=source,
            discount=discount,
            expires_at=expires_at,
            purchased_at=bought,
            referral=referral,
        )
        first = None
        if use_first_session:
            first = await _deduct_first_session(
                conn,
                actor=actor,
                business=business,
                pack=pack,
                source=source,
                service_id=service_id,
                appointment=appointment,
                now=now,
            )
            pack = first.deduction.pack
        if invoice is None:
            issued_on = local_date(bought, business.timezone)
            invoice = await create_invoice(
                conn, actor=actor, client_id=client.id, issued_on=issued_on
            )
        line = await add_pack_sale_line(conn, actor=actor, invoice=invoice, pack=pack)
        await append_pack_sold(conn, actor=actor, pack=pack, invoice=invoice, line=line)
        if first is None:
            return SaleResult(pack=pack, invoice=invoice, line=line)
        service_line, entry = await _redeem_first_session(
            conn, actor=actor, invoice=invoice, first=first, appointment=appointment, now=now
        )
        return SaleResult(
            pack=pack, invoice=invoice, line=line, entry=entry, service_line=service_line
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="sell_pack",
        request={
            "client": client_id,
            "template": template_id,
            "custom": repr(custom),
            "discount": discount,
            "expires": None if expires_at is UNSET else str(expires_at),
            "invoice": invoice_id,
            "first": use_first_session,
            "service": service_id,
            "appointment": appointment_id,
            "purchased": str(purchased_at),
        },
        result_type=SaleResult,
        body=body,
    )


# --- the steps of a sale, in the order it takes them --------------------------------------------


def _check_arguments(
    *,
    template_id: int | None,
    custom: CustomPackSpec | None,
    discount: int,
    expires_at: datetime | None | Unset,
    purchased_at: datetime | None,
    authorised_from: date | None,
    authorised_until: date | None,
    use_first_session: bool,
    service_id: int | None,
    appointment_id: int | None,
) -> None:
    """What can be refused before the database is asked anything."""
    if (template_id is None) == (custom is None):
        raise invalid("sell from a template or from custom fields, one of the two", "templateId")
    if not isinstance(discount, int) or discount < 0:
        raise invalid("discount must be zero or more", "discount")
    if purchased_at is not None and purchased_at.tzinfo is None:
        raise invalid("purchase time must carry a timezone", "purchasedAt")
    if isinstance(expires_at, datetime) and expires_at.tzinfo is None:
        raise invalid("expiry must carry a timezone", "expiresAt")
    if authorised_from and authorised_until and authorised_until < authorised_from:
        raise invalid("authorised-until is before authorised-from", "authorisedUntil")
    if not use_first_session and (service_id is not None or appointment_id is not None):
        raise invalid("a service or appointment is only used with useFirstSession", "serviceId")


async def _pack_source(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    template_id: int | None,
    custom: CustomPackSpec | None,
) -> PackSource:
    """What the pack is copied from: an unarchived template, or checked custom fields."""
    if template_id is not None:
        template = await get_template(conn, actor=actor, template_id=template_id)
        if template.archived:
            raise DomainError(ErrorCode.INVALID_STATE, "this template is archived", "templateId")
        return await source_from_template(conn, template)
    assert custom is not None
    name = (custom.name or "").strip()
    if not name:
        raise invalid("name must not be empty", "custom.name")
    validate_pack_fields(
        price=custom.price,
        session_price=custom.session_price,
        validity_days=custom.validity_days,
        validity_months=custom.validity_months,
        items=custom.items,
    )
    await check_services(conn, actor=actor, items=custom.items)
    return PackSource(
        name=name,
        description=custom.description,
        metric=Metric(custom.metric),
        price=custom.price,
        session_price=custom.session_price,
        validity_days=custom.validity_days,
        validity_months=custom.validity_months,
        default_service_id=custom.default_service_id,
        items=list(custom.items),
    )


async def _client_invoice(
    conn: BaseDBAsyncClient, *, actor: Actor, invoice_id: int, client: Client
) -> Invoice:
    invoice = await lock_open_invoice(conn, actor=actor, invoice_id=invoice_id)
    if invoice.client_id != client.id:
        raise invalid("the invoice belongs to another client", "invoiceId")
    return invoice


async def _attend_appointment(
    conn: BaseDBAsyncClient, *, actor: Actor, appointment_id: int, client: Client
) -> Appointment:
    """The first session's appointment, marked attended now: the visit happened."""
    appointment = await Appointment.get_or_none(
        id=appointment_id,
        business_id=actor.business_id,
        client_id=client.id,
        deleted_at__isnull=True,
    ).using_db(conn)
    if appointment is None:
        raise not_found("appointment", "appointmentId")
    # Taking the appointment's row lock before any pack or business row (the lock order of
    # status.py and check-in).
    attended = (
        await Appointment.filter(id=appointment.id, status__not=AppointmentStatus.CANCELLED)
        .using_db(conn)
        .update(status=AppointmentStatus.ATTENDED, no_charge=False)
    )
    if not attended:
        raise DomainError(ErrorCode.INVALID_STATE, "the appointment is cancelled", "appointmentId")
    return appointment


async def _deduct_first_session(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    business: Business,
    pack: Pack,
    source: PackSource,
    service_id: int | None,
    appointment: Appointment | None,
    now: datetime,
) -> _FirstSession:
    service = await _first_session_service(
        conn, actor=actor, source=source, service_id=service_id, appointment=appointment
    )
    deduction = await deduct(
        conn,
        actor=actor,
        business=business,
        pack_id=pack.id,
        service=service,
        quantity=1,
        now=now,
    )
    return _FirstSession(service=service, deduction=deduction)


async def _first_session_service(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    source: PackSource,
    service_id: int | None,
    appointment: Appointment | None,
) -> Service:
    """The given service, else the appointment's, the template's default, or the only one."""
    if service_id is not None:
        return await get_service(conn, actor=actor, service_id=service_id)
    if appointment is not None:
        return await Service.get(id=appointment.service_id).using_db(conn)
    if source.default_service_id is not None:
        return await get_service(conn, actor=actor, service_id=source.default_service_id)
    distinct = {sid for spec in source.items for sid in spec.service_ids}
    if len(distinct) == 1:
        return await get_service(conn, actor=actor, service_id=distinct.pop())
    raise invalid("choose the service of the first session", "serviceId")


async def _redeem_first_session(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    invoice: Invoice,
    first: _FirstSession,
    appointment: Appointment | None,
    now: datetime,
) -> tuple[InvoiceLine, LedgerEntry]:
    """The first session's SERVICE line and redemption. An appointment already charged without
    a pack has its line allocated instead of a second charge."""
    line: InvoiceLine | NewServiceLine = NewServiceLine(
        invoice=invoice,
        service=first.service,
        appointment_id=appointment.id if appointment else None,
    )
    if appointment is not None:
        existing = (
            await InvoiceLine.filter(
                appointment_id=appointment.id,
                kind=LineKind.SERVICE,
                service_id=first.service.id,
                voided_at__isnull=True,
            )
            .using_db(conn)
            .order_by("id")
            .first()
        )
        line = existing or line
    redeemed = await redeem_on_line(
        conn,
        actor=actor,
        deduction=first.deduction,
        line=line,
        now=now,
        extra={"firstSession": True},
    )
    if redeemed is None:
        raise DomainError(
            ErrorCode.ALREADY_ALLOCATED,
            "the appointment's visit is already allocated to a pack",
            "appointmentId",
        )
    return redeemed.line, redeemed.entry
