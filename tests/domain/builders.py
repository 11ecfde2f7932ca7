"""Test builders: a business with its staff, services, templates, clients and packs.

Everything past the business and its staff is made through the domain functions, so a test's
"given" is built the way a user would build it. Other domain test modules import these.

    clinic = await build_clinic()                       # owner/manager/staff/integration actors
    sale = await sell(clinic, template=clinic.ten_massages)
    result = await redeem_session(actor=clinic.staff, pack_id=sale.pack.id,
                                  service_id=clinic.massage.id)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from packgraph.domain.actor import Actor
from packgraph.domain.catalog import (
    TemplateItemSpec,
    create_client,
    create_pack_template,
    create_service,
)
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.selling import SaleResult, sell_pack
from packgraph.domain.status import compute_status
from packgraph.models import (
    AutoRenew,
    Business,
    Event,
    EventType,
    LedgerEntry,
    Metric,
    Pack,
    PackItem,
    PackStatus,
    PackTemplate,
    Role,
    Service,
    Staff,
)
from packgraph.models.catalog import Client

_emails = itertools.count(1)


@dataclass
class Clinic:
    """A business with one actor per role, three services, a 10-massage template and a client."""

    business: Business
    owner: Actor
    manager: Actor
    staff: Actor
    integration: Actor
    massage: Service  # 60 minutes, $90
    long_massage: Service  # 90 minutes, $120
    physio: Service  # 45 minutes, $80
    ten_massages: PackTemplate  # SESSIONS, 10 x {massage}, $800, no expiry
    client: Client

    @property
    def business_id(self) -> int:
        return self.business.id


async def add_staff(business: Business, role: Role, name: str | None = None) -> Actor:
    """A staff member (or, for Role.INTEGRATION, an API key actor) of ``business``."""
    if role == Role.INTEGRATION:
        return Actor(business_id=business.id, role=role, api_key_id=next(_emails), name="Xero")
    name = name or f"{role.value.title()} {business.id}"
    staff = await Staff.create(
        business=business,
        name=name,
        email=f"staff{next(_emails)}-{business.id}@example.test",
        role=role,
        password_hash="not-a-hash",
    )
    return Actor(business_id=business.id, role=role, staff_id=staff.id, name=name)


async def add_service(
    actor: Actor, name: str = "Massage 60", *, duration_minutes: int = 60, price: int = 90_00
) -> Service:
    return await create_service(
        actor=actor, name=name, duration_minutes=duration_minutes, price=price
    )


async def add_template(
    actor: Actor,
    *,
    name: str = "10 massages",
    metric: Metric = Metric.SESSIONS,
    price: int = 800_00,
    items: Sequence[tuple[int, Sequence[Service]]],
    session_price: int = 0,
    validity_days: int | None = None,
    validity_months: int | None = None,
    default_service: Service | None = None,
    auto_renew: AutoRenew = AutoRenew.NEVER,
    description: str = "",
) -> PackTemplate:
    """``items`` is ``[(allowance, [service, ...]), ...]``."""
    return await create_pack_template(
        actor=actor,
        name=name,
        metric=metric,
        price=price,
        items=[
            TemplateItemSpec(allowance=allowance, service_ids=[s.id for s in services])
            for allowance, services in items
        ],
        description=description,
        session_price=session_price,
        validity_days=validity_days,
        validity_months=validity_months,
        default_service_id=default_service.id if default_service else None,
        auto_renew=auto_renew,
    )


async def add_client(actor: Actor, name: str = "Ana Lima", **fields: Any) -> Client:
    return await create_client(actor=actor, name=name, **fields)


async def build_clinic(name: str = "Clinic", *, timezone: str = "UTC", **settings: Any) -> Clinic:
    """A fresh business. ``settings`` are Business fields (``redemption_requires_full_payment``,
    ``redeem_on_no_show``, ``create_task_on_pack_end``, ``reminder_days``)."""
    business = await Business.create(name=name, timezone=timezone, **settings)
    owner = await add_staff(business, Role.OWNER, "Olivia Owner")
    manager = await add_staff(business, Role.MANAGER, "Max Manager")
    staff = await add_staff(business, Role.STAFF, "Sam Staff")
    integration = await add_staff(business, Role.INTEGRATION)
    massage = await add_service(owner, "Massage 60", duration_minutes=60, price=90_00)
    long_massage = await add_service(owner, "Massage 90", duration_minutes=90, price=120_00)
    physio = await add_service(owner, "Physio", duration_minutes=45, price=80_00)
    ten_massages = await add_template(owner, items=[(10, [massage])], default_service=massage)
    client = await add_client(owner)
    return Clinic(
        business=business,
        owner=owner,
        manager=manager,
        staff=staff,
        integration=integration,
        massage=massage,
        long_massage=long_massage,
        physio=physio,
        ten_massages=ten_massages,
        client=client,
    )


async def sell(
    clinic: Clinic,
    *,
    template: PackTemplate | None = None,
    client: Client | None = None,
    actor: Actor | None = None,
    purchased_at: datetime | None = None,
    **kwargs: Any,
) -> SaleResult:
    """Sell ``template`` (default: 10 massages) to ``client`` (default: the clinic's client)."""
    return await sell_pack(
        actor=actor or clinic.staff,
        client_id=(client or clinic.client).id,
        template_id=(template or clinic.ten_massages).id,
        purchased_at=purchased_at,
        **kwargs,
    )


async def sell_sessions(
    clinic: Clinic,
    allowance: int,
    *,
    services: Sequence[Service] | None = None,
    client: Client | None = None,
    **kwargs: Any,
) -> Pack:
    """A SESSIONS pack of ``allowance`` massages (or ``services``), from a new template."""
    template = await add_template(
        clinic.owner,
        name=f"{allowance} sessions",
        price=allowance * 80_00,
        items=[(allowance, list(services or [clinic.massage]))],
    )
    sale = await sell(clinic, template=template, client=client, **kwargs)
    return sale.pack


# --- reading the outcome ------------------------------------------------------------------------


async def reload_pack(pack_id: int) -> Pack:
    return await Pack.get(id=pack_id)


async def item_usage(pack_id: int) -> list[tuple[int, int]]:
    """``[(used, allowance), ...]`` of a pack's items, in item order."""
    rows = await PackItem.filter(pack_id=pack_id).order_by("position", "id")
    return [(row.used, row.allowance) for row in rows]


async def events_of(business_id: int, *types: EventType) -> list[Event]:
    """The business's outbox rows in seq order, optionally of the given types only."""
    query = Event.filter(business_id=business_id)
    if types:
        query = query.filter(type__in=list(types))
    return await query.order_by("seq")


async def event_types(business_id: int) -> list[str]:
    return [event.type.value for event in await events_of(business_id)]


async def assert_ledger_consistent(pack_id: int) -> None:
    """``used`` equals the sum of the item's ledger entries, within ``0..allowance``, and the
    stored status matches the §1.2 rules."""
    pack = await Pack.get(id=pack_id)
    items = await PackItem.filter(pack_id=pack_id)
    for item in items:
        entries = await LedgerEntry.filter(item_id=item.id).values_list("quantity", flat=True)
        assert item.used == sum(entries), (item.id, item.used, list(entries))
        assert 0 <= item.used <= item.allowance
    expected = compute_status(
        cancelled_at=pack.cancelled_at,
        items=[(i.used, i.allowance) for i in items],
        expires_at=pack.expires_at,
        now=utcnow(),
    )
    # The expiry job moves ACTIVE packs past their date; until it runs ACTIVE is allowed.
    if not (expected == PackStatus.EXPIRED and pack.status == PackStatus.ACTIVE):
        assert pack.status == expected, (pack.status, expected)


async def snapshot_counts(business_id: int) -> dict[str, int]:
    """Row counts of everything a write may touch: equal before and after a failed operation."""
    from packgraph.models import (
        Appointment,
        CreditEntry,
        IdempotencyRecord,
        Invoice,
        InvoiceLine,
        Payment,
        Task,
    )

    counts = {}
    for model in (
        Pack,
        PackItem,
        LedgerEntry,
        Event,
        Invoice,
        InvoiceLine,
        Appointment,
        Payment,
        Task,
        IdempotencyRecord,
        CreditEntry,
    ):
        counts[model.__name__] = await model.filter(business_id=business_id).count()
    counts["used"] = sum(
        await PackItem.filter(business_id=business_id).values_list("used", flat=True)
    )
    business = await Business.get(id=business_id)
    counts["event_seq"] = business.event_seq
    counts["invoice_seq"] = business.invoice_seq
    counts["pack_versions"] = sum(
        await Pack.filter(business_id=business_id).values_list("version", flat=True)
    )
    counts["voided"] = sum(
        await InvoiceLine.filter(business_id=business_id).values_list("voided_amount", flat=True)
    )
    counts["line_amounts"] = sum(
        await InvoiceLine.filter(business_id=business_id).values_list("amount", flat=True)
    )
    counts["appointment_services"] = sum(
        await Appointment.filter(business_id=business_id).values_list("service_id", flat=True)
    )
    counts["void_invoices"] = await Invoice.filter(
        business_id=business_id, voided_at__isnull=False
    ).count()
    return counts


async def refused(clinic: Clinic, operation: Any, code: ErrorCode) -> DomainError:
    """``operation`` (a coroutine function) fails with ``code`` and changes nothing at all."""
    before = await snapshot_counts(clinic.business_id)
    with pytest.raises(DomainError) as failure:
        await operation()
    assert failure.value.code == code, failure.value
    assert await snapshot_counts(clinic.business_id) == before
    return failure.value
