"""Clients: the customers or patients who own packs."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from packgraph.models import Client
from packgraph.resolvers.context import Info
from packgraph.schema.catalog import ServiceType
from packgraph.schema.refs import AppointmentRef, InvoiceRef, PackRef
from packgraph.schema.relay import CountedConnection


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
        from packgraph.schema.packs import PackType

        pack_id = self.row.preferred_pack_id  # type: ignore[attr-defined]
        row = await info.context.loaders.pack.load(pack_id) if pack_id else None
        return PackType.from_row(row) if row else None

    @strawberry.field(
        description="Billing setup: the service every new appointment books by default (or null)."
    )
    async def preferred_service(self, info: Info) -> ServiceType | None:
        service_id = self.row.preferred_service_id  # type: ignore[attr-defined]
        row = await info.context.loaders.service.load(service_id) if service_id else None
        return ServiceType.from_row(row) if row else None

    @strawberry.field(description="The client's packs (deleted ones left out), newest first.")
    async def packs(self, info: Info) -> list[PackRef]:
        from packgraph.schema.packs import PackType

        rows = await info.context.loaders.client_packs.load(self.id)
        return [PackType.from_row(row) for row in rows]

    @strawberry.field(
        description="The client's appointments (deleted ones left out), latest first."
    )
    async def appointments(self, info: Info) -> list[AppointmentRef]:
        from packgraph.schema.visits import AppointmentType

        rows = await info.context.loaders.client_appointments.load(self.id)
        return [AppointmentType.from_row(row) for row in rows]

    @strawberry.field(description="The client's invoices, latest first.")
    async def invoices(self, info: Info) -> list[InvoiceRef]:
        from packgraph.schema.visits import InvoiceType

        rows = await info.context.loaders.client_invoices.load(self.id)
        return [InvoiceType.from_row(row) for row in rows]


@strawberry.type(description="A page of clients.")
class ClientConnection(CountedConnection[ClientType]):
    pass
