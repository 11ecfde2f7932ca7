"""Appointments and redemptions (deducting and giving back): each mutation's input, payload and
function side by side, then the area's ``Mutation`` fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from packgraph.domain import appointments, redemptions, service_changes
from packgraph.resolvers.context import Info, actor_of
from packgraph.schema.errors import Payload
from packgraph.schema.ledger import LedgerEntryType
from packgraph.schema.mutation import (
    IDEMPOTENCY_KEY,
    INPUT,
    REPLAYED,
    mutation,
    optional_pk_of,
    pk_of,
)
from packgraph.schema.packs import PackType
from packgraph.schema.visits import (
    AppointmentType,
    CreditEntryType,
    InvoiceLineType,
    InvoiceType,
)


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

    @classmethod
    def of(cls, result: Any) -> Any:
        """The payload of a visit charge (a check-in, a charged no-show, chargeAppointment)."""
        return cls(
            appointment=AppointmentType.from_row(result.appointment),
            invoice=InvoiceType.from_row(result.invoice) if result.invoice else None,
            invoice_line=InvoiceLineType.from_row(result.line) if result.line else None,
            entry=LedgerEntryType.from_row(result.entry) if result.entry else None,
            pack=PackType.from_row(result.pack) if result.pack else None,
            replayed=result.replayed,
        )


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


@strawberry.type(description="An existing invoice line allocated to a pack, or released from it.")
class LineAllocationPayload(AllocationPayload):
    credit_entry: CreditEntryType | None = strawberry.field(
        default=None,
        description="When the re-priced line left its invoice paid beyond its total: the excess, "
        "moved to the client's credit.",
    )


def _allocation(payload_class: type[Any], result: Any, **extra: Any) -> Any:
    return payload_class(
        pack=PackType.from_row(result.pack),
        entry=LedgerEntryType.from_row(result.entry),
        invoice_line=InvoiceLineType.from_row(result.line),
        invoice=InvoiceType.from_row(result.invoice),
        replayed=result.replayed,
        **extra,
    )


def _line_allocation(payload_class: type[Any], result: redemptions.AllocationResult) -> Any:
    credit = CreditEntryType.from_row(result.credit) if result.credit else None
    return _allocation(payload_class, result, credit_entry=credit)


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


@mutation()
async def create_appointment(
    info: Info, input: Annotated[CreateAppointmentInput, INPUT]
) -> CreateAppointmentPayload:
    result = await appointments.create_appointment(
        actor=actor_of(info),
        client_id=pk_of(input.client_id, "Client", "clientId"),
        starts_at=input.starts_at,
        service_id=optional_pk_of(input.service_id, "Service", "serviceId"),
        practitioner_id=optional_pk_of(
            input.practitioner_id, "Staff", "practitionerId", "practitioner"
        ),
        chosen_pack_id=optional_pk_of(input.chosen_pack_id, "Pack", "chosenPackId", "pack"),
    )
    return CreateAppointmentPayload(appointment=AppointmentType.from_row(result.appointment))


@strawberry.input(description="Check a client in for a booked visit.")
class CheckInAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(description="The appointment.")
    no_charge: bool = strawberry.field(
        default=False, description="Charge nothing and deduct nothing."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `checkInAppointment`.")
class CheckInAppointmentPayload(VisitChargePayload):
    pass


@mutation()
async def check_in_appointment(
    info: Info, input: Annotated[CheckInAppointmentInput, INPUT]
) -> CheckInAppointmentPayload:
    result = await appointments.check_in_appointment(
        actor=actor_of(info),
        appointment_id=pk_of(input.appointment_id, "Appointment", "appointmentId"),
        no_charge=input.no_charge,
        idempotency_key=input.idempotency_key,
    )
    return CheckInAppointmentPayload.of(result)


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


@mutation()
async def mark_no_show(info: Info, input: Annotated[MarkNoShowInput, INPUT]) -> MarkNoShowPayload:
    result = await appointments.mark_no_show(
        actor=actor_of(info),
        appointment_id=pk_of(input.appointment_id, "Appointment", "appointmentId"),
        idempotency_key=input.idempotency_key,
    )
    return MarkNoShowPayload.of(result)


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
    invoice_lines: list[InvoiceLineType] = strawberry.field(
        default_factory=list, description="The visit's invoice lines, voided."
    )


@mutation()
async def cancel_appointment(
    info: Info, input: Annotated[CancelAppointmentInput, INPUT]
) -> CancelAppointmentPayload:
    result = await appointments.cancel_appointment(
        actor=actor_of(info),
        appointment_id=pk_of(input.appointment_id, "Appointment", "appointmentId"),
    )
    return CancelAppointmentPayload(
        appointment=AppointmentType.from_row(result.appointment),
        entries=[LedgerEntryType.from_row(entry) for entry in result.entries],
        packs=[PackType.from_row(pack) for pack in result.packs],
        invoice_lines=[InvoiceLineType.from_row(line) for line in result.lines],
    )


@strawberry.input(description="Delete a visit (kept for the investigation, hidden elsewhere).")
class DeleteAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(description="The appointment.")


@strawberry.type(description="The result of `deleteAppointment`.")
class DeleteAppointmentPayload(Payload):
    appointment: AppointmentType | None = strawberry.field(
        default=None, description="The appointment, with `deletedAt` set."
    )


@mutation()
async def delete_appointment(
    info: Info, input: Annotated[DeleteAppointmentInput, INPUT]
) -> DeleteAppointmentPayload:
    result = await appointments.delete_appointment(
        actor=actor_of(info),
        appointment_id=pk_of(input.appointment_id, "Appointment", "appointmentId"),
    )
    return DeleteAppointmentPayload(appointment=AppointmentType.from_row(result.appointment))


@strawberry.input(description="Redeem from a pack without an appointment (a walk-in).")
class RedeemSessionInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")
    service_id: strawberry.ID = strawberry.field(description="The service given.")
    quantity: int = strawberry.field(default=1, description="How many of the service.")
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="Charge on this invoice (default: the client's invoice today)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `redeemSession`.")
class RedeemSessionPayload(AllocationPayload):
    pass


@mutation()
async def redeem_session(
    info: Info, input: Annotated[RedeemSessionInput, INPUT]
) -> RedeemSessionPayload:
    result = await redemptions.redeem_session(
        actor=actor_of(info),
        pack_id=pk_of(input.pack_id, "Pack", "packId"),
        service_id=pk_of(input.service_id, "Service", "serviceId"),
        quantity=input.quantity,
        invoice_id=optional_pk_of(input.invoice_id, "Invoice", "invoiceId"),
        idempotency_key=input.idempotency_key,
    )
    return _allocation(RedeemSessionPayload, result)


@strawberry.input(
    description="Allocate an existing SERVICE line to a pack, deducting from it (also "
    "retrospectively, on paid invoices or visits before the purchase)."
)
class AllocateInvoiceLineInput:
    line_id: strawberry.ID = strawberry.field(description="The invoice line.")
    pack_id: strawberry.ID = strawberry.field(description="The pack to deduct from.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `allocateInvoiceLine`.")
class AllocateInvoiceLinePayload(LineAllocationPayload):
    pass


@mutation()
async def allocate_invoice_line(
    info: Info, input: Annotated[AllocateInvoiceLineInput, INPUT]
) -> AllocateInvoiceLinePayload:
    result = await redemptions.allocate_invoice_line(
        actor=actor_of(info),
        line_id=pk_of(input.line_id, "InvoiceLine", "lineId"),
        pack_id=pk_of(input.pack_id, "Pack", "packId"),
        idempotency_key=input.idempotency_key,
    )
    return _line_allocation(AllocateInvoiceLinePayload, result)


@strawberry.input(description="Remove the pack from an invoice line; its units go back.")
class UnallocateInvoiceLineInput:
    line_id: strawberry.ID = strawberry.field(description="The invoice line.")


@strawberry.type(description="The result of `unallocateInvoiceLine`.")
class UnallocateInvoiceLinePayload(LineAllocationPayload):
    pass


@mutation()
async def unallocate_invoice_line(
    info: Info, input: Annotated[UnallocateInvoiceLineInput, INPUT]
) -> UnallocateInvoiceLinePayload:
    result = await redemptions.unallocate_invoice_line(
        actor=actor_of(info), line_id=pk_of(input.line_id, "InvoiceLine", "lineId")
    )
    return _line_allocation(UnallocateInvoiceLinePayload, result)


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


@mutation()
async def move_allocations(
    info: Info, input: Annotated[MoveAllocationsInput, INPUT]
) -> MoveAllocationsPayload:
    result = await redemptions.move_allocations(
        actor=actor_of(info),
        from_pack_id=pk_of(input.from_pack_id, "Pack", "fromPackId", "pack"),
        to_pack_id=pk_of(input.to_pack_id, "Pack", "toPackId", "pack"),
    )
    return MoveAllocationsPayload(
        from_pack=PackType.from_row(result.from_pack),
        to_pack=PackType.from_row(result.to_pack),
        invoice_lines=[InvoiceLineType.from_row(line) for line in result.lines],
        entries=[LedgerEntryType.from_row(entry) for entry in result.entries],
    )


@strawberry.type(
    description="A visit's service changed: its line re-priced and re-allocated (SPEC §6.1)."
)
class ServiceChangePayload(Payload):
    appointment: AppointmentType | None = strawberry.field(
        default=None, description="The visit, with its new service; null for a walk-in line."
    )
    invoice: InvoiceType | None = strawberry.field(
        default=None, description="The invoice of the line; null when the visit was not charged."
    )
    invoice_line: InvoiceLineType | None = strawberry.field(
        default=None, description="The line, re-priced; null when the visit was not charged."
    )
    pack: PackType | None = strawberry.field(
        default=None, description="The pack the line now deducts from; null when none took it."
    )
    entry: LedgerEntryType | None = strawberry.field(
        default=None, description="The new redemption; null when no pack took the line."
    )
    released_pack: PackType | None = strawberry.field(
        default=None,
        description="The pack the line was allocated to before, after its units came back "
        "(null when it had none, or when the same pack took the line again).",
    )
    credit_entry: CreditEntryType | None = strawberry.field(
        default=None,
        description="When the re-priced line left its invoice paid beyond its total: the "
        "excess, moved to the client's credit.",
    )
    replayed: bool = strawberry.field(default=False, description=REPLAYED)

    @classmethod
    def of(cls, result: service_changes.ServiceChangeResult) -> Any:
        return cls(
            appointment=AppointmentType.from_row(result.appointment)
            if result.appointment
            else None,
            invoice=InvoiceType.from_row(result.invoice) if result.invoice else None,
            invoice_line=InvoiceLineType.from_row(result.line) if result.line else None,
            pack=PackType.from_row(result.pack) if result.pack else None,
            entry=LedgerEntryType.from_row(result.entry) if result.entry else None,
            released_pack=PackType.from_row(result.released) if result.released else None,
            credit_entry=CreditEntryType.from_row(result.credit) if result.credit else None,
            replayed=result.replayed,
        )


_NEW_PACK = (
    "Deduct the visit from this pack (it must cover the new service); default: "
    "auto-allocation, keeping the pack the line had when it covers the new service."
)


@strawberry.input(description="Change the service of a visit; its invoice line follows.")
class ChangeAppointmentServiceInput:
    appointment_id: strawberry.ID = strawberry.field(description="The appointment.")
    service_id: strawberry.ID = strawberry.field(description="The service actually given.")
    pack_id: strawberry.ID | None = strawberry.field(default=None, description=_NEW_PACK)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `changeAppointmentService`.")
class ChangeAppointmentServicePayload(ServiceChangePayload):
    pass


@mutation()
async def change_appointment_service(
    info: Info, input: Annotated[ChangeAppointmentServiceInput, INPUT]
) -> ChangeAppointmentServicePayload:
    result = await service_changes.change_appointment_service(
        actor=actor_of(info),
        appointment_id=pk_of(input.appointment_id, "Appointment", "appointmentId"),
        service_id=pk_of(input.service_id, "Service", "serviceId"),
        pack_id=optional_pk_of(input.pack_id, "Pack", "packId"),
        idempotency_key=input.idempotency_key,
    )
    return ChangeAppointmentServicePayload.of(result)


@strawberry.input(description="Change the service of a SERVICE invoice line, re-priced.")
class ChangeInvoiceLineServiceInput:
    line_id: strawberry.ID = strawberry.field(description="The SERVICE line.")
    service_id: strawberry.ID = strawberry.field(description="The service actually given.")
    pack_id: strawberry.ID | None = strawberry.field(default=None, description=_NEW_PACK)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `changeInvoiceLineService`.")
class ChangeInvoiceLineServicePayload(ServiceChangePayload):
    pass


@mutation()
async def change_invoice_line_service(
    info: Info, input: Annotated[ChangeInvoiceLineServiceInput, INPUT]
) -> ChangeInvoiceLineServicePayload:
    result = await service_changes.change_line_service(
        actor=actor_of(info),
        line_id=pk_of(input.line_id, "InvoiceLine", "lineId"),
        service_id=pk_of(input.service_id, "Service", "serviceId"),
        pack_id=optional_pk_of(input.pack_id, "Pack", "packId"),
        idempotency_key=input.idempotency_key,
    )
    return ChangeInvoiceLineServicePayload.of(result)


_SERVICE_CHANGE = (
    " A charged visit's line is re-priced at the new service's price and allocated again: to "
    "`packId`, else by auto-allocation, else charged in full; its old pack gets its units back "
    "(REDEMPTION_REVERSED, SESSION_REDEEMED, SERVICE_CHANGED; CLIENT_CREDITED for what the "
    "invoice then has paid beyond its total). The fix the count investigation offers for "
    "SERVICE_NOT_IN_PACK. Errors: NOT_FOUND, INVALID_INPUT (same or archived service), "
    "INVALID_STATE, INVOICE_VOID, SERVICE_NOT_IN_PACK, PACK_NOT_ACTIVE, PACK_NOT_PAID, "
    "INSUFFICIENT_BALANCE."
)


@strawberry.type(description="Visits and redemptions.")
class VisitMutations:
    create_appointment: CreateAppointmentPayload = strawberry.mutation(
        resolver=create_appointment,
        description="Book a visit; the client's billing setup picks the pack or service.",
    )
    check_in_appointment: CheckInAppointmentPayload = strawberry.mutation(
        resolver=check_in_appointment,
        description="Mark a visit ATTENDED and charge it, deducting from the best eligible pack "
        "(chosen, preferred, soonest expiring, oldest). Emits SESSION_REDEEMED.",
    )
    mark_no_show: MarkNoShowPayload = strawberry.mutation(
        resolver=mark_no_show,
        description="Mark a visit NO_SHOW; deducts only when the business redeems on no-shows.",
    )
    cancel_appointment: CancelAppointmentPayload = strawberry.mutation(
        resolver=cancel_appointment,
        description="Cancel a visit; its redemption is reversed (REDEMPTION_REVERSED) and its "
        "charge voided (INVOICE_LINE_VOIDED).",
    )
    delete_appointment: DeleteAppointmentPayload = strawberry.mutation(
        resolver=delete_appointment,
        description="Delete a visit. It is kept (and reported by the count investigation).",
    )
    redeem_session: RedeemSessionPayload = strawberry.mutation(
        resolver=redeem_session,
        description="Deduct from a pack without an appointment (walk-in). Emits SESSION_REDEEMED.",
    )
    allocate_invoice_line: AllocateInvoiceLinePayload = strawberry.mutation(
        resolver=allocate_invoice_line,
        description="Allocate an existing SERVICE line to a pack, deducting from it, also "
        "retrospectively; what a paid visit's invoice then has paid beyond its total moves to "
        "the client's credit (CLIENT_CREDITED).",
    )
    unallocate_invoice_line: UnallocateInvoiceLinePayload = strawberry.mutation(
        resolver=unallocate_invoice_line,
        description="Remove the pack from a line; the unit goes back (REDEMPTION_REVERSED).",
    )
    move_allocations: MoveAllocationsPayload = strawberry.mutation(
        resolver=move_allocations,
        description="Move every allocated line from one pack to another in one step, all or "
        "nothing. Emits ALLOCATIONS_MOVED.",
    )
    change_appointment_service: ChangeAppointmentServicePayload = strawberry.mutation(
        resolver=change_appointment_service,
        description="Change the service of a visit (a booked one keeps its chosen pack only "
        "when that pack covers the new service)." + _SERVICE_CHANGE,
    )
    change_invoice_line_service: ChangeInvoiceLineServicePayload = strawberry.mutation(
        resolver=change_invoice_line_service,
        description="Change the service of a SERVICE invoice line (its visit's service changes "
        "with it)." + _SERVICE_CHANGE,
    )


MUTATION_AREAS: list[type] = [VisitMutations]
