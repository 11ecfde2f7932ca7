"""Appointments, invoices with their lines, payments and client credit entries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay

from packgraph.domain.invoices import charged, status_of
from packgraph.models import Appointment, CreditEntry, Invoice, InvoiceLine, LineKind, Payment
from packgraph.resolvers import visits as visit_resolvers
from packgraph.resolvers.context import Info
from packgraph.resolvers.ids import DEFAULT_PAGE_SIZE
from packgraph.schema.catalog import ServiceType
from packgraph.schema.clients import ClientType
from packgraph.schema.enums import AppointmentStatus, CreditKind, InvoiceStatus, PaymentMethod
from packgraph.schema.enums import LineKind as LineKindEnum
from packgraph.schema.refs import PackItemRef, PackRef, resolved
from packgraph.schema.relay import AFTER, FIRST, CountedConnection, connection_of
from packgraph.schema.tenants import StaffType


async def _pack(info: Info, pack_id: int | None) -> PackRef | None:
    row = await info.context.loaders.pack.load(pack_id) if pack_id else None
    return resolved(PackRef).from_row(row) if row else None


async def _staff(info: Info, staff_id: int | None) -> StaffType | None:
    row = await info.context.loaders.staff.load(staff_id) if staff_id else None
    return StaffType.from_row(row) if row else None


async def _client(info: Info, client_id: int) -> ClientType:
    row = await info.context.loaders.client.load(client_id)
    assert row is not None, "related rows are in the same business"
    return ClientType.from_row(row)


@strawberry.type(name="Appointment", description="A visit of a client for a service.")
class AppointmentType(relay.Node):
    id: relay.NodeID[int]
    starts_at: datetime = strawberry.field(description="When the visit starts.")
    status: AppointmentStatus = strawberry.field(  # type: ignore[valid-type]
        description="BOOKED, ATTENDED, NO_SHOW or CANCELLED."
    )
    no_charge: bool = strawberry.field(description="Checked in without charging anything.")
    deleted_at: datetime | None = strawberry.field(
        description="When it was deleted; deleted appointments are left out of lists."
    )
    created_at: datetime = strawberry.field(description="When it was booked.")
    row: strawberry.Private[Appointment]

    @classmethod
    def from_row(cls, row: Appointment) -> AppointmentType:
        return cls(
            id=row.id,
            starts_at=row.starts_at,
            status=row.status,
            no_charge=row.no_charge,
            deleted_at=row.deleted_at,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="Who the visit is for.")
    async def client(self, info: Info) -> ClientType:
        return await _client(info, self.row.client_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The service booked.")
    async def service(self, info: Info) -> ServiceType | None:
        row = await info.context.loaders.service.load(self.row.service_id)  # type: ignore[attr-defined]
        return ServiceType.from_row(row) if row else None

    @strawberry.field(description="The staff member seeing the client.")
    async def practitioner(self, info: Info) -> StaffType | None:
        return await _staff(info, self.row.practitioner_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The pack chosen to pay for the visit, if one was chosen.")
    async def chosen_pack(self, info: Info) -> PackRef | None:
        return await _pack(info, self.row.chosen_pack_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The invoice line that charged the visit (after check-in), with the pack "
        "and session number it used."
    )
    async def charge(self, info: Info) -> InvoiceLineType | None:
        lines = await info.context.loaders.appointment_lines.load(self.id)
        service_lines = [line for line in lines if line.kind == LineKind.SERVICE]
        return InvoiceLineType.from_row(service_lines[-1]) if service_lines else None


@strawberry.type(description="A page of appointments.")
class AppointmentConnection(CountedConnection[AppointmentType]):
    pass


@strawberry.type(name="InvoiceLine", description="One charge on an invoice.")
class InvoiceLineType(relay.Node):
    id: relay.NodeID[int]
    kind: LineKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="SERVICE, PACK_SALE or PRODUCT."
    )
    description: str = strawberry.field(description="What the line is for.")
    quantity: int = strawberry.field(description="How many.")
    unit_price: int = strawberry.field(description="Price of one, in minor currency units.")
    amount: int = strawberry.field(
        description="What the line was charged (voids leave it as it was): quantity × "
        "unitPrice, plus `uncoveredAmount`."
    )
    uncovered_amount: int = strawberry.field(
        description="On a line allocated to a MONEY pack that had less left than the service "
        "price: the rest of the price, charged on this line (`units` is what the pack paid). "
        "0 otherwise."
    )
    units: int = strawberry.field(
        description="Units deducted from the allocated pack (0 when not allocated)."
    )
    session_number: int | None = strawberry.field(
        description="Which session of the allocated pack this was."
    )
    retrospective: bool = strawberry.field(
        description="Allocated to a pack bought after the visit (or after the fact)."
    )
    voided_amount: int = strawberry.field(
        description="The part of `amount` voided: all of it for a void line, the unpaid part "
        "of a cancelled pack's sale; 0 otherwise."
    )
    charged_amount: int = strawberry.field(
        description="What the line charges now: amount - voidedAmount. Invoice totals sum it."
    )
    is_void: bool = strawberry.field(description="Voided whole: the line charges nothing.")
    voided_at: datetime | None = strawberry.field(description="When it was (last) voided.")
    void_reason: str = strawberry.field(description="Why it was voided; empty when it was not.")
    created_at: datetime = strawberry.field(description="When the line was added.")
    row: strawberry.Private[InvoiceLine]

    @classmethod
    def from_row(cls, row: InvoiceLine) -> InvoiceLineType:
        return cls(
            id=row.id,
            kind=row.kind,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            amount=row.amount,
            # A released line keeps its price for the void: only an allocation has a remainder.
            uncovered_amount=row.amount - row.unit_price * row.quantity
            if row.kind == LineKind.SERVICE and row.pack_id is not None
            else 0,
            units=row.units,
            session_number=row.session_number,
            retrospective=row.retrospective,
            voided_amount=row.voided_amount,
            charged_amount=charged(row),
            is_void=row.voided_at is not None and charged(row) == 0,
            voided_at=row.voided_at,
            void_reason=row.void_reason,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="Who voided it.")
    async def voided_by(self, info: Info) -> StaffType | None:
        return await _staff(info, self.row.voided_by_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The invoice.")
    async def invoice(self, info: Info) -> InvoiceType | None:
        row = await info.context.loaders.invoice.load(self.row.invoice_id)  # type: ignore[attr-defined]
        return InvoiceType.from_row(row) if row else None

    @strawberry.field(description="The service charged (SERVICE lines).")
    async def service(self, info: Info) -> ServiceType | None:
        service_id = self.row.service_id  # type: ignore[attr-defined]
        row = await info.context.loaders.service.load(service_id) if service_id else None
        return ServiceType.from_row(row) if row else None

    @strawberry.field(description="The visit charged, when the line came from a check-in.")
    async def appointment(self, info: Info) -> AppointmentType | None:
        appointment_id = self.row.appointment_id  # type: ignore[attr-defined]
        row = (
            await info.context.loaders.appointment.load(appointment_id) if appointment_id else None
        )
        return AppointmentType.from_row(row) if row else None

    @strawberry.field(
        description="SERVICE line: the pack it is allocated to (deducting). PACK_SALE line: the "
        "pack sold. Null when not allocated."
    )
    async def pack(self, info: Info) -> PackRef | None:
        return await _pack(info, self.row.pack_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The pack item the allocation deducted from.")
    async def pack_item(self, info: Info) -> PackItemRef | None:
        item_id = self.row.pack_item_id  # type: ignore[attr-defined]
        row = await info.context.loaders.pack_item.load(item_id) if item_id else None
        return resolved(PackItemRef).from_row(row) if row else None


@strawberry.type(name="Invoice", description="What a client is charged, with its payments.")
class InvoiceType(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Invoice number, unique in the business.")
    issued_on: date = strawberry.field(description="Date of issue (business timezone).")
    voided_at: datetime | None = strawberry.field(description="When it was voided.")
    void_reason: str = strawberry.field(description="Why it was voided; empty when it was not.")
    created_at: datetime = strawberry.field(description="When it was created.")
    row: strawberry.Private[Invoice]

    @classmethod
    def from_row(cls, row: Invoice) -> InvoiceType:
        return cls(
            id=row.id,
            number=row.number,
            issued_on=row.issued_on,
            voided_at=row.voided_at,
            void_reason=row.void_reason,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(
        description="ISSUED, PARTIALLY_PAID, PAID or VOID, from its lines and payments."
    )
    async def status(self, info: Info) -> InvoiceStatus:  # type: ignore[valid-type]
        return status_of(
            voided=self.voided_at is not None,
            total=await self.total(info),
            paid=await self.amount_paid(info),
        )

    @strawberry.field(description="Who voided it.")
    async def voided_by(self, info: Info) -> StaffType | None:
        return await _staff(info, self.row.voided_by_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who is charged.")
    async def client(self, info: Info) -> ClientType:
        return await _client(info, self.row.client_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The charges, in order, void ones included.")
    async def lines(self, info: Info) -> list[InvoiceLineType]:
        rows = await info.context.loaders.invoice_lines.load(self.id)
        return [InvoiceLineType.from_row(row) for row in rows]

    @strawberry.field(description="Payments and refunds against the invoice, oldest first.")
    async def payments(self, info: Info) -> list[PaymentType]:
        rows = await info.context.loaders.invoice_payments.load(self.id)
        return [PaymentType.from_row(row) for row in rows]

    @strawberry.field(description="What the lines charge: the sum of their chargedAmount.")
    async def total(self, info: Info) -> int:
        return sum(charged(row) for row in await info.context.loaders.invoice_lines.load(self.id))

    @strawberry.field(description="Sum of the payments, net of refunds.")
    async def amount_paid(self, info: Info) -> int:
        return sum(row.amount for row in await info.context.loaders.invoice_payments.load(self.id))

    @strawberry.field(description="total - amountPaid.")
    async def balance_due(self, info: Info) -> int:
        return await self.total(info) - await self.amount_paid(info)

    @strawberry.field(description="ISO 4217 code of the amounts.")
    async def currency(self, info: Info) -> str:
        business = await info.context.loaders.business.load(self.row.business_id)  # type: ignore[attr-defined]
        return business.currency if business else ""


@strawberry.type(description="A page of invoices.")
class InvoiceConnection(CountedConnection[InvoiceType]):
    pass


@strawberry.type(name="Payment", description="Money received (positive) or refunded (negative).")
class PaymentType(relay.Node):
    id: relay.NodeID[int]
    amount: int = strawberry.field(description="Minor currency units; negative for a refund.")
    method: PaymentMethod = strawberry.field(  # type: ignore[valid-type]
        description="How it was paid (or given back)."
    )
    reason: str = strawberry.field(
        description="Why it was given back or moved to the client's credit; otherwise empty."
    )
    received_at: datetime = strawberry.field(description="When it was received (or given back).")
    is_refund: bool = strawberry.field(
        description="True for money given back (negative, not moved to the client's credit)."
    )
    created_at: datetime = strawberry.field(description="When it was recorded.")
    row: strawberry.Private[Payment]

    @classmethod
    def from_row(cls, row: Payment) -> PaymentType:
        return cls(
            id=row.id,
            amount=row.amount,
            method=row.method,
            reason=row.reason,
            received_at=row.received_at,
            is_refund=row.amount < 0 and row.credit_entry_id is None,  # type: ignore[attr-defined]
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="The invoice it pays, if any.")
    async def invoice(self, info: Info) -> InvoiceType | None:
        invoice_id = self.row.invoice_id  # type: ignore[attr-defined]
        row = await info.context.loaders.invoice.load(invoice_id) if invoice_id else None
        return InvoiceType.from_row(row) if row else None

    @strawberry.field(description="The pack it is allocated to, if any.")
    async def pack(self, info: Info) -> PackRef | None:
        return await _pack(info, self.row.pack_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who recorded it.")
    async def staff(self, info: Info) -> StaffType | None:
        return await _staff(info, self.row.staff_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="For money moved to or from the client's credit (method CLIENT_CREDIT): "
        "the credit entry."
    )
    async def credit_entry(self, info: Info) -> CreditEntryType | None:
        entry_id = self.row.credit_entry_id  # type: ignore[attr-defined]
        row = await info.context.loaders.credit_entry.load(entry_id) if entry_id else None
        return CreditEntryType.from_row(row) if row else None


@strawberry.type(
    name="CreditEntry",
    description="One change of a client's credit: money moved to it, applied from it to an "
    "invoice, or refunded from it. Append-only.",
)
class CreditEntryType(relay.Node):
    id: relay.NodeID[int]
    kind: CreditKind = strawberry.field(description="What it records.")  # type: ignore[valid-type]
    amount: int = strawberry.field(
        description="Minor currency units: positive when credited, negative when applied or "
        "refunded."
    )
    balance_after: int = strawberry.field(description="The client's credit after it.")
    method: PaymentMethod | None = strawberry.field(  # type: ignore[valid-type]
        description="How a refund was paid out (REFUNDED only)."
    )
    reason: str = strawberry.field(description="Why: what freed the money, or the refund's reason.")
    created_at: datetime = strawberry.field(description="When.")
    row: strawberry.Private[CreditEntry]

    @classmethod
    def from_row(cls, row: CreditEntry) -> CreditEntryType:
        return cls(
            id=row.id,
            kind=row.kind,
            amount=row.amount,
            balance_after=row.balance_after,
            method=row.method,
            reason=row.reason,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(
        description="The invoice the money came from (CREDITED) or paid (APPLIED), if any."
    )
    async def invoice(self, info: Info) -> InvoiceType | None:
        invoice_id = self.row.invoice_id  # type: ignore[attr-defined]
        row = await info.context.loaders.invoice.load(invoice_id) if invoice_id else None
        return InvoiceType.from_row(row) if row else None

    @strawberry.field(description="The payment rows it moved, on invoices and packs.")
    async def payments(self, info: Info) -> list[PaymentType]:
        rows = await info.context.loaders.credit_entry_payments.load(self.id)
        return [PaymentType.from_row(row) for row in rows]

    @strawberry.field(description="Who made the change.")
    async def staff(self, info: Info) -> StaffType | None:
        return await _staff(info, self.row.staff_id)  # type: ignore[attr-defined]


@strawberry.type(description="Appointments, invoices and tasks.")
class VisitQueries:
    @strawberry.field(
        description="Appointments by start time, e.g. today's: `from` midnight `to` the next "
        "midnight in the business timezone."
    )
    async def appointments(
        self,
        info: Info,
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="Only visits starting at or after this."),
        ] = None,
        to: Annotated[
            datetime | None, strawberry.argument(description="Only visits starting before this.")
        ] = None,
        client_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this client's visits.")
        ] = None,
        include_deleted: Annotated[
            bool, strawberry.argument(description="Also list deleted appointments.")
        ] = False,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> AppointmentConnection:
        page = await visit_resolvers.appointment_page(
            info,
            from_=from_,
            to=to,
            client_id=client_id,
            include_deleted=include_deleted,
            first=first,
            after=after,
        )
        return connection_of(AppointmentConnection, page, AppointmentType.from_row)

    @strawberry.field(description="Invoices, newest first.")
    async def invoices(
        self,
        info: Info,
        client_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this client's invoices.")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> InvoiceConnection:
        page = await visit_resolvers.invoice_page(
            info, client_id=client_id, first=first, after=after
        )
        return connection_of(InvoiceConnection, page, InvoiceType.from_row)

    @strawberry.field(description="One invoice; null when not found.")
    async def invoice(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The invoice's ID.")],
    ) -> InvoiceType | None:
        row = await visit_resolvers.invoice(info, id)
        return InvoiceType.from_row(row) if row else None


QUERY_AREAS: list[type] = [VisitQueries]
