"""Pack repairs (managers), payments, notes and tasks: each mutation's input, payload and
function side by side, then the area's ``Mutation`` fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from packgraph.domain import adjustments, notes, payments, redemptions, tasks
from packgraph.resolvers.context import Info, actor_of
from packgraph.resolvers.ids import global_id
from packgraph.schema.errors import Payload
from packgraph.schema.ledger import LedgerEntryType, PackNoteType
from packgraph.schema.mutation import INPUT, mutation, optional_pk_of, pk_of
from packgraph.schema.packs import PackItemType, PackType
from packgraph.schema.tasks import TaskType
from packgraph.schema.visits import InvoiceType, PaymentType

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
    method: str = strawberry.field(default="REFUND", description="How the refund is paid.")


@strawberry.type(description="The result of `cancelPack`.")
class CancelPackPayload(Payload):
    pack: PackType | None = strawberry.field(default=None, description="The cancelled pack.")
    refund: PaymentType | None = strawberry.field(
        default=None, description="The refund (a negative payment), if any."
    )


@mutation()
async def cancel_pack(info: Info, input: Annotated[CancelPackInput, INPUT]) -> CancelPackPayload:
    result = await adjustments.cancel_pack(
        actor=actor_of(info),
        pack_id=pk_of(input.pack_id, "Pack", "packId"),
        reason=input.reason,
        refund=input.refund,
        method=input.method,
    )
    return CancelPackPayload(
        pack=PackType.from_row(result.pack),
        refund=PaymentType.from_row(result.refund) if result.refund else None,
    )


@strawberry.input(
    description="Delete a pack (managers and owners). Refused with PACK_HAS_INVOICES while "
    "invoice lines are allocated to it."
)
class DeletePackInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")


@strawberry.type(description="The result of `deletePack`.")
class DeletePackPayload(Payload):
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
        deleted_pack_id=global_id("Pack", result.pack.id), pack=PackType.from_row(result.pack)
    )


@strawberry.input(description="Money received (or refunded) for a pack or an invoice.")
class RecordPaymentInput:
    amount: int = strawberry.field(
        description="Minor currency units: positive received, negative refunded."
    )
    method: str = strawberry.field(description="How, e.g. CARD, CASH, TRANSFER.")
    pack_id: strawberry.ID | None = strawberry.field(
        default=None, description="The pack it pays for."
    )
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="The invoice it pays (give this, the pack, or both)."
    )
    received_at: datetime | None = strawberry.field(
        default=None, description="When it was received (default: now)."
    )


@strawberry.type(description="The result of `recordPayment`.")
class RecordPaymentPayload(Payload):
    payment: PaymentType | None = strawberry.field(default=None, description="The payment.")
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


@mutation()
async def record_payment(
    info: Info, input: Annotated[RecordPaymentInput, INPUT]
) -> RecordPaymentPayload:
    result = await payments.record_payment(
        actor=actor_of(info),
        amount=input.amount,
        method=input.method,
        pack_id=optional_pk_of(input.pack_id, "Pack", "packId"),
        invoice_id=optional_pk_of(input.invoice_id, "Invoice", "invoiceId"),
        received_at=input.received_at,
    )
    return RecordPaymentPayload(
        payment=PaymentType.from_row(result.payment),
        pack=PackType.from_row(result.pack) if result.pack else None,
        invoice=InvoiceType.from_row(result.invoice) if result.invoice else None,
        payments=[PaymentType.from_row(row) for row in result.payments],
        packs=[PackType.from_row(row) for row in result.packs],
    )


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
        description="Record a payment (or refund) for a pack or invoice; over-payment is "
        "refused. Emits PAYMENT_RECORDED.",
    )
    add_pack_note: AddPackNotePayload = strawberry.mutation(
        resolver=add_pack_note,
        description="Add a note to a pack. Emits NOTE_ADDED.",
    )
    complete_task: CompleteTaskPayload = strawberry.mutation(
        resolver=complete_task, description="Mark a task done."
    )


MUTATION_AREAS: list[type] = [PackMutations]
