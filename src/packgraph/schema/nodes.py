"""``node(id:)`` and ``nodes(ids:)``: any object by its global ID, within the viewer's business."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry import relay

from packgraph.resolvers import nodes as node_resolvers
from packgraph.resolvers.context import Info
from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.clients import ClientType
from packgraph.schema.ledger import LedgerEntryType, PackNoteType
from packgraph.schema.packs import PackItemType, PackType
from packgraph.schema.tasks import TaskType
from packgraph.schema.tenants import ApiKeyType, BusinessType, StaffType
from packgraph.schema.visits import (
    AppointmentType,
    CreditEntryType,
    InvoiceLineType,
    InvoiceType,
    PaymentType,
)

# GraphQL type name -> how its object is built from a row. Every Node type is here (a test
# checks it), with its loader in ``resolvers.nodes.NODE_LOADERS``.
NODE_TYPES: dict[str, Callable[[Any], relay.Node]] = {
    "Business": BusinessType.from_row,
    "Staff": StaffType.from_row,
    "ApiKey": ApiKeyType.from_row,
    "Client": ClientType.from_row,
    "Service": ServiceType.from_row,
    "PackTemplate": PackTemplateType.from_row,
    "Pack": PackType.from_row,
    "PackItem": PackItemType.from_row,
    "LedgerEntry": LedgerEntryType.from_row,
    "PackNote": PackNoteType.from_row,
    "Appointment": AppointmentType.from_row,
    "Invoice": InvoiceType.from_row,
    "InvoiceLine": InvoiceLineType.from_row,
    "Payment": PaymentType.from_row,
    "CreditEntry": CreditEntryType.from_row,
    "Task": TaskType.from_row,
}


def _node_of(found: tuple[str, Any] | None) -> relay.Node | None:
    return NODE_TYPES[found[0]](found[1]) if found is not None else None


@strawberry.type(description="Any object by its global ID.")
class NodeQueries:
    @strawberry.field(
        description="The object with this global ID; null when it does not exist or belongs to "
        "another business."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID of any type.")],
    ) -> relay.Node | None:
        return _node_of(await node_resolvers.node(info, str(id)))

    @strawberry.field(
        description="The objects with these global IDs, in order; null for each one not found."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Up to 100 global IDs of any type."),
        ],
    ) -> list[relay.Node | None]:
        found = await node_resolvers.nodes(info, [str(value) for value in ids])
        return [_node_of(item) for item in found]


QUERY_AREAS: list[type] = [NodeQueries]
