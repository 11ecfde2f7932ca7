"""The count investigation on the API: ``Pack.diagnosis`` with one-click fixes, and
``chargeAppointment``, the fix for visits nothing else can charge.

The root area (:class:`DiagnosisMutations`) is composed into ``Mutation`` by
:mod:`packgraph.schema.root`; ``Pack.diagnosis`` reads through :mod:`packgraph.resolvers.diagnosis`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from packgraph.domain import diagnosis as domain
from packgraph.domain import repairs
from packgraph.resolvers.context import Info, actor_of
from packgraph.resolvers.ids import global_id
from packgraph.schema.enums import mirror
from packgraph.schema.mutation import IDEMPOTENCY_KEY, INPUT, mutation, pk_of
from packgraph.schema.packs import PackItemType
from packgraph.schema.visit_mutations import VisitChargePayload
from packgraph.schema.visits import AppointmentType, InvoiceLineType

DiagnosisCode = mirror(
    domain.FindingCode,
    name="DiagnosisCode",
    description="Why a pack's count may not be what staff expect (the AcuBliss causes).",
    values={
        "LEDGER_MISMATCH": "The stored count differs from the ledger. Must never happen.",
        "PACK_NOT_PAID": "The business only deducts from fully paid packs and this one is not.",
        "FIRST_SESSION_NOT_DEDUCTED": "A visit on the purchase day was not deducted: "
        "“use first session” was not ticked.",
        "APPOINTMENT_NOT_CHECKED_IN": "A past booked appointment was never checked in.",
        "APPOINTMENT_NO_CHARGE": "An appointment was checked in with “no charge”.",
        "APPOINTMENT_DELETED": "An appointment was deleted from the schedule before it was "
        "charged.",
        "LINE_NOT_ALLOCATED": "A visit after the purchase was charged at the full price while "
        "the pack had balance.",
        "BILLED_BEFORE_PURCHASE": "A visit shortly before the purchase was billed without the "
        "pack (not counted unless the pack should cover it).",
        "SERVICE_NOT_IN_PACK": "A visit for a similar service that is not one of the pack's "
        "(e.g. 90 instead of 60 minutes); not counted. The fix changes the visit's service.",
    },
)


def fix_input(value: Any) -> Any:
    """A domain fix input as JSON: every object reference becomes its global ID."""
    if isinstance(value, domain.Ref):
        return global_id(value.type_name, value.id)
    if isinstance(value, dict):
        return {key: fix_input(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [fix_input(item) for item in value]
    return value


@strawberry.type(
    name="DiagnosisFix",
    description="A one-click fix: run mutation `mutation` with `input` as its `input` argument.",
)
class DiagnosisFixType:
    mutation: str = strawberry.field(description="The mutation's name, e.g. allocateInvoiceLine.")
    input: JSON = strawberry.field(
        description="The mutation's input object, with global IDs, ready to send."
    )
    label: str = strawberry.field(description="A button label, e.g. “Deduct this visit”.")

    @classmethod
    def from_domain(cls, fix: domain.Fix) -> DiagnosisFixType:
        return cls(mutation=fix.mutation, input=fix_input(fix.input), label=fix.label)


@strawberry.type(
    name="DiagnosisFinding",
    description="One cause of a count staff may find wrong, with the visit it concerns.",
)
class DiagnosisFindingType:
    code: DiagnosisCode = strawberry.field(  # type: ignore[valid-type]
        description="The cause, as a stable code."
    )
    message: str = strawberry.field(description="The cause in plain words, for front-desk staff.")
    units: int = strawberry.field(
        description="What the visit would deduct, in the pack's metric (0 for pack-level causes)."
    )
    counted: bool = strawberry.field(
        description="True when `units` are included in `expectedUsed`: the pack's own rules "
        "would have deducted the visit. BILLED_BEFORE_PURCHASE, SERVICE_NOT_IN_PACK and a booking "
        "deleted before check-in are shown but not counted."
    )
    visit_date: date | None = strawberry.field(
        description="The day of the visit (business timezone); null for pack-level causes."
    )
    appointment: AppointmentType | None = strawberry.field(
        description="The appointment concerned, if any (deleted ones included)."
    )
    invoice_line: InvoiceLineType | None = strawberry.field(
        description="The invoice line concerned, if any."
    )
    item: PackItemType | None = strawberry.field(
        description="The pack item the visit would use (or whose count is wrong)."
    )
    fix: DiagnosisFixType | None = strawberry.field(
        description="The mutation that fixes it; null when there is no fix this viewer can apply "
        "now (integrations never get one)."
    )

    @classmethod
    def from_domain(cls, finding: domain.Finding) -> DiagnosisFindingType:
        return cls(
            code=DiagnosisCode(finding.code.value),  # type: ignore[operator]
            message=finding.message,
            units=finding.units,
            counted=finding.counted,
            visit_date=finding.visit_day,
            appointment=AppointmentType.from_row(finding.appointment)
            if finding.appointment
            else None,
            invoice_line=InvoiceLineType.from_row(finding.line) if finding.line else None,
            item=PackItemType.from_row(finding.item) if finding.item else None,
            fix=DiagnosisFixType.from_domain(finding.fix) if finding.fix else None,
        )


@strawberry.type(name="PackItemDiagnosis", description="The counts of one item of the pack.")
class PackItemDiagnosisType:
    item: PackItemType = strawberry.field(description="The item.")
    shown_used: int = strawberry.field(description="What the item shows as used now.")
    ledger_used: int = strawberry.field(description="The sum of the item's ledger entries.")
    expected_used: int = strawberry.field(
        description="What it should show: the ledger plus the counted findings, at most the "
        "allowance."
    )


@strawberry.type(
    name="PackDiagnosis",
    description="“Why is this count wrong?”: the count a pack shows, the count it should show, "
    "and one finding per cause, oldest visit first.",
)
class PackDiagnosisType:
    shown_used: int = strawberry.field(description="Units used as the pack shows them now.")
    expected_used: int = strawberry.field(
        description="Units the pack should show as used: the ledger plus every counted "
        "finding's units. Applying the counted findings' fixes brings `shownUsed` here."
    )
    difference: int = strawberry.field(description="expectedUsed − shownUsed.")
    count_is_right: bool = strawberry.field(description="True when there are no findings.")
    items: list[PackItemDiagnosisType] = strawberry.field(description="The counts per item.")
    findings: list[DiagnosisFindingType] = strawberry.field(
        description="The causes found: ledger and payment problems first, then visits by date."
    )

    @classmethod
    def from_domain(cls, diagnosis: domain.PackDiagnosis) -> PackDiagnosisType:
        return cls(
            shown_used=diagnosis.shown_used,
            expected_used=diagnosis.expected_used,
            difference=diagnosis.expected_used - diagnosis.shown_used,
            count_is_right=not diagnosis.findings,
            items=[
                PackItemDiagnosisType(
                    item=PackItemType.from_row(item.item),
                    shown_used=item.shown_used,
                    ledger_used=item.ledger_used,
                    expected_used=item.expected_used,
                )
                for item in diagnosis.items
            ],
            findings=[DiagnosisFindingType.from_domain(f) for f in diagnosis.findings],
        )


@strawberry.input(
    description="Charge a visit that was checked in with “no charge”, or deleted, to a pack."
)
class ChargeAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(
        description="The appointment (a deleted one too)."
    )
    pack_id: strawberry.ID = strawberry.field(description="The pack to deduct the visit from.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `chargeAppointment`.")
class ChargeAppointmentPayload(VisitChargePayload):
    pass


@mutation()
async def charge_appointment(
    info: Info, input: Annotated[ChargeAppointmentInput, INPUT]
) -> ChargeAppointmentPayload:
    result = await repairs.charge_appointment(
        actor=actor_of(info),
        appointment_id=pk_of(input.appointment_id, "Appointment", "appointmentId"),
        pack_id=pk_of(input.pack_id, "Pack", "packId"),
        idempotency_key=input.idempotency_key,
    )
    return ChargeAppointmentPayload.of(result)


@strawberry.type(description="Repairs suggested by the count investigation.")
class DiagnosisMutations:
    charge_appointment: ChargeAppointmentPayload = strawberry.mutation(
        resolver=charge_appointment,
        description="Charge an uncharged visit (checked in with “no charge”, or deleted) to a "
        "pack: a SERVICE line on the client's invoice for that day, allocated to the pack. The "
        "appointment becomes ATTENDED (a deleted one stays deleted). Emits SESSION_REDEEMED.",
    )


MUTATION_AREAS: list[type] = [DiagnosisMutations]
