"""Inputs and payloads of selling, appointments and redemptions (deducting and giving back)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from packgraph.schema.catalog_mutations import PackItemInput
from packgraph.schema.enums import Metric
from packgraph.schema.errors import Payload
from packgraph.schema.ledger import LedgerEntryType
from packgraph.schema.packs import PackType
from packgraph.schema.visits import AppointmentType, InvoiceLineType, InvoiceType

IDEMPOTENCY_KEY = (
    "Any unique string (e.g. a UUID). A retry with the same key returns the first result and "
    "changes nothing more."
)
REPLAYED = "True when this is the stored result of an earlier call with the same idempotencyKey."


@strawberry.input(description="The fields of a pack sold without a template.")
class CustomPackInput:
    name: str = strawberry.field(description="Pack name.")
    metric: Metric = strawberry.field(description="What the allowances count.")  # type: ignore[valid-type]
    price: int = strawberry.field(description="Price, minor currency units.")
    items: list[PackItemInput] = strawberry.field(description="The allowances (at least one).")
    session_price: int = strawberry.field(default=0, description="What each visit is charged.")
    validity_days: int | None = strawberry.field(default=None, description="Validity in days.")
    validity_months: int | None = strawberry.field(default=None, description="Validity in months.")
    description: str = strawberry.field(default="", description="Free text.")
    default_service_id: strawberry.ID | None = strawberry.field(
        default=None, description="Service booked by default."
    )


@strawberry.input(description="Sell a pack to a client, from a template or custom fields.")
class SellPackInput:
    client_id: strawberry.ID = strawberry.field(description="The buyer.")
    template_id: strawberry.ID | None = strawberry.field(
        default=None, description="The template to sell (or give `custom`)."
    )
    custom: CustomPackInput | None = strawberry.field(
        default=None, description="Custom pack fields (instead of `templateId`)."
    )
    discount: int = strawberry.field(default=0, description="Discount off the price.")
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="Override the expiry; null: never expires. Omitted: from the validity.",
    )
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="Put the sale on this invoice of the client (default: a new one)."
    )
    use_first_session: bool = strawberry.field(
        default=False, description='Redeem the first unit at once ("use first session").'
    )
    service_id: strawberry.ID | None = strawberry.field(
        default=None, description="With useFirstSession: the service of the first session."
    )
    appointment_id: strawberry.ID | None = strawberry.field(
        default=None, description="With useFirstSession: the visit it is for (marked attended)."
    )
    referrer: str = strawberry.field(default="", description="Who referred the client.")
    authorisation_number: str = strawberry.field(
        default="", description="Insurer or referrer authorisation number."
    )
    authorised_from: date | None = strawberry.field(
        default=None, description="First day of the authorisation."
    )
    authorised_until: date | None = strawberry.field(
        default=None, description="Last day of the authorisation."
    )
    purchased_at: datetime | None = strawberry.field(
        default=None, description="When it was bought (default: now)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `sellPack`.")
class SellPackPayload(Payload):
    pack: PackType | None = strawberry.field(default=None, description="The new pack.")
    invoice: InvoiceType | None = strawberry.field(default=None, description="Its invoice.")
    invoice_line: InvoiceLineType | None = strawberry.field(
        default=None, description="The PACK_SALE line."
    )
    entry: LedgerEntryType | None = strawberry.field(
        default=None, description="With useFirstSession: the first session's redemption."
    )
    replayed: bool = strawberry.field(default=False, description=REPLAYED)


@strawberry.input(description="Book a visit.")
class CreateAppointmentInput:
    client_id: strawberry.ID = strawberry.field(description="Who is coming.")
    starts_at: datetime = strawberry.field(description="When (with a timezone).")
    service_id: strawberry.ID | None = strawberry.field(
        default=None, description="The service; default: the client's billing setup."
    )
    practitioner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The staff member seeing the client."
    )
    chosen_pack_id: strawberry.ID | None = strawberry.field(
        default=None, description="The pack to charge; default: the client's preferred pack."
    )


@strawberry.type(description="The result of `createAppointment`.")
class CreateAppointmentPayload(Payload):
    appointment: AppointmentType | None = strawberry.field(
        default=None, description="The new appointment."
    )


@strawberry.input(description="Check a client in for a booked visit.")
class CheckInAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(description="The appointment.")
    no_charge: bool = strawberry.field(
        default=False, description="Charge nothing and deduct nothing."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(
    description="A check-in or a no-show: the visit, its charge and the redemption, if any."
)
class VisitChargePayload(Payload):
    appointment: AppointmentType | None = strawberry.field(
        default=None, description="The appointment."
    )
    invoice: InvoiceType | None = strawberry.field(
        default=None, description="The invoice charged; null when nothing was charged."
    )
    invoice_line: InvoiceLineType | None = strawberry.field(
        default=None, description="The SERVICE line; null when nothing was charged."
    )
    entry: LedgerEntryType | None = strawberry.field(
        default=None, description="The redemption; null when no pack took the visit."
    )
    pack: PackType | None = strawberry.field(
        default=None, description="The pack that paid for the visit, after the deduction."
    )
    replayed: bool = strawberry.field(default=False, description=REPLAYED)


@strawberry.type(description="The result of `checkInAppointment`.")
class CheckInAppointmentPayload(VisitChargePayload):
    pass


@strawberry.input(description="Mark a booked visit as a no-show.")
class MarkNoShowInput:
    appointment_id: strawberry.ID = strawberry.field(description="The appointment.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(
    description="The result of `markNoShow`. Something is charged only when the business "
    "redeems on no-shows."
)
class MarkNoShowPayload(VisitChargePayload):
    pass


@strawberry.input(description="Cancel a visit; any redemption it made is reversed.")
class CancelAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(description="The appointment.")


@strawberry.type(description="The result of `cancelAppointment`.")
class CancelAppointmentPayload(Payload):
    appointment: AppointmentType | None = strawberry.field(
        default=None, description="The cancelled appointment."
    )
    entries: list[LedgerEntryType] = strawberry.field(
        default_factory=list, description="The REVERSAL entries that gave units back."
    )
    packs: list[PackType] = strawberry.field(
        default_factory=list, description="The packs that got units back, after the change."
    )


@strawberry.input(description="Delete a visit (kept for the investigation, hidden elsewhere).")
class DeleteAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(description="The appointment.")


@strawberry.type(description="The result of `deleteAppointment`.")
class DeleteAppointmentPayload(Payload):
    appointment: AppointmentType | None = strawberry.field(
        default=None, description="The appointment, with `deletedAt` set."
    )


@strawberry.input(description="Redeem from a pack without an appointment (a walk-in).")
class RedeemSessionInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")
    service_id: strawberry.ID = strawberry.field(description="The service given.")
    quantity: int = strawberry.field(default=1, description="How many of the service.")
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="Charge on this invoice (default: the client's invoice today)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="A deduction from a pack, or units given back to it.")
class AllocationPayload(Payload):
    pack: PackType | None = strawberry.field(default=None, description="The pack after the change.")
    entry: LedgerEntryType | None = strawberry.field(
        default=None, description="The ledger entry written."
    )
    invoice_line: InvoiceLineType | None = strawberry.field(
        default=None, description="The invoice line."
    )
    invoice: InvoiceType | None = strawberry.field(default=None, description="Its invoice.")
    replayed: bool = strawberry.field(default=False, description=REPLAYED)


@strawberry.type(description="The result of `redeemSession`.")
class RedeemSessionPayload(AllocationPayload):
    pass


@strawberry.input(
    description="Allocate an existing SERVICE line to a pack, deducting from it (also "
    "retrospectively, on paid invoices or visits before the purchase)."
)
class AllocateInvoiceLineInput:
    line_id: strawberry.ID = strawberry.field(description="The invoice line.")
    pack_id: strawberry.ID = strawberry.field(description="The pack to deduct from.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `allocateInvoiceLine`.")
class AllocateInvoiceLinePayload(AllocationPayload):
    pass


@strawberry.input(description="Remove the pack from an invoice line; its units go back.")
class UnallocateInvoiceLineInput:
    line_id: strawberry.ID = strawberry.field(description="The invoice line.")


@strawberry.type(description="The result of `unallocateInvoiceLine`.")
class UnallocateInvoiceLinePayload(AllocationPayload):
    pass


@strawberry.input(description="Move every allocated line from one pack to another, all or nothing.")
class MoveAllocationsInput:
    from_pack_id: strawberry.ID = strawberry.field(description="The pack that wrongly has them.")
    to_pack_id: strawberry.ID = strawberry.field(description="The pack that should have them.")


@strawberry.type(description="The result of `moveAllocations`.")
class MoveAllocationsPayload(Payload):
    from_pack: PackType | None = strawberry.field(
        default=None, description="The first pack, after its units came back."
    )
    to_pack: PackType | None = strawberry.field(
        default=None, description="The second pack, after the deductions."
    )
    invoice_lines: list[InvoiceLineType] = strawberry.field(
        default_factory=list, description="The lines moved."
    )
    entries: list[LedgerEntryType] = strawberry.field(
        default_factory=list, description="The REVERSAL and REDEMPTION entries written."
    )
