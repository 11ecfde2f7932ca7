"""``node(id:)`` and ``nodes(ids:)``: any object by its global ID, within the viewer's business."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry import relay

from packgraph.resolvers.context import Info
from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.clients import ClientType
from packgraph.schema.ledger import LedgerEntryType, PackNoteType
from packgraph.schema.packs import PackItemType, PackType
from packgraph.schema.relay import MAX_PAGE_SIZE, BadRequestError, parse_global_id
from packgraph.schema.tasks import TaskType
from packgraph.schema.tenants import ApiKeyType, BusinessType, StaffType
from packgraph.schema.visits import AppointmentType, InvoiceLineType, InvoiceType, PaymentType

# GraphQL type name -> (loader attribute, builder). Every Node type is here: a test checks it.
NODE_TYPES: dict[str, tuple[str, Callable[[Any], relay.Node]]] = {
    "Business": ("business", BusinessType.from_row),
    "Staff": ("staff", StaffType.from_row),
    "ApiKey": ("api_key", ApiKeyType.from_row),
    "Client": ("client", ClientType.from_row),
    "Service": ("service", ServiceType.from_row),
    "PackTemplate": ("template", PackTemplateType.from_row),
    "Pack": ("pack", PackType.from_row),
    "PackItem": ("pack_item", PackItemType.from_row),
    "LedgerEntry": ("entry", LedgerEntryType.from_row),
    "PackNote": ("note", PackNoteType.from_row),
    "Appointment": ("appointment", AppointmentType.from_row),
    "Invoice": ("invoice", InvoiceType.from_row),
    "InvoiceLine": ("line", InvoiceLineType.from_row),
    "Payment": ("payment", PaymentType.from_row),
    "Task": ("task", TaskType.from_row),
}


async def load_node(info: Info, global_id: str, type_name: str | None = None) -> Any | None:
    """The object behind ``global_id`` (of ``type_name`` when given), or None when the ID is
    malformed, of another type, unknown, or of another business."""
    parsed = parse_global_id(global_id, type_name)
    if parsed is None or parsed[0] not in NODE_TYPES:
        return None
    found_type, pk = parsed
    loader_name, build = NODE_TYPES[found_type]
    row = await getattr(info.context.loaders, loader_name).load(pk)
    return build(row) if row is not None else None


async def node(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="A global ID of any type.")],
) -> relay.Node | None:
    info.context.require_actor()
    return await load_node(info, str(id))


async def nodes(
    info: Info,
    ids: Annotated[
        list[strawberry.ID], strawberry.argument(description="Up to 100 global IDs of any type.")
    ],
) -> list[relay.Node | None]:
    info.context.require_actor()
    if len(ids) > MAX_PAGE_SIZE:
        raise BadRequestError(f"at most {MAX_PAGE_SIZE} ids at a time", code="TOO_MANY_IDS")
    # Gathered, so the loaders answer every ID of a type with one statement.
    return list(await asyncio.gather(*(load_node(info, str(value)) for value in ids)))
