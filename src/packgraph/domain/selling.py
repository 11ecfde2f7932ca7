"""Selling packs (SPEC §1.3): from a template or custom fields, onto an invoice, optionally using
the first session at once; and auto-renewal (SPEC §1.7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.catalog import (
    UNSET,
    TemplateItemSpec,
    _Unset,
    check_services,
    get_client,
    get_service,
    get_template,
    template_item_specs,
    validate_pack_fields,
)
from packgraph.domain.clock import local_date, utcnow, validity_end
from packgraph.domain.deduction import allocated_line_fields, deduct, record_redemption
from packgraph.domain.errors import DomainError, ErrorCode, invalid, not_found
from packgraph.domain.events import append_event
from packgraph.domain.idempotency import run_idempotent
from packgraph.domain.invoices import business_of, create_invoice, get_invoice
from packgraph.domain.search import pack_search_name
from packgraph.domain.status import compute_status
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    Business,
    EventType,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LineKind,
    Metric,
    Pack,
    PackItem,
    PackItemService,
    PackTemplate,
    PaymentStatus,
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
class _PackSource:
    name: str
    description: str
    metric: Metric
    price: int
    session_price: int
    validity_days: int | None
    validity_months: int | None
    default_service_id: int | None
    items: list[TemplateItemSpec] = field(default_factory=list)
    template_id: int | None = None


async def _source_from_template(conn: BaseDBAsyncClient, template: PackTemplate) -> _PackSource:
    return _PackSource(
        name=template.name,
        description=template.description,
        metric=template.metric,
        price=template.price,
        session_price=template.session_price,
        validity_days=template.validity_days,
        validity_months=template.validity_months,
        default_service_id=template.default_service_id,
        items=await template_item_specs(conn, template),
        template_id=template.id,
    )


async def _create_pack(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    business: Business,
    client_id: int,
    source: _PackSource,
    discount: int,
    expires_at: datetime | None | _Unset,
    purchased_at: datetime,
    referral: dict,
) -> Pack:
    """The pack row and a copy of every item and eligible service: later template edits never
    reach it."""
    if expires_at is UNSET:
        expires_at = validity_end(
            purchased_at,
            days=source.validity_days,
            months=source.validity_months,
            timezone=business.timezone,
        )
    if expires_at is not None and expires_at <= utcnow():
        raise invalid("the pack would be expired already: give a later expiry", "expiresAt")
    final_price = source.price - discount
    items = [(0, spec.allowance) for spec in source.items]
    pack = await Pack.create(
        business_id=actor.business_id,
        client_id=client_id,
        template_id=source.template_id,
        name=source.name,
        search_name=pack_search_name(source.name),
        description=source.description,
        metric=source.metric,
        price=source.price,
        discount=discount,
        final_price=final_price,
        session_price=source.session_price,
        purchased_at=purchased_at,
        expires_at=expires_at,
        status=compute_status(cancelled_at=None, items=items, expires_at=expires_at, now=utcnow()),
        # A free pack is paid in full by definition (§1.2: payments >= final price).
        payment_status=PaymentStatus.PAID if final_price == 0 else PaymentStatus.UNPAID,
        **referral,
        using_db=conn,
    )
    for position, spec in enumerate(source.items):
        item = await PackItem.create(
            business_id=actor.business_id,
            pack=pack,
            position=position,
            allowance=spec.allowance,
            using_db=conn,
        )
        for service_id in dict.fromkeys(spec.service_ids):
            await PackItemService.create(
                business_id=actor.business_id, item=item, service_id=service_id, using_db=conn
            )
    return pack


async def _first_session_service(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    source: _PackSource,
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


async def _pack_sale_line(
    conn: BaseDBAsyncClient, *, actor: Actor, invoice: Invoice, pack: Pack
) -> InvoiceLine:
    return await InvoiceLine.create(
        business_id=actor.business_id,
        invoice=invoice,
        kind=LineKind.PACK_SALE,
        description=pack.name,
        pack=pack,
        quantity=1,
        unit_price=pack.final_price,
        amount=pack.final_price,
        using_db=conn,
    )


async def _pack_sold_event(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    pack: Pack,
    invoice: Invoice,
    line: InvoiceLine,
    extra: dict | None = None,
) -> None:
    await append_event(
        conn,
        actor=actor,
        type=EventType.PACK_SOLD,
        pack_id=pack.id,
        client_id=pack.client_id,
        payload={
            "name": pack.name,
            "templateId": pack.template_id,
            "price": pack.price,
            "discount": pack.discount,
            "finalPrice": pack.final_price,
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "lineId": line.id,
            "status": pack.status.value,
            **(extra or {}),
        },
    )


async def sell_pack(
    *,
    actor: Actor,
    client_id: int,
    template_id: int | None = None,
    custom: CustomPackSpec | None = None,
    discount: int = 0,
    expires_at: datetime | None | _Unset = UNSET,
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
        if template_id is not None:
            template = await get_template(conn, actor=actor, template_id=template_id)
            if template.archived:
                raise DomainError(
                    ErrorCode.INVALID_STATE, "this template is archived", "templateId"
                )
            source = await _source_from_template(conn, template)
        else:
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
            source = _PackSource(
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
        if discount > source.price:
            raise invalid("discount is more than the price", "discount")
        if isinstance(expires_at, datetime) and expires_at <= bought:
            raise invalid("expiry must be after the purchase", "expiresAt")
        invoice = None
        if invoice_id is not None:
            invoice = await get_invoice(conn, actor=actor, invoice_id=invoice_id)
            if invoice.client_id != client.id:
                raise invalid("the invoice belongs to another client", "invoiceId")
        appointment = None
        if appointment_id is not None:
            appointment = await Appointment.get_or_none(
                id=appointment_id,
                business_id=actor.business_id,
                client_id=client.id,
                deleted_at__isnull=True,
            ).using_db(conn)
            if appointment is None:
                raise not_found("appointment", "appointmentId")
            # The visit happened: mark it attended now, taking the appointment's row lock before
            # any pack or business row (the lock order of status.py and check-in).
            attended = (
                await Appointment.filter(id=appointment.id, status__not=AppointmentStatus.CANCELLED)
                .using_db(conn)
                .update(status=AppointmentStatus.ATTENDED, no_charge=False)
            )
            if not attended:
                raise DomainError(
                    ErrorCode.INVALID_STATE, "the appointment is cancelled", "appointmentId"
                )
        pack = await _create_pack(
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
        deduction = None
        if use_first_session:
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
            pack = deduction.pack
        if invoice is None:
            invoice = await create_invoice(
                conn,
                actor=actor,
                client_id=client.id,
                issued_on=local_date(bought, business.timezone),
            )
        line = await _pack_sale_line(conn, actor=actor, invoice=invoice, pack=pack)
        await _pack_sold_event(conn, actor=actor, pack=pack, invoice=invoice, line=line)
        if deduction is None:
            return SaleResult(pack=pack, invoice=invoice, line=line)
        service_line = await _first_session_line(
            conn,
            actor=actor,
            invoice=invoice,
            service=service,
            appointment=appointment,
            deduction=deduction,
        )
        entry = await record_redemption(
            conn,
            actor=actor,
            deduction=deduction,
            line=service_line,
            appointment_id=appointment.id if appointment else None,
            now=now,
            extra={"firstSession": True},
        )
        return SaleResult(
            pack=deduction.pack, invoice=invoice, line=line, entry=entry, service_line=service_line
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


async def _first_session_line(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    invoice: Invoice,
    service: Service,
    appointment: Appointment | None,
    deduction,
) -> InvoiceLine:
    """The first session's SERVICE line. An appointment already charged without a pack has its
    line allocated instead of a second charge; a booked one is marked attended."""
    fields = allocated_line_fields(deduction, 1)
    if appointment is not None:
        existing = (
            await InvoiceLine.filter(
                appointment_id=appointment.id, kind=LineKind.SERVICE, service_id=service.id
            )
            .using_db(conn)
            .order_by("id")
            .first()
        )
        if existing is not None:
            updated = (
                await InvoiceLine.filter(id=existing.id, pack_id__isnull=True)
                .using_db(conn)
                .update(**fields)
            )
            if not updated:
                raise DomainError(
                    ErrorCode.ALREADY_ALLOCATED,
                    "the appointment's visit is already allocated to a pack",
                    "appointmentId",
                )
            existing.update_from_dict(fields)
            return existing
    return await InvoiceLine.create(
        business_id=actor.business_id,
        invoice=invoice,
        kind=LineKind.SERVICE,
        description=service.name,
        service=service,
        appointment_id=appointment.id if appointment else None,
        quantity=1,
        **fields,
        using_db=conn,
    )


async def renew_pack(conn: BaseDBAsyncClient, *, pack: Pack, actor: Actor) -> Pack | None:
    """Auto-renewal: a new UNPAID pack from ``pack``'s template for the same client, on a new
    invoice, with a PACK_SOLD event (``renewedFromPackId``). Runs in the caller's transaction.

    Returns None when the template is gone or archived. The caller decides *when* (fully used:
    ``status.apply_status_effects``; expiry: the expiry job).
    """
    if pack.template_id is None:
        return None
    template = await PackTemplate.get_or_none(
        id=pack.template_id, business_id=pack.business_id
    ).using_db(conn)
    if template is None or template.archived:
        return None
    business = await Business.get(id=pack.business_id).using_db(conn)
    now = utcnow()
    source = await _source_from_template(conn, template)
    renewed = await _create_pack(
        conn,
        actor=actor,
        business=business,
        client_id=pack.client_id,
        source=source,
        discount=0,
        expires_at=UNSET,
        purchased_at=now,
        referral={},
    )
    invoice = await create_invoice(
        conn,
        actor=actor,
        client_id=pack.client_id,
        issued_on=local_date(now, business.timezone),
    )
    line = await _pack_sale_line(conn, actor=actor, invoice=invoice, pack=renewed)
    await _pack_sold_event(
        conn,
        actor=actor,
        pack=renewed,
        invoice=invoice,
        line=line,
        extra={"renewedFromPackId": pack.id},
    )
    return renewed
