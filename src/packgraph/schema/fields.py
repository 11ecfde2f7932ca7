"""Root query fields, one class per area. Resolvers live in :mod:`packgraph.resolvers`."""

from __future__ import annotations

import strawberry
from strawberry import relay

from packgraph.resolvers import accounts as account_resolvers
from packgraph.resolvers import catalog as catalog_resolvers
from packgraph.resolvers import nodes as node_resolvers
from packgraph.resolvers import packs as pack_resolvers
from packgraph.resolvers import visits as visit_resolvers
from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.clients import ClientConnection, ClientType
from packgraph.schema.packs import PackConnection, PackType
from packgraph.schema.tasks import TaskConnection
from packgraph.schema.tenants import BusinessType, Viewer
from packgraph.schema.visits import AppointmentConnection, InvoiceConnection, InvoiceType


@strawberry.type(description="Who is asking, and their business.")
class AccountQueries:
    viewer: Viewer = strawberry.field(
        resolver=account_resolvers.viewer,
        description="The staff member or API key the bearer token belongs to.",
    )
    business: BusinessType = strawberry.field(
        resolver=account_resolvers.business, description="The viewer's business and its settings."
    )


@strawberry.type(description="Any object by its global ID.")
class NodeQueries:
    node: relay.Node | None = strawberry.field(
        resolver=node_resolvers.node,
        description="The object with this global ID; null when it does not exist or belongs to "
        "another business.",
    )
    nodes: list[relay.Node | None] = strawberry.field(
        resolver=node_resolvers.nodes,
        description="The objects with these global IDs, in order; null for each one not found.",
    )


@strawberry.type(description="Clients, services and pack templates.")
class CatalogQueries:
    clients: ClientConnection = strawberry.field(
        resolver=catalog_resolvers.clients, description="Clients by name, optionally searched."
    )
    client: ClientType | None = strawberry.field(
        resolver=catalog_resolvers.client, description="One client; null when not found."
    )
    services: list[ServiceType] = strawberry.field(
        resolver=catalog_resolvers.services, description="Services by name."
    )
    pack_templates: list[PackTemplateType] = strawberry.field(
        resolver=catalog_resolvers.pack_templates, description="Pack templates by name."
    )


@strawberry.type(description="Packs: the board and the detail.")
class PackQueries:
    packs: PackConnection = strawberry.field(
        resolver=pack_resolvers.packs,
        description="The pack board: packs (deleted ones left out) filtered and ordered, in "
        "pages. Cursors stay valid while packs change.",
    )
    pack: PackType | None = strawberry.field(
        resolver=pack_resolvers.pack,
        description="One pack (also a deleted one, with `deletedAt` set); null when not found.",
    )


@strawberry.type(description="Appointments, invoices and tasks.")
class VisitQueries:
    appointments: AppointmentConnection = strawberry.field(
        resolver=visit_resolvers.appointments,
        description="Appointments by start time, e.g. today's: `from` midnight `to` the next "
        "midnight in the business timezone.",
    )
    invoices: InvoiceConnection = strawberry.field(
        resolver=visit_resolvers.invoices, description="Invoices, newest first."
    )
    invoice: InvoiceType | None = strawberry.field(
        resolver=visit_resolvers.invoice, description="One invoice; null when not found."
    )
    tasks: TaskConnection = strawberry.field(
        resolver=visit_resolvers.tasks, description="Tasks raised by the system, newest first."
    )


QUERY_AREAS: list[type] = [AccountQueries, NodeQueries, CatalogQueries, PackQueries, VisitQueries]
