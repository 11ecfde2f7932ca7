"""Inputs and payloads of the pack repairs (managers), payments, notes and tasks."""

from __future__ import annotations

from datetime import datetime

import strawberry

from packgraph.schema.errors import Payload
from packgraph.schema.ledger import LedgerEntryType, PackNoteType
from packgraph.schema.packs import PackItemType, PackType
from packgraph.schema.tasks import TaskType
from packgraph.schema.visits import InvoiceType, PaymentType


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


@strawberry.input(description="A note on a pack.")
class AddPackNoteInput:
    pack_id: strawberry.ID = strawberry.field(description="The pack.")
    text: str = strawberry.field(description="The note.")


@strawberry.type(description="The result of `addPackNote`.")
class AddPackNotePayload(Payload):
    note: PackNoteType | None = strawberry.field(default=None, description="The new note.")
    pack: PackType | None = strawberry.field(default=None, description="The pack.")


@strawberry.input(description="Mark a task done.")
class CompleteTaskInput:
    task_id: strawberry.ID = strawberry.field(description="The task.")


@strawberry.type(description="The result of `completeTask`.")
class CompleteTaskPayload(Payload):
    task: TaskType | None = strawberry.field(default=None, description="The task, done.")
