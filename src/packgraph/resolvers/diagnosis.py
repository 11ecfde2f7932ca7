"""The count investigation: ``Pack.diagnosis`` and the ``chargeAppointment`` repair."""

from __future__ import annotations

from typing import Annotated

from packgraph.domain.diagnosis import diagnose_pack
from packgraph.domain.repairs import charge_appointment as charge
from packgraph.models import Pack
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import INPUT, actor_of, mutation, pk_of
from packgraph.schema.diagnosis import (
    ChargeAppointmentInput,
    ChargeAppointmentPayload,
    PackDiagnosisType,
)
from packgraph.schema.ledger import LedgerEntryType
from packgraph.schema.packs import PackType
from packgraph.schema.visits import AppointmentType, InvoiceLineType, InvoiceType


async def pack_diagnosis(info: Info, pack: Pack) -> PackDiagnosisType:
    """The diagnosis of a pack the viewer can already see (any role)."""
    result = await diagnose_pack(actor=actor_of(info), pack_id=pack.id)
    return PackDiagnosisType.from_domain(result)


@mutation()
async def charge_appointment(
    info: Info, input: Annotated[ChargeAppointmentInput, INPUT]
) -> ChargeAppointmentPayload:
    result = await charge(
        actor=actor_of(info),
        appointment_id=pk_of(input.appointment_id, "Appointment", "appointmentId"),
        pack_id=pk_of(input.pack_id, "Pack", "packId"),
        idempotency_key=input.idempotency_key,
    )
    return ChargeAppointmentPayload(
        appointment=AppointmentType.from_row(result.appointment),
        invoice=InvoiceType.from_row(result.invoice) if result.invoice else None,
        invoice_line=InvoiceLineType.from_row(result.line) if result.line else None,
        entry=LedgerEntryType.from_row(result.entry) if result.entry else None,
        pack=PackType.from_row(result.pack) if result.pack else None,
        replayed=result.replayed,
    )
