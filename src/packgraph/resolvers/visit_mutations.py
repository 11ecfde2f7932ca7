"""Selling, appointments and redemptions: the mutations that deduct from packs or give back."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from packgraph.domain import appointments, redemptions, selling
from packgraph.domain.selling import CustomPackSpec
from packgraph.models import Metric
from packgraph.resolvers.catalog_mutations import item_specs
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import INPUT, actor_of, mutation, optional_pk_of, pk_of
from packgraph.schema.ledger import LedgerEntryType
from packgraph.schema.packs import PackType
from packgraph.schema.visit_mutations import (
    AllocateInvoiceLineInput,
    AllocateInvoiceLinePayload,
    CancelAppointmentInput,
    CancelAppointmentPayload,
    CheckInAppointmentInput,
    CheckInAppointmentPayload,
    CreateAppointmentInput,
    CreateAppointmentPayload,
    CustomPackInput,
    DeleteAppointmentInput,
    DeleteAppointmentPayload,
    MarkNoShowInput,
    MarkNoShowPayload,
    MoveAllocationsInput,
    MoveAllocationsPayload,
    RedeemSessionInput,
    RedeemSessionPayload,
    SellPackInput,
    SellPackPayload,
    UnallocateInvoiceLineInput,
    UnallocateInvoiceLinePayload,
)
from packgraph.schema.visits import AppointmentType, InvoiceLineType, InvoiceType


def _maybe(build: Any, row: Any) -> Any:
    return build(row) if row is not None else None


def _custom(custom: CustomPackInput) -> CustomPackSpec:
    return CustomPackSpec(
        name=custom.name,
        metric=Metric(custom.metric.value),
        price=custom.price,
        items=item_specs(custom.items, "custom.items"),
        session_price=custom.session_price,
        validity_days=custom.validity_days,
        validity_months=custom.validity_months,
        description=custom.description,
        default_service_id=optional_pk_of(
            custom.default_service_id, "Service", "custom.defaultServiceId", "service"
        ),
    )


@mutation()
async def sell_pack(info: Info, input: Annotated[SellPackInput, INPUT]) -> SellPackPayload:
    options: dict[str, Any] = {}
    if input.expires_at is not strawberry.UNSET:
        options["expires_at"] = input.expires_at
    result = await selling.sell_pack(
        actor=actor_of(info),
        client_id=pk_of(input.client_id, "Client", "clientId"),
        template_id=optional_pk_of(
            input.template_id, "PackTemplate", "templateId", "pack template"
        ),
        custom=_custom(input.custom) if input.custom is not None else None,
        discount=input.discount,
        invoice_id=optional_pk_of(input.invoice_id, "Invoice", "invoiceId"),
        use_first_session=input.use_first_session,
        service_id=optional_pk_of(input.service_id, "Service", "serviceId"),
        appointment_id=optional_pk_of(input.appointment_id, "Appointment", "appointmentId"),
        referrer=input.referrer,
        authorisation_number=input.authorisation_number,
        authorised_from=input.authorised_from,
        authorised_until=input.authorised_until,
        purchased_at=input.purchased_at,
        idempotency_key=input.idempotency_key,
        **options,
    )
    return SellPackPayload(
        pack=PackType.from_row(result.pack),
        invoice=InvoiceType.from_row(result.invoice),
        invoice_line=InvoiceLineType.from_row(result.line),
        entry=_maybe(LedgerEntryType.from_row, result.entry),
        replayed=result.replayed,
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


def _visit_charge(payload_class: type[Any], result: appointments.CheckInResult) -> Any:
    return payload_class(
        appointment=AppointmentType.from_row(result.appointment),
        invoice=_maybe(InvoiceType.from_row, result.invoice),
        invoice_line=_maybe(InvoiceLineType.from_row, result.line),
        entry=_maybe(LedgerEntryType.from_row, result.entry),
        pack=_maybe(PackType.from_row, result.pack),
        replayed=result.replayed,
    )


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
    return _visit_charge(CheckInAppointmentPayload, result)


@mutation()
async def mark_no_show(info: Info, input: Annotated[MarkNoShowInput, INPUT]) -> MarkNoShowPayload:
    result = await appointments.mark_no_show(
        actor=actor_of(info),
        appointment_id=pk_of(input.appointment_id, "Appointment", "appointmentId"),
        idempotency_key=input.idempotency_key,
    )
    return _visit_charge(MarkNoShowPayload, result)


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


def _allocation(payload_class: type[Any], result: Any) -> Any:
    return payload_class(
        pack=PackType.from_row(result.pack),
        entry=LedgerEntryType.from_row(result.entry),
        invoice_line=InvoiceLineType.from_row(result.line),
        invoice=InvoiceType.from_row(result.invoice),
        replayed=result.replayed,
    )


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
    return _allocation(AllocateInvoiceLinePayload, result)


@mutation()
async def unallocate_invoice_line(
    info: Info, input: Annotated[UnallocateInvoiceLineInput, INPUT]
) -> UnallocateInvoiceLinePayload:
    result = await redemptions.unallocate_invoice_line(
        actor=actor_of(info), line_id=pk_of(input.line_id, "InvoiceLine", "lineId")
    )
    return _allocation(UnallocateInvoiceLinePayload, result)


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
