"""A pack's history: ledger entries and notes."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from packgraph.domain.adjustments import describe_entry
from packgraph.models import LedgerEntry, PackNote
from packgraph.resolvers.context import Info
from packgraph.schema.enums import LedgerKind
from packgraph.schema.refs import AppointmentRef, InvoiceLineRef, PackItemRef, PackRef, resolved
from packgraph.schema.relay import CountedConnection
from packgraph.schema.tenants import StaffType


async def _staff(info: Info, staff_id: int | None) -> StaffType | None:
    row = await info.context.loaders.staff.load(staff_id) if staff_id else None
    return StaffType.from_row(row) if row else None


@strawberry.type(
    name="LedgerEntry",
    description="One change to a pack item's usage. The ledger is append-only: mistakes are "
    "reversed or corrected, never erased.",
)
class LedgerEntryType(relay.Node):
    id: relay.NodeID[int]
    kind: LedgerKind = strawberry.field(  # type: ignore[valid-type]
        description="REDEMPTION, REVERSAL or CORRECTION."
    )
    quantity: int = strawberry.field(
        description="Signed change to the item's `used`: positive uses units, negative gives "
        "them back."
    )
    session_number: int | None = strawberry.field(
        description='For a redemption, which session this was ("session 3 of 10").'
    )
    reason: str = strawberry.field(description="Why, for corrections and reversals.")
    label: str = strawberry.field(
        description="How the history shows it, e.g. `Session 3` or `Correction: wrong pack`."
    )
    created_at: datetime = strawberry.field(description="When it happened.")
    row: strawberry.Private[LedgerEntry]

    @classmethod
    def from_row(cls, row: LedgerEntry) -> LedgerEntryType:
        return cls(
            id=row.id,
            kind=row.kind,
            quantity=row.quantity,
            session_number=row.session_number,
            reason=row.reason,
            label=describe_entry(row),
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="The pack.")
    async def pack(self, info: Info) -> PackRef | None:
        row = await info.context.loaders.pack.load(self.row.pack_id)  # type: ignore[attr-defined]
        return resolved(PackRef).from_row(row) if row else None

    @strawberry.field(description="The item whose usage changed.")
    async def item(self, info: Info) -> PackItemRef | None:
        row = await info.context.loaders.pack_item.load(self.row.item_id)  # type: ignore[attr-defined]
        return resolved(PackItemRef).from_row(row) if row else None

    @strawberry.field(description="Who made the change; null for the system or an integration.")
    async def staff(self, info: Info) -> StaffType | None:
        return await _staff(info, self.row.staff_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The appointment of the visit, when there was one.")
    async def appointment(self, info: Info) -> AppointmentRef | None:
        appointment_id = self.row.appointment_id  # type: ignore[attr-defined]
        row = (
            await info.context.loaders.appointment.load(appointment_id) if appointment_id else None
        )
        return resolved(AppointmentRef).from_row(row) if row else None

    @strawberry.field(description="The invoice line allocated to the pack, when there is one.")
    async def invoice_line(self, info: Info) -> InvoiceLineRef | None:
        line_id = self.row.invoice_line_id  # type: ignore[attr-defined]
        row = await info.context.loaders.line.load(line_id) if line_id else None
        return resolved(InvoiceLineRef).from_row(row) if row else None

    @strawberry.field(description="For a reversal, the redemption it gives back.")
    async def reverses(self, info: Info) -> LedgerEntryType | None:
        entry_id = self.row.reverses_id  # type: ignore[attr-defined]
        row = await info.context.loaders.entry.load(entry_id) if entry_id else None
        return LedgerEntryType.from_row(row) if row else None


@strawberry.type(description="A page of ledger entries.")
class LedgerEntryConnection(CountedConnection[LedgerEntryType]):
    pass


@strawberry.type(name="PackNote", description="A note on a pack, with its author.")
class PackNoteType(relay.Node):
    id: relay.NodeID[int]
    text: str = strawberry.field(description="The note.")
    created_at: datetime = strawberry.field(description="When it was written.")
    row: strawberry.Private[PackNote]

    @classmethod
    def from_row(cls, row: PackNote) -> PackNoteType:
        return cls(id=row.id, text=row.text, created_at=row.created_at, row=row)

    @strawberry.field(description="Who wrote it.")
    async def staff(self, info: Info) -> StaffType | None:
        return await _staff(info, self.row.staff_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The pack it is about.")
    async def pack(self, info: Info) -> PackRef | None:
        row = await info.context.loaders.pack.load(self.row.pack_id)  # type: ignore[attr-defined]
        return resolved(PackRef).from_row(row) if row else None
