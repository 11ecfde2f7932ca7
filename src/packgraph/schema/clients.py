"""Clients: the customers or patients who own packs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from packgraph.models import Client
from packgraph.resolvers import catalog as catalog_resolvers
from packgraph.resolvers.context import Info
from packgraph.resolvers.ids import DEFAULT_PAGE_SIZE, page_size
from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.refs import AppointmentRef, CreditEntryRef, InvoiceRef, PackRef, resolved
from packgraph.schema.relay import AFTER, FIRST, CountedConnection, connection_of


@strawberry.type(name="Client", description="A customer or patient.")
class ClientType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="Email address; empty when unknown.")
    phone: str = strawberry.field(description="Phone number; empty when unknown.")
    notes: str = strawberry.field(description="Free-text notes about the client.")
    created_at: datetime = strawberry.field(description="When the client was added.")
    row: strawberry.Private[Client]

    @classmethod
    def from_row(cls, row: Client) -> ClientType:
        return cls(
            id=row.id,
            name=row.name,
            email=row.email,
            phone=row.phone,
            notes=row.notes,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(
        description="Billing setup: the pack every new appointment uses by default (or null)."
    )
    async def preferred_pack(self, info: Info) -> PackRef | None:
        pack_id = self.row.preferred_pack_id  # type: ignore[attr-defined]
        row = await info.context.loaders.pack.load(pack_id) if pack_id else None
        return resolved(PackRef).from_row(row) if row else None

    @strawberry.field(
        description="Billing setup: the service every new appointment books by default (or null)."
    )
    async def preferred_service(self, info: Info) -> ServiceType | None:
        service_id = self.row.preferred_service_id  # type: ignore[attr-defined]
        row = await info.context.loaders.service.load(service_id) if service_id else None
        return ServiceType.from_row(row) if row else None

    @strawberry.field(description="The client's packs (deleted ones left out), newest first.")
    async def packs(self, info: Info) -> list[PackRef]:
        rows = await info.context.loaders.client_packs.load(self.id)
        return [resolved(PackRef).from_row(row) for row in rows]

    @strawberry.field(
        description="The client's appointments (deleted ones left out), latest first."
    )
    async def appointments(self, info: Info) -> list[AppointmentRef]:
        rows = await info.context.loaders.client_appointments.load(self.id)
        return [resolved(AppointmentRef).from_row(row) for row in rows]

    @strawberry.field(description="The client's invoices, latest first.")
    async def invoices(self, info: Info) -> list[InvoiceRef]:
        rows = await info.context.loaders.client_invoices.load(self.id)
        return [resolved(InvoiceRef).from_row(row) for row in rows]

    @strawberry.field(
        description="Money the business holds for the client, in minor currency units: paid "
        "beyond what invoices charge, or refunded to credit. Applied with `applyClientCredit`, "
        "given back with `refundClientCredit`."
    )
    async def credit_balance(self, info: Info) -> int:
        rows = await info.context.loaders.client_credit_entries.load(self.id)
        return rows[0].balance_after if rows else 0

    @strawberry.field(description="The client's credit history, newest first.")
    async def credit_entries(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
    ) -> list[CreditEntryRef]:
        count = page_size(first)
        rows = await info.context.loaders.client_credit_entries.load(self.id)
        return [resolved(CreditEntryRef).from_row(row) for row in rows[:count]]


@strawberry.type(description="A page of clients.")
class ClientConnection(CountedConnection[ClientType]):
    pass


@strawberry.type(description="Clients, services and pack templates.")
class CatalogQueries:
    @strawberry.field(description="Clients by name, optionally searched.")
    async def clients(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words that must each appear, whatever their case and accents, "
                "in the client's name, phone (digits) or email."
            ),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> ClientConnection:
        page = await catalog_resolvers.client_page(info, search=search, first=first, after=after)
        return connection_of(ClientConnection, page, ClientType.from_row)

    @strawberry.field(description="One client; null when not found.")
    async def client(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The client's ID.")],
    ) -> ClientType | None:
        row = await catalog_resolvers.client(info, id)
        return ClientType.from_row(row) if row else None

    @strawberry.field(description="Services by name.")
    async def services(
        self,
        info: Info,
        include_inactive: Annotated[
            bool, strawberry.argument(description="Also list services no longer offered.")
        ] = False,
    ) -> list[ServiceType]:
        rows = await catalog_resolvers.services(info, include_inactive=include_inactive)
        return [ServiceType.from_row(row) for row in rows]

    @strawberry.field(description="Pack templates by name.")
    async def pack_templates(
        self,
        info: Info,
        include_archived: Annotated[
            bool, strawberry.argument(description="Also list archived templates.")
        ] = False,
    ) -> list[PackTemplateType]:
        rows = await catalog_resolvers.pack_templates(info, include_archived=include_archived)
        return [PackTemplateType.from_row(row) for row in rows]


QUERY_AREAS: list[type] = [CatalogQueries]
