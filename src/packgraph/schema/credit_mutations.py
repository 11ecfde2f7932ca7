"""Client credit: applying it to an invoice (staff) and refunding it (managers and owners), each
mutation's input, payload and function side by side, then the area's ``Mutation`` fields."""

from __future__ import annotations

from typing import Annotated

import strawberry

from packgraph.domain import payments
from packgraph.resolvers.context import Info, actor_of
from packgraph.schema.clients import ClientType
from packgraph.schema.enums import PaymentMethod
from packgraph.schema.errors import Payload
from packgraph.schema.mutation import IDEMPOTENCY_KEY, INPUT, REPLAYED, mutation, pk_of
from packgraph.schema.packs import PackType
from packgraph.schema.visits import CreditEntryType, InvoiceType, PaymentType


@strawberry.input(description="Pay (part of) an invoice from its client's credit (any staff).")
class ApplyClientCreditInput:
    invoice_id: strawberry.ID = strawberry.field(description="The invoice to pay.")
    amount: int = strawberry.field(
        description="Minor currency units, more than zero; at most the client's credit and what "
        "the invoice still owes."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `applyClientCredit`.")
class ApplyClientCreditPayload(Payload):
    credit_entry: CreditEntryType | None = strawberry.field(
        default=None, description="The APPLIED entry, with the credit left."
    )
    invoice: InvoiceType | None = strawberry.field(
        default=None, description="The invoice, with its new balance due and status."
    )
    payments: list[PaymentType] = strawberry.field(
        default_factory=list,
        description="The CLIENT_CREDIT payment rows written (split over the packs it sells).",
    )
    packs: list[PackType] = strawberry.field(
        default_factory=list, description="Every pack whose payments changed."
    )
    replayed: bool = strawberry.field(default=False, description=REPLAYED)


@mutation()
async def apply_client_credit(
    info: Info, input: Annotated[ApplyClientCreditInput, INPUT]
) -> ApplyClientCreditPayload:
    result = await payments.apply_client_credit(
        actor=actor_of(info),
        invoice_id=pk_of(input.invoice_id, "Invoice", "invoiceId"),
        amount=input.amount,
        idempotency_key=input.idempotency_key,
    )
    return ApplyClientCreditPayload(
        credit_entry=CreditEntryType.from_row(result.credit) if result.credit else None,
        invoice=InvoiceType.from_row(result.invoice) if result.invoice else None,
        payments=[PaymentType.from_row(row) for row in result.payments],
        packs=[PackType.from_row(row) for row in result.packs],
        replayed=result.replayed,
    )


@strawberry.input(
    description="Give (part of) a client's credit back to them (managers and owners), with a "
    "reason."
)
class RefundClientCreditInput:
    client_id: strawberry.ID = strawberry.field(description="The client.")
    amount: int = strawberry.field(
        description="Minor currency units, more than zero; at most the client's credit."
    )
    method: PaymentMethod = strawberry.field(  # type: ignore[valid-type]
        description="How the money is paid out (not CLIENT_CREDIT)."
    )
    reason: str = strawberry.field(description="Why (required; kept on the credit entry).")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `refundClientCredit`.")
class RefundClientCreditPayload(Payload):
    credit_entry: CreditEntryType | None = strawberry.field(
        default=None, description="The REFUNDED entry, with the credit left."
    )
    client: ClientType | None = strawberry.field(
        default=None, description="The client, with the credit left."
    )
    replayed: bool = strawberry.field(default=False, description=REPLAYED)


@mutation()
async def refund_client_credit(
    info: Info, input: Annotated[RefundClientCreditInput, INPUT]
) -> RefundClientCreditPayload:
    result = await payments.refund_client_credit(
        actor=actor_of(info),
        client_id=pk_of(input.client_id, "Client", "clientId"),
        amount=input.amount,
        method=input.method.value,
        reason=input.reason,
        idempotency_key=input.idempotency_key,
    )
    return RefundClientCreditPayload(
        credit_entry=CreditEntryType.from_row(result.entry),
        client=ClientType.from_row(result.client),
        replayed=result.replayed,
    )


@strawberry.type(description="Client credit.")
class CreditMutations:
    apply_client_credit: ApplyClientCreditPayload = strawberry.mutation(
        resolver=apply_client_credit,
        description="Pay an invoice from its client's credit (any staff): allocated like a "
        "payment, as CLIENT_CREDIT rows. Emits CREDIT_APPLIED per row. Errors: NOT_FOUND, "
        "PERMISSION_DENIED, INVALID_INPUT, INSUFFICIENT_CREDIT, OVERPAYMENT, INVOICE_VOID, "
        "IDEMPOTENCY_KEY_REUSED.",
    )
    refund_client_credit: RefundClientCreditPayload = strawberry.mutation(
        resolver=refund_client_credit,
        description="Give client credit back to the client (managers and owners). Emits "
        "CREDIT_REFUNDED. Errors: NOT_FOUND, PERMISSION_DENIED, INVALID_INPUT, REASON_REQUIRED, "
        "INSUFFICIENT_CREDIT, IDEMPOTENCY_KEY_REUSED.",
    )


MUTATION_AREAS: list[type] = [CreditMutations]
