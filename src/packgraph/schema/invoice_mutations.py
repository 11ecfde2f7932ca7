"""Voiding invoice lines and invoices (managers and owners): each mutation's input, payload and
function side by side, then the area's ``Mutation`` fields."""

from __future__ import annotations

from typing import Annotated

import strawberry

from packgraph.domain import invoice_voids
from packgraph.resolvers.context import Info, actor_of
from packgraph.schema.errors import Payload
from packgraph.schema.ledger import LedgerEntryType
from packgraph.schema.mutation import INPUT, mutation, pk_of
from packgraph.schema.packs import PackType
from packgraph.schema.visits import CreditEntryType, InvoiceLineType, InvoiceType


@strawberry.input(
    description="Void one SERVICE or PRODUCT line with a reason (managers and owners). A pack's "
    "sale line follows its pack: delete or cancel the pack instead."
)
class VoidInvoiceLineInput:
    line_id: strawberry.ID = strawberry.field(description="The invoice line.")
    reason: str = strawberry.field(description="Why (required; kept on the line).")


@strawberry.type(description="The result of `voidInvoiceLine`.")
class VoidInvoiceLinePayload(Payload):
    invoice_line: InvoiceLineType | None = strawberry.field(
        default=None, description="The line, void."
    )
    invoice: InvoiceType | None = strawberry.field(
        default=None, description="Its invoice, with the new total and status."
    )
    pack: PackType | None = strawberry.field(
        default=None, description="The pack the line was allocated to, its units given back."
    )
    entry: LedgerEntryType | None = strawberry.field(
        default=None, description="The REVERSAL entry, when the line was allocated."
    )
    credit_entry: CreditEntryType | None = strawberry.field(
        default=None,
        description="What the invoice had paid beyond its new total, moved to the client's credit.",
    )


@mutation()
async def void_invoice_line(
    info: Info, input: Annotated[VoidInvoiceLineInput, INPUT]
) -> VoidInvoiceLinePayload:
    result = await invoice_voids.void_invoice_line(
        actor=actor_of(info),
        line_id=pk_of(input.line_id, "InvoiceLine", "lineId"),
        reason=input.reason,
    )
    return VoidInvoiceLinePayload(
        invoice_line=InvoiceLineType.from_row(result.line),
        invoice=InvoiceType.from_row(result.invoice),
        pack=PackType.from_row(result.pack) if result.pack else None,
        entry=LedgerEntryType.from_row(result.entry) if result.entry else None,
        credit_entry=CreditEntryType.from_row(result.credit) if result.credit else None,
    )


@strawberry.input(
    description="Void a whole invoice with a reason (managers and owners): what was paid on it "
    "moves to the client's credit; every pack it sells must be deleted, or cancelled with "
    "nothing left paid, first."
)
class VoidInvoiceInput:
    invoice_id: strawberry.ID = strawberry.field(description="The invoice.")
    reason: str = strawberry.field(description="Why (required; kept on the invoice).")


@strawberry.type(description="The result of `voidInvoice`.")
class VoidInvoicePayload(Payload):
    invoice: InvoiceType | None = strawberry.field(default=None, description="The invoice, VOID.")
    invoice_lines: list[InvoiceLineType] = strawberry.field(
        default_factory=list, description="The lines this void voided."
    )
    packs: list[PackType] = strawberry.field(
        default_factory=list, description="The packs whose allocations were given back."
    )
    credit_entry: CreditEntryType | None = strawberry.field(
        default=None, description="What had been paid on it, moved to the client's credit."
    )


@mutation()
async def void_invoice(info: Info, input: Annotated[VoidInvoiceInput, INPUT]) -> VoidInvoicePayload:
    result = await invoice_voids.void_invoice(
        actor=actor_of(info),
        invoice_id=pk_of(input.invoice_id, "Invoice", "invoiceId"),
        reason=input.reason,
    )
    return VoidInvoicePayload(
        invoice=InvoiceType.from_row(result.invoice),
        invoice_lines=[InvoiceLineType.from_row(line) for line in result.lines],
        packs=[PackType.from_row(pack) for pack in result.packs],
        credit_entry=CreditEntryType.from_row(result.credit) if result.credit else None,
    )


@strawberry.type(description="Invoice corrections.")
class InvoiceMutations:
    void_invoice_line: VoidInvoiceLinePayload = strawberry.mutation(
        resolver=void_invoice_line,
        description="Void an invoice line with a reason (managers and owners); an allocated "
        "line gives its units back first. Emits INVOICE_LINE_VOIDED. Errors: NOT_FOUND, "
        "PERMISSION_DENIED, REASON_REQUIRED, INVOICE_VOID, INVALID_STATE (a pack's sale line). "
        "What the invoice then has paid beyond its total moves to the client's credit "
        "(CLIENT_CREDITED).",
    )
    void_invoice: VoidInvoicePayload = strawberry.mutation(
        resolver=void_invoice,
        description="Void a whole invoice with a reason (managers and owners). Emits "
        "INVOICE_VOIDED, after CLIENT_CREDITED for what was paid on it. Errors: NOT_FOUND, "
        "PERMISSION_DENIED, REASON_REQUIRED, INVOICE_VOID, INVALID_STATE (it sells a pack that "
        "is not deleted, or a cancelled one that keeps money paid).",
    )


MUTATION_AREAS: list[type] = [InvoiceMutations]
