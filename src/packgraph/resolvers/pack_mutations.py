"""Pack repairs (corrections, expiry, cancelling, deleting), payments, notes and tasks."""

from __future__ import annotations

from typing import Annotated

from packgraph.domain import adjustments, notes, payments, redemptions, tasks
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import INPUT, actor_of, mutation, optional_pk_of, pk_of
from packgraph.schema.ledger import LedgerEntryType, PackNoteType
from packgraph.schema.pack_mutations import (
    AddPackNoteInput,
    AddPackNotePayload,
    CancelPackInput,
    CancelPackPayload,
    ChangePackExpiryInput,
    ChangePackExpiryPayload,
    CompleteTaskInput,
    CompleteTaskPayload,
    CorrectPackBalanceInput,
    CorrectPackBalancePayload,
    DeletePackInput,
    DeletePackPayload,
    RecordPaymentInput,
    RecordPaymentPayload,
)
from packgraph.schema.packs import PackItemType, PackType
from packgraph.schema.relay import global_id
from packgraph.schema.tasks import TaskType
from packgraph.schema.visits import InvoiceType, PaymentType


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


@mutation()
async def delete_pack(info: Info, input: Annotated[DeletePackInput, INPUT]) -> DeletePackPayload:
    result = await redemptions.delete_pack(
        actor=actor_of(info), pack_id=pk_of(input.pack_id, "Pack", "packId")
    )
    return DeletePackPayload(
        deleted_pack_id=global_id("Pack", result.pack.id), pack=PackType.from_row(result.pack)
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


@mutation()
async def complete_task(
    info: Info, input: Annotated[CompleteTaskInput, INPUT]
) -> CompleteTaskPayload:
    result = await tasks.complete_task(
        actor=actor_of(info), task_id=pk_of(input.task_id, "Task", "taskId")
    )
    return CompleteTaskPayload(task=TaskType.from_row(result.task))
