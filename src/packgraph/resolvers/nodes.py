"""Rows by global ID, within the viewer's business: what ``node`` and ``nodes`` read."""

from __future__ import annotations

import asyncio
from typing import Any

from packgraph.resolvers.context import Info
from packgraph.resolvers.ids import MAX_PAGE_SIZE, BadRequestError, parse_global_id

# GraphQL type name -> the loader that reads its rows (scoped to the viewer's business).
NODE_LOADERS: dict[str, str] = {
    "Business": "business",
    "Staff": "staff",
    "ApiKey": "api_key",
    "Client": "client",
    "Service": "service",
    "PackTemplate": "template",
    "Pack": "pack",
    "PackItem": "pack_item",
    "LedgerEntry": "entry",
    "PackNote": "note",
    "Appointment": "appointment",
    "Invoice": "invoice",
    "InvoiceLine": "line",
    "Payment": "payment",
    "CreditEntry": "credit_entry",
    "Task": "task",
}


async def load_node(info: Info, global_id: str) -> tuple[str, Any] | None:
    """``(type name, row)`` behind ``global_id``, or None when the ID is malformed, unknown, or
    of another business."""
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] not in NODE_LOADERS:
        return None
    found_type, pk = parsed
    row = await getattr(info.context.loaders, NODE_LOADERS[found_type]).load(pk)
    return (found_type, row) if row is not None else None


async def node(info: Info, id: str) -> tuple[str, Any] | None:
    info.context.require_actor()
    return await load_node(info, id)


async def nodes(info: Info, ids: list[str]) -> list[tuple[str, Any] | None]:
    info.context.require_actor()
    if len(ids) > MAX_PAGE_SIZE:
        raise BadRequestError(f"at most {MAX_PAGE_SIZE} ids at a time", code="TOO_MANY_IDS")
    # Gathered, so the loaders answer every ID of a type with one statement.
    return list(await asyncio.gather(*(load_node(info, value) for value in ids)))
