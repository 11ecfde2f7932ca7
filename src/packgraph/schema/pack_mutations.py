"""Pack repairs (managers), payments, notes and tasks: each mutation's input, payload and
function side by side, then the area's ``Mutation`` fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from packgraph.domain import adjustments, notes, payments, redemptions, tasks
from packgraph.domain.payment_allocation import PaymentResult
from packgraph.resolvers.context import Info, actor_of
from packgraph.resolvers.ids import global_id
from packgraph.schema.enums import PaymentMethod, RefundTo
from packgraph.schema.errors import Payload
from packgraph.schema.ledger import LedgerEntryType, PackNoteType
from packgraph.schema.mutation import (
    IDEMPOTENCY_KEY,
    INPUT,
    REPLAYED,
    mutation,
    optional_pk_of,
    pk_of,
)
from packgraph.schema.packs import PackItemType, PackType
from packgraph.schema.tasks import TaskType
from packgraph.schema.visits import CreditEntryType, InvoiceType, PaymentType

MANAGERS = " Owners and managers only."


@strawberry.input(
    description="Correct an item's balance with a reason (managers and owners). Shown in the "
    'history as "Correction: <reason>".'
)
class CorrectPackBalanceInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")
    item_id: strawberry.ID = strawberry.field(description="The item of the pack to correct.")
    delta: int = strawberry.field(
        description="Units to change: negative marks units used, positive gives units back."
    )
    reason: str = strawberry.field(description="Why (required).")


@strawberry.type(description="The result of `correctPackBalance`.")
class CorrectPackBalancePayload(Payload):
    pack: PackType | None = strawberry.field(default=None, description="The pack after it.")
    item: PackItemType | None = strawberry.field(default=None, description="The item after it.")
    entry: LedgerEntryType | None = strawberry.field(
        default=None, description="The CORRECTION entry."
    )


@mutation()
async def correct_pack_balance(
    info: Info, input: Annotated[CorrectPackBalanceInput, INPUT]
) -> CorrectPackBalancePayload:
    result = await adjustments.correct_pack_balance(
        actor=actor_of(info),
        pack_id=pk_of(input.pack_id, "Pack", "packId"),
        item_id=pk_of(input.item_id, "PackItem", "itemId"),
        delta=input.delta,
        reason=input.reason,
    )
    return CorrectPackBalancePayload(
        pack=PackType.from_row(result.pack),
        item=PackItemType.from_row(result.item),
        entry=LedgerEntryType.from_row(result.entry),
    )


@strawberry.input(description="Change or remove a pack's expiry (managers and owners).")
class ChangePackExpiryInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")
    expires_at: datetime | None = strawberry.field(
        description="The new expiry (with a timezone); null removes it."
    )
    reason: str = strawberry.field(
        default="", description="Why; required when it brings an expired pack back to ACTIVE."
    )


@strawberry.type(description="The result of `changePackExpiry`.")
class ChangePackExpiryPayload(Payload):
    pack: PackType | None = strawberry.field(default=None, description="The pack after it.")
    note: PackNoteType | None = strawberry.field(
        default=None,
        description="The audit note written when an expired pack was restored, else null.",
    )


@mutation()
async def change_pack_expiry(
    info: Info, input: Annotated[ChangePackExpiryInput, INPUT]
) -> ChangePackExpiryPayload:
    result = await adjustments.change_pack_expiry(
        actor=actor_of(info),
        pack_id=pk_of(input.pack_id, "Pack", "packId"),
        expires_at=input.expires_at,
        reason=input.reason,
    )
    return ChangePackExpiryPayload(
        pack=PackType.from_row(result.pack),
        note=PackNoteType.from_row(result.note) if result.note else None,
    )


@strawberry.input(description="Cancel a pack, optionally refunding (managers and owners).")
class CancelPackInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")
    reason: str = strawberry.field(description="Why (required).")
    refund: int = strawberry.field(
        default=0,
        description="Amount to give back, at most the amount paid (see `Pack.refundQuote`).",
    )
    method: PaymentMethod | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="How the refund is paid out (required with a PAID_OUT refund)."
    )
    refund_to: RefundTo = strawberry.field(  # type: ignore[valid-type]
        default=RefundTo.PAID_OUT,  # type: ignore[attr-defined]
        description="Pay the refund out in `method` (the default), or keep it as the client's "
        "credit.",
    )


@strawberry.type(description="The result of `cancelPack`.")
class CancelPackPayload(Payload):
    pack: PackType | None = strawberry.field(default=None, description="The cancelled pack.")
    refund: PaymentType | None = strawberry.field(
        default=None, description="The refund (a negative payment), if any."
    )
    credit_entry: CreditEntryType | None = strawberry.field(
        default=None, description="The credit entry, when the refund went to the client's credit."
    )


@mutation()
async def cancel_pack(info: Info, input: Annotated[CancelPackInput, INPUT]) -> CancelPackPayload:
    result = await adjustments.cancel_pack(
        actor=actor_of(info),
        pack_id=pk_of(input.pack_id, "Pack", "packId"),
        reason=input.reason,
        refund=input.refund,
        method=input.method.value if input.method is not None else None,
        refund_to=input.refund_to.value,
    )
    return CancelPackPayload(
        pack=PackType.from_row(result.pack),
        refund=PaymentType.from_row(result.refund) if result.refund else None,
        credit_entry=CreditEntryType.from_row(result.credit) if result.credit else None,
    )


@strawberry.input(
    description="Delete a mistaken pack (managers and owners): what was paid for it moves to the "
    "client's credit and its sale line is voided. Refused with PACK_HAS_INVOICES while invoice "
    "lines are allocated to it."
)
class DeletePackInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")


@strawberry.type(description="The result of `deletePack`.")
class DeletePackPayload(Payload):
    credit_entry: CreditEntryType | None = strawberry.field(
        default=None, description="The credit entry of what had been paid for it, if anything."
    )
    deleted_pack_id: strawberry.ID | None = strawberry.field(
        default=None, description="ID of the deleted pack, to remove it from lists."
    )
    pack: PackType | None = strawberry.field(
        default=None, description="The pack, with `deletedAt` set."
    )


@mutation()
async def delete_pack(info: Info, input: Annotated[DeletePackInput, INPUT]) -> DeletePackPayload:
    result = await redemptions.delete_pack(
        actor=actor_of(info), pack_id=pk_of(input.pack_id, "Pack", "packId")
    )
    return DeletePackPayload(
        deleted_pack_id=global_id("Pack", result.pack.id),
        pack=PackType.from_row(result.pack),
        credit_entry=CreditEntryType.from_row(result.credit) if result.credit else None,
    )


@strawberry.input(description="Money received for a pack or an invoice.")
class RecordPaymentInput:
    amount: int = strawberry.field(description="Minor currency units, more than zero.")
    method: PaymentMethod = strawberry.field(description="How it was paid.")  # type: ignore[valid-type]
    pack_id: strawberry.ID | None = strawberry.field(
        default=None, description="The pack it pays for."
    )
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="The invoice it pays (give this, the pack, or both)."
    )
    received_at: datetime | None = strawberry.field(
        default=None, description="When it was received (default: now)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `recordPayment`.")
class RecordPaymentPayload(Payload):
    payment: PaymentType | None = strawberry.field(
        default=None, description="The first payment row written."
    )
    pack: PackType | None = strawberry.field(
        default=None, description="The pack after it, with its new payment status."
    )
    invoice: InvoiceType | None = strawberry.field(default=None, description="The invoice.")
    payments: list[PaymentType] = strawberry.field(
        default_factory=list,
        description="Every payment row written (an invoice payment is split over its packs).",
    )
    packs: list[PackType] = strawberry.field(
        default_factory=list, description="Every pack whose payments changed."
    )
    replayed: bool = strawberry.field(default=False, description=REPLAYED)

    @classmethod
    def of(cls, result: PaymentResult) -> Self:
        return cls(
            payment=PaymentType.from_row(result.payment),
            pack=PackType.from_row(result.pack) if result.pack else None,
            invoice=InvoiceType.from_row(result.invoice) if result.invoice else None,
            payments=[PaymentType.from_row(row) for row in result.payments],
            packs=[PackType.from_row(row) for row in result.packs],
            replayed=result.replayed,
        )


@mutation()
async def record_payment(
    info: Info, input: Annotated[RecordPaymentInput, INPUT]
) -> RecordPaymentPayload:
    result = await payments.record_payment(
        actor=actor_of(info),
        amount=input.amount,
        method=input.method.value,
        pack_id=optional_pk_of(input.pack_id, "Pack", "packId"),
        invoice_id=optional_pk_of(input.invoice_id, "Invoice", "invoiceId"),
        received_at=input.received_at,
        idempotency_key=input.idempotency_key,
    )
    return RecordPaymentPayload.of(result)


@strawberry.input(
    description="Give back money paid for a pack or an invoice (managers and owners), at most "
    "what was paid on it net of earlier refunds."
)
class RefundPaymentInput:
    amount: int = strawberry.field(description="Minor currency units to give back, more than zero.")
    method: PaymentMethod = strawberry.field(  # type: ignore[valid-type]
        description="How the money is given back."
    )
    reason: str = strawberry.field(description="Why (required; shown in the pack's history).")
    pack_id: strawberry.ID | None = strawberry.field(
        default=None, description="The pack whose payments are refunded."
    )
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The invoice whose payments are refunded (its unallocated money first, then "
        "its packs in reverse line order).",
    )
    refunded_at: datetime | None = strawberry.field(
        default=None, description="When it was given back (default: now)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `refundPayment`: the refund rows (negative amounts).")
class RefundPaymentPayload(RecordPaymentPayload):
    pass


@mutation()
async def refund_payment(
    info: Info, input: Annotated[RefundPaymentInput, INPUT]
) -> RefundPaymentPayload:
    result = await payments.refund_payment(
        actor=actor_of(info),
        amount=input.amount,
        method=input.method.value,
        reason=input.reason,
        pack_id=optional_pk_of(input.pack_id, "Pack", "packId"),
        invoice_id=optional_pk_of(input.invoice_id, "Invoice", "invoiceId"),
        received_at=input.refunded_at,
        idempotency_key=input.idempotency_key,
    )
    return RefundPaymentPayload.of(result)


@strawberry.input(description="A note on a pack.")
class AddPackNoteInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")
    text: str = strawberry.field(description="The note.")


@strawberry.type(description="The result of `addPackNote`.")
class AddPackNotePayload(Payload):
    note: PackNoteType | None = strawberry.field(default=None, description="The new note.")
    pack: PackType | None = strawberry.field(default=None, description="The pack.")


@mutation()
async def add_pack_note(
    info: Info, input: Annotated[AddPackNoteInput, INPUT]
) -> AddPackNotePayload:
    result = await notes.add_pack_note(
        actor=actor_of(info), pack_id=pk_of(input.pack_id, "Pack", "packId"), text=input.text
    )
    return AddPackNotePayload(
        note=PackNoteType.from_row(result.note), pack=PackType.from_row(result.pack)
    )


@strawberry.input(description="Mark a task done.")
class CompleteTaskInput:
    task_id: strawberry.ID = strawberry.field(description="The task.")


@strawberry.type(description="The result of `completeTask`.")
class CompleteTaskPayload(Payload):
    task: TaskType | None = strawberry.field(default=None, description="The task, done.")


@mutation()
async def complete_task(
    info: Info, input: Annotated[CompleteTaskInput, INPUT]
) -> CompleteTaskPayload:
    result = await tasks.complete_task(
        actor=actor_of(info), task_id=pk_of(input.task_id, "Task", "taskId")
    )
    return CompleteTaskPayload(task=TaskType.from_row(result.task))


@strawberry.type(description="Pack repairs, payments, notes and tasks.")
class PackMutations:
    correct_pack_balance: CorrectPackBalancePayload = strawberry.mutation(
        resolver=correct_pack_balance,
        description="Mark units used (negative delta) or give them back (positive), with a "
        "reason. Emits PACK_CORRECTED." + MANAGERS,
    )
    change_pack_expiry: ChangePackExpiryPayload = strawberry.mutation(
        resolver=change_pack_expiry,
        description="Change or remove a pack's expiry. Emits EXPIRY_CHANGED." + MANAGERS,
    )
    cancel_pack: CancelPackPayload = strawberry.mutation(
        resolver=cancel_pack,
        description="Cancel a pack with an optional refund. Emits PACK_CANCELLED." + MANAGERS,
    )
    delete_pack: DeletePackPayload = strawberry.mutation(
        resolver=delete_pack,
        description="Delete a pack with no allocated lines. Emits PACK_DELETED." + MANAGERS,
    )
    record_payment: RecordPaymentPayload = strawberry.mutation(
        resolver=record_payment,
        description="Record a payment for a pack or invoice; over-payment is refused "
        "(OVERPAYMENT). Emits PAYMENT_RECORDED per row.",
    )
    refund_payment: RefundPaymentPayload = strawberry.mutation(
        resolver=refund_payment,
        description="Give back money paid for a pack or invoice, with a reason; more than was "
        "paid is refused (REFUND_TOO_LARGE). Emits PAYMENT_REFUNDED per row." + MANAGERS,
    )
    add_pack_note: AddPackNotePayload = strawberry.mutation(
        resolver=add_pack_note,
        description="Add a note to a pack. Emits NOTE_ADDED.",
    )
    complete_task: CompleteTaskPayload = strawberry.mutation(
        resolver=complete_task, description="Mark a task done."
    )


MUTATION_AREAS: list[type] = [PackMutations]
