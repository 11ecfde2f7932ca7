"""Making a pack: the template (or custom fields) copied into a pack row with its items, its
PACK_SALE invoice line and its PACK_SOLD event, in the caller's transaction.

Used by a sale (``selling.py``) and by auto-renewal (``pack_end.py``). Templates are copied, so
editing a template later never changes packs already sold (SPEC §1.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.catalog import UNSET, TemplateItemSpec, Unset, template_item_specs
from packgraph.domain.clock import utcnow, validity_end
from packgraph.domain.errors import invalid
from packgraph.domain.events import append_event
from packgraph.domain.search import pack_search_name
from packgraph.domain.status import compute_status
from packgraph.models import (
    Business,
    EventType,
    Invoice,
    InvoiceLine,
    LineKind,
    Metric,
    Pack,
    PackItem,
    PackItemService,
    PackTemplate,
    PaymentStatus,
)


@dataclass(frozen=True)
class PackSource:
    """What a pack is copied from: a template's fields, or a custom pack's."""

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


async def source_from_template(conn: BaseDBAsyncClient, template: PackTemplate) -> PackSource:
    return PackSource(
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


async def create_pack(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    business: Business,
    client_id: int,
    source: PackSource,
    discount: int,
    expires_at: datetime | None | Unset,
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


async def add_pack_sale_line(
    conn: BaseDBAsyncClient, *, actor: Actor, invoice: Invoice, pack: Pack
) -> InvoiceLine:
    """The PACK_SALE line charging the pack's final price on ``invoice``."""
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


async def append_pack_sold(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    pack: Pack,
    invoice: Invoice,
    line: InvoiceLine,
    extra: dict | None = None,
) -> None:
    """The PACK_SOLD event of a pack and its sale line."""
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
