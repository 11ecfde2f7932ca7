"""Clients, services, pack templates and business settings: the setup packs are sold from.

These functions return the stored row. Setup (services, templates, business settings) is for
managers and owners; clients can be created and edited by any staff member. Integration keys
cannot write anything.

Why one module of ~500 lines: its four sections (clients, services, pack templates, business
settings) are small and independent, and the API layer, the demo and the tests address them as
one namespace (``catalog.create_client(...)``, ``catalog.TemplateItemSpec``). Splitting it means
changing those call sites, which belongs with the API layer's reorganisation (issue 13), not
with the domain's.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.errors import invalid, not_found
from packgraph.domain.search import changed_client_search_text, client_search_text
from packgraph.domain.transaction import write_transaction
from packgraph.models import (
    AutoRenew,
    Business,
    Client,
    Metric,
    Pack,
    PackTemplate,
    PackTemplateItem,
    PackTemplateItemService,
    Service,
)


class Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""A keyword argument that was not given (distinct from ``None``, which may mean "clear it")."""

# A century: longer validities serve no business and overflow the calendar (year 9999).
MAX_VALIDITY_DAYS: Final = 36_600
MAX_VALIDITY_MONTHS: Final = 1_200


@dataclass(frozen=True)
class TemplateItemSpec:
    """One allowance of a template or custom pack, in metric units, and its eligible services."""

    allowance: int
    service_ids: Sequence[int] = field(default_factory=list)


def _name(value: str, field_name: str = "name") -> str:
    value = (value or "").strip()
    if not value:
        raise invalid(f"{field_name} must not be empty", field_name)
    if len(value) > 200:
        raise invalid(f"{field_name} is longer than 200 characters", field_name)
    return value


def _not_negative(value: int, field_name: str) -> int:
    if not isinstance(value, int) or value < 0:
        raise invalid(f"{field_name} must be zero or more", field_name)
    return value


def _positive(value: int, field_name: str) -> int:
    if not isinstance(value, int) or value <= 0:
        raise invalid(f"{field_name} must be more than zero", field_name)
    return value


# --- clients ------------------------------------------------------------------------------------


async def create_client(
    *, actor: Actor, name: str, email: str = "", phone: str = "", notes: str = ""
) -> Client:
    """Create a client of the actor's business."""
    actor.require_staff()
    name = _name(name)
    async with write_transaction(actor.business_id) as conn:
        return await Client.create(
            business_id=actor.business_id,
            name=name,
            email=email.strip(),
            phone=phone.strip(),
            notes=notes,
            search_text=client_search_text(name=name, email=email, phone=phone),
            using_db=conn,
        )


async def get_client(conn: BaseDBAsyncClient | None, *, actor: Actor, client_id: int) -> Client:
    """The client, or NOT_FOUND for unknown and other-business IDs alike."""
    client = await Client.get_or_none(id=client_id, business_id=actor.business_id).using_db(conn)
    if client is None:
        raise not_found("client", "clientId")
    return client


async def update_client(
    *,
    actor: Actor,
    client_id: int,
    name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    notes: str | Unset = UNSET,
) -> Client:
    """Change the given fields of a client."""
    actor.require_staff()
    changes: dict[str, Any] = {}
    if name is not UNSET:
        changes["name"] = _name(name)
    if email is not UNSET:
        changes["email"] = email.strip()
    if phone is not UNSET:
        changes["phone"] = phone.strip()
    if notes is not UNSET:
        changes["notes"] = notes
    async with write_transaction(actor.business_id) as conn:
        client = await get_client(conn, actor=actor, client_id=client_id)
        if changes:
            changes["search_text"] = changed_client_search_text(client, changes)
            await Client.filter(id=client.id).using_db(conn).update(**changes)
            client.update_from_dict(changes)
        return client


async def set_client_billing_preference(
    *, actor: Actor, client_id: int, pack_id: int | None = None, service_id: int | None = None
) -> Client:
    """Set the client's preferred pack or preferred service (or clear both with neither).

    The preference is applied to every new appointment of the client (Power Diary "Billing setup").
    """
    actor.require_staff()
    if pack_id is not None and service_id is not None:
        raise invalid("choose a preferred pack or a preferred service, not both", "packId")
    async with write_transaction(actor.business_id) as conn:
        client = await get_client(conn, actor=actor, client_id=client_id)
        if pack_id is not None:
            pack = await Pack.get_or_none(
                id=pack_id, business_id=actor.business_id, deleted_at__isnull=True
            ).using_db(conn)
            if pack is None or pack.client_id != client.id:
                raise not_found("pack", "packId")
        if service_id is not None:
            await get_service(conn, actor=actor, service_id=service_id)
        await (
            Client.filter(id=client.id)
            .using_db(conn)
            .update(preferred_pack_id=pack_id, preferred_service_id=service_id)
        )
        client.preferred_pack_id = pack_id
        client.preferred_service_id = service_id
        return client


# --- services -----------------------------------------------------------------------------------


async def get_service(
    conn: BaseDBAsyncClient | None, *, actor: Actor, service_id: int, field: str = "serviceId"
) -> Service:
    service = await Service.get_or_none(id=service_id, business_id=actor.business_id).using_db(conn)
    if service is None:
        raise not_found("service", field)
    return service


async def create_service(
    *, actor: Actor, name: str, duration_minutes: int, price: int, active: bool = True
) -> Service:
    """Create a service (what is sold per visit). Managers and owners only."""
    actor.require_staff()
    actor.require_manager("create services")
    name = _name(name)
    _positive(duration_minutes, "durationMinutes")
    _not_negative(price, "price")
    async with write_transaction(actor.business_id) as conn:
        return await Service.create(
            business_id=actor.business_id,
            name=name,
            duration_minutes=duration_minutes,
            price=price,
            active=active,
            using_db=conn,
        )


async def update_service(
    *,
    actor: Actor,
    service_id: int,
    name: str | Unset = UNSET,
    duration_minutes: int | Unset = UNSET,
    price: int | Unset = UNSET,
    active: bool | Unset = UNSET,
) -> Service:
    """Change a service. Packs already sold keep their items; only future visits see the change."""
    actor.require_staff()
    actor.require_manager("edit services")
    changes: dict[str, Any] = {}
    if name is not UNSET:
        changes["name"] = _name(name)
    if duration_minutes is not UNSET:
        changes["duration_minutes"] = _positive(duration_minutes, "durationMinutes")
    if price is not UNSET:
        changes["price"] = _not_negative(price, "price")
    if active is not UNSET:
        changes["active"] = bool(active)
    async with write_transaction(actor.business_id) as conn:
        service = await get_service(conn, actor=actor, service_id=service_id)
        if changes:
            await Service.filter(id=service.id).using_db(conn).update(**changes)
            service.update_from_dict(changes)
        return service


# --- pack templates -----------------------------------------------------------------------------


def validate_pack_fields(
    *,
    price: int,
    session_price: int,
    validity_days: int | None,
    validity_months: int | None,
    items: Sequence[TemplateItemSpec],
) -> None:
    """Rules shared by templates and custom packs sold without one."""
    _not_negative(price, "price")
    _not_negative(session_price, "sessionPrice")
    if validity_days is not None and validity_months is not None:
        raise invalid("give validity in days or in months, not both", "validityDays")
    for value, most, field_name in (
        (validity_days, MAX_VALIDITY_DAYS, "validityDays"),
        (validity_months, MAX_VALIDITY_MONTHS, "validityMonths"),
    ):
        if value is not None and _positive(value, field_name) > most:
            raise invalid(f"{field_name} must be at most {most}", field_name)
    if not items:
        raise invalid("a pack needs at least one item", "items")
    for index, item in enumerate(items):
        _positive(item.allowance, f"items.{index}.allowance")
        if not item.service_ids:
            raise invalid("each item needs at least one eligible service", f"items.{index}")


async def check_services(
    conn: BaseDBAsyncClient, *, actor: Actor, items: Sequence[TemplateItemSpec]
) -> None:
    """Every eligible service exists in the actor's business."""
    for index, item in enumerate(items):
        wanted = set(item.service_ids)
        found = (
            await Service.filter(id__in=list(wanted), business_id=actor.business_id)
            .using_db(conn)
            .count()
        )
        if found != len(wanted):
            raise not_found("service", f"items.{index}.serviceIds")


async def _write_template_items(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    template: PackTemplate,
    items: Sequence[TemplateItemSpec],
) -> None:
    for position, spec in enumerate(items):
        item = await PackTemplateItem.create(
            business_id=actor.business_id,
            template=template,
            position=position,
            allowance=spec.allowance,
            using_db=conn,
        )
        for service_id in dict.fromkeys(spec.service_ids):
            await PackTemplateItemService.create(
                business_id=actor.business_id, item=item, service_id=service_id, using_db=conn
            )


def _check_default_service(
    default_service_id: int | None, items: Sequence[TemplateItemSpec]
) -> None:
    if default_service_id is None:
        return
    if not any(default_service_id in item.service_ids for item in items):
        raise invalid(
            "the default service must be eligible in one of the items", "defaultServiceId"
        )


async def get_template(
    conn: BaseDBAsyncClient | None, *, actor: Actor, template_id: int
) -> PackTemplate:
    template = await PackTemplate.get_or_none(
        id=template_id, business_id=actor.business_id
    ).using_db(conn)
    if template is None:
        raise not_found("pack template", "templateId")
    return template


async def template_item_specs(
    conn: BaseDBAsyncClient | None, template: PackTemplate
) -> list[TemplateItemSpec]:
    """The template's items as specs, in position order."""
    items = (
        await PackTemplateItem.filter(template_id=template.id)
        .using_db(conn)
        .order_by("position", "id")
    )
    specs = []
    for item in items:
        service_ids = (
            await PackTemplateItemService.filter(item_id=item.id)
            .using_db(conn)
            .order_by("id")
            .values_list("service_id", flat=True)
        )
        specs.append(TemplateItemSpec(allowance=item.allowance, service_ids=list(service_ids)))
    return specs


async def create_pack_template(
    *,
    actor: Actor,
    name: str,
    metric: Metric,
    price: int,
    items: Sequence[TemplateItemSpec],
    description: str = "",
    session_price: int = 0,
    validity_days: int | None = None,
    validity_months: int | None = None,
    default_service_id: int | None = None,
    auto_renew: AutoRenew = AutoRenew.NEVER,
) -> PackTemplate:
    """Create a pack definition to sell from. Managers and owners only."""
    actor.require_staff()
    actor.require_manager("create pack templates")
    name = _name(name)
    metric = Metric(metric)
    validate_pack_fields(
        price=price,
        session_price=session_price,
        validity_days=validity_days,
        validity_months=validity_months,
        items=items,
    )
    _check_default_service(default_service_id, items)
    async with write_transaction(actor.business_id) as conn:
        await check_services(conn, actor=actor, items=items)
        template = await PackTemplate.create(
            business_id=actor.business_id,
            name=name,
            description=description,
            metric=metric,
            price=price,
            session_price=session_price,
            validity_days=validity_days,
            validity_months=validity_months,
            default_service_id=default_service_id,
            auto_renew=AutoRenew(auto_renew),
            using_db=conn,
        )
        await _write_template_items(conn, actor=actor, template=template, items=items)
        return template


async def update_pack_template(
    *,
    actor: Actor,
    template_id: int,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    price: int | Unset = UNSET,
    session_price: int | Unset = UNSET,
    validity_days: int | None | Unset = UNSET,
    validity_months: int | None | Unset = UNSET,
    default_service_id: int | None | Unset = UNSET,
    auto_renew: AutoRenew | Unset = UNSET,
    items: Sequence[TemplateItemSpec] | Unset = UNSET,
) -> PackTemplate:
    """Edit a template. Packs already sold are copies and never change (SPEC §1.3)."""
    actor.require_staff()
    actor.require_manager("edit pack templates")
    async with write_transaction(actor.business_id) as conn:
        template = await get_template(conn, actor=actor, template_id=template_id)
        current_items = await template_item_specs(conn, template)
        new_items = current_items if items is UNSET else list(items)
        changes: dict[str, Any] = {}
        if name is not UNSET:
            changes["name"] = _name(name)
        for key, value in (
            ("description", description),
            ("price", price),
            ("session_price", session_price),
            ("validity_days", validity_days),
            ("validity_months", validity_months),
            ("default_service_id", default_service_id),
        ):
            if value is not UNSET:
                changes[key] = value
        if auto_renew is not UNSET:
            changes["auto_renew"] = AutoRenew(auto_renew)
        merged = {
            "price": template.price,
            "session_price": template.session_price,
            "validity_days": template.validity_days,
            "validity_months": template.validity_months,
            "default_service_id": template.default_service_id,
        } | {k: v for k, v in changes.items() if k != "name"}
        validate_pack_fields(
            price=merged["price"],
            session_price=merged["session_price"],
            validity_days=merged["validity_days"],
            validity_months=merged["validity_months"],
            items=new_items,
        )
        _check_default_service(merged["default_service_id"], new_items)
        if changes:
            await PackTemplate.filter(id=template.id).using_db(conn).update(**changes)
            template.update_from_dict(changes)
        if items is not UNSET:
            await check_services(conn, actor=actor, items=new_items)
            await PackTemplateItem.filter(template_id=template.id).using_db(conn).delete()
            await _write_template_items(conn, actor=actor, template=template, items=new_items)
        return template


async def archive_pack_template(
    *, actor: Actor, template_id: int, archived: bool = True
) -> PackTemplate:
    """Hide a template from selling (``archived=False`` restores it). Sold packs are unaffected."""
    actor.require_staff()
    actor.require_manager("archive pack templates")
    async with write_transaction(actor.business_id) as conn:
        template = await get_template(conn, actor=actor, template_id=template_id)
        await PackTemplate.filter(id=template.id).using_db(conn).update(archived=archived)
        template.archived = archived
        return template


# --- business settings --------------------------------------------------------------------------


async def update_business_settings(
    *,
    actor: Actor,
    name: str | Unset = UNSET,
    timezone: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    redemption_requires_full_payment: bool | Unset = UNSET,
    redeem_on_no_show: bool | Unset = UNSET,
    create_task_on_pack_end: bool | Unset = UNSET,
    reminder_days: int | Unset = UNSET,
) -> Business:
    """Change the business's settings. Managers and owners only."""
    actor.require_staff()
    actor.require_manager("change business settings")
    changes: dict[str, Any] = {}
    if name is not UNSET:
        changes["name"] = _name(name)
    if timezone is not UNSET:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:
            raise invalid(f"unknown timezone {timezone!r}", "timezone") from error
        changes["timezone"] = timezone
    if currency is not UNSET:
        if len(currency) != 3 or not currency.isalpha():
            raise invalid("currency must be an ISO 4217 code", "currency")
        changes["currency"] = currency.upper()
    for key, flag in (
        ("redemption_requires_full_payment", redemption_requires_full_payment),
        ("redeem_on_no_show", redeem_on_no_show),
        ("create_task_on_pack_end", create_task_on_pack_end),
    ):
        if flag is not UNSET:
            changes[key] = bool(flag)
    if reminder_days is not UNSET:
        changes["reminder_days"] = _not_negative(reminder_days, "reminderDays")
    async with write_transaction(actor.business_id) as conn:
        if changes:
            await Business.filter(id=actor.business_id).using_db(conn).update(**changes)
        return await Business.get(id=actor.business_id).using_db(conn)
