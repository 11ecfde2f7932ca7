"""Payments, refunds and client credit (SPEC §1.7, §6.1): any staff records money received on a
pack or an invoice (``record_payment``) and pays an invoice from the client's credit
(``apply_client_credit``); managers and owners give money back with a reason, from what was
paid (``refund_payment``, a negative payment) or from the credit (``refund_client_credit``).
Each takes an idempotency key, so a retried request moves money once. Where the money goes is
``payment_allocation``'s; the credit ledger is ``client_credit``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.catalog import get_client
from packgraph.domain.client_credit import write_credit_entry
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import check_reason, invalid
from packgraph.domain.events import append_event
from packgraph.domain.idempotency import run_idempotent
from packgraph.domain.payment_allocation import PaymentResult, apply_payment
from packgraph.models import Client, CreditEntry, CreditKind, EventType, PaymentMethod

# Far above any real payment, far below the 64-bit column limit.
MAX_AMOUNT = 10**12


def check_amount(amount: int, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise invalid("amount must be a whole number of minor units", field)
    if abs(amount) > MAX_AMOUNT:
        raise invalid("amount is too large", field)
    return amount


def check_positive_amount(amount: int, field: str = "amount") -> int:
    check_amount(amount, field)
    if amount <= 0:
        raise invalid(f"{field} must be more than zero", field)
    return amount


def check_method(method: PaymentMethod | str | None, field: str = "method") -> PaymentMethod:
    if method is None or method == "":
        raise invalid("a payment method is required", field)
    try:
        chosen = PaymentMethod(method)
    except ValueError:
        chosen = None
    if chosen is None or chosen == PaymentMethod.CLIENT_CREDIT:
        choices = ", ".join(m.value for m in PaymentMethod if m != PaymentMethod.CLIENT_CREDIT)
        hint = " (client credit moves with applyClientCredit)" if chosen else ""
        raise invalid(f"method must be one of {choices}{hint}", field)
    return chosen


def _check_received_at(received_at: datetime | None) -> datetime:
    if received_at is None:
        return utcnow()
    if received_at.tzinfo is None:
        raise invalid("receivedAt needs a timezone", "receivedAt")
    return received_at.astimezone(UTC)


def _check_target(invoice_id: int | None, pack_id: int | None) -> None:
    if invoice_id is None and pack_id is None:
        raise invalid("a payment needs an invoice or a pack", "invoiceId")


async def _move_money(
    *,
    operation: str,
    actor: Actor,
    amount: int,
    method: PaymentMethod,
    reason: str,
    invoice_id: int | None,
    pack_id: int | None,
    received_at: datetime | None,
    idempotency_key: str | None,
    credit: CreditKind | None = None,
) -> PaymentResult:
    """Validate the target and time, then apply ``amount`` (negative for a refund) at most once
    per idempotency key. The key's request holds the time as given: a retry without one is the
    same request, whenever it comes."""
    request = {
        "amount": amount,
        "method": method.value,
        "reason": reason,
        "invoice": invoice_id,
        "pack": pack_id,
        "receivedAt": received_at,
    }
    when = _check_received_at(received_at)
    _check_target(invoice_id, pack_id)

    async def body(conn: BaseDBAsyncClient) -> PaymentResult:
        return await apply_payment(
            conn,
            actor=actor,
            amount=amount,
            method=method,
            reason=reason,
            invoice_id=invoice_id,
            pack_id=pack_id,
            received_at=when,
            credit=credit,
        )

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation=operation,
        request=request,
        result_type=PaymentResult,
        body=body,
    )


async def record_payment(
    *,
    actor: Actor,
    amount: int,
    method: PaymentMethod | str,
    invoice_id: int | None = None,
    pack_id: int | None = None,
    received_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> PaymentResult:
    """Record money received (``amount > 0``) on a pack or an invoice.

    Partial payments are allowed; paying more than is due fails with OVERPAYMENT. With both
    ``pack_id`` and ``invoice_id`` the pack must be sold on that invoice. Emits one
    PAYMENT_RECORDED per payment row written. Refunds are :func:`refund_payment`.
    """
    actor.require_staff()
    return await _move_money(
        operation="record_payment",
        actor=actor,
        amount=check_positive_amount(amount),
        method=check_method(method),
        reason="",
        invoice_id=invoice_id,
        pack_id=pack_id,
        received_at=received_at,
        idempotency_key=idempotency_key,
    )


async def refund_payment(
    *,
    actor: Actor,
    amount: int,
    method: PaymentMethod | str,
    reason: str,
    invoice_id: int | None = None,
    pack_id: int | None = None,
    received_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> PaymentResult:
    """Give back ``amount`` (> 0) of what was paid on a pack or an invoice; managers and owners.

    At most what was paid, net of earlier refunds, on that pack and on its invoice
    (REFUND_TOO_LARGE otherwise). Written as negative payment rows, taken from an invoice's
    unallocated money first, then from its packs in reverse line order; one PAYMENT_REFUNDED
    event per row, with the reason.
    """
    actor.require_manager("refund payments")
    return await _move_money(
        operation="refund_payment",
        actor=actor,
        amount=-check_positive_amount(amount),
        method=check_method(method),
        reason=check_reason(reason, required=True),
        invoice_id=invoice_id,
        pack_id=pack_id,
        received_at=received_at,
        idempotency_key=idempotency_key,
    )


async def apply_client_credit(
    *, actor: Actor, invoice_id: int, amount: int, idempotency_key: str | None = None
) -> PaymentResult:
    """Pay ``amount`` (> 0) of an invoice from its client's credit (any staff).

    The money is allocated like a payment (the packs sold on the invoice in line order, then the
    rest) as CLIENT_CREDIT payment rows linked to one APPLIED credit entry, each with its
    CREDIT_APPLIED event. INSUFFICIENT_CREDIT beyond the client's credit, OVERPAYMENT beyond
    what the invoice owes, INVOICE_VOID on a void invoice.
    """
    actor.require_staff()
    return await _move_money(
        operation="apply_client_credit",
        actor=actor,
        amount=check_positive_amount(amount),
        method=PaymentMethod.CLIENT_CREDIT,
        reason="",
        invoice_id=invoice_id,
        pack_id=None,
        received_at=None,
        idempotency_key=idempotency_key,
        credit=CreditKind.APPLIED,
    )


@dataclass(frozen=True)
class CreditRefundResult:
    client: Client
    entry: CreditEntry
    replayed: bool = False


async def refund_client_credit(
    *,
    actor: Actor,
    client_id: int,
    amount: int,
    method: PaymentMethod | str,
    reason: str,
    idempotency_key: str | None = None,
) -> CreditRefundResult:
    """Give ``amount`` (> 0) of a client's credit back to them (managers and owners), paid out
    in ``method``, with a reason: a REFUNDED credit entry and CREDIT_REFUNDED.
    INSUFFICIENT_CREDIT beyond the credit."""
    actor.require_manager("refund client credit")
    amount = check_positive_amount(amount)
    method = check_method(method)
    reason = check_reason(reason, required=True)

    async def body(conn: BaseDBAsyncClient) -> CreditRefundResult:
        client = await get_client(conn, actor=actor, client_id=client_id)
        entry = await write_credit_entry(
            conn,
            actor=actor,
            client_id=client.id,
            kind=CreditKind.REFUNDED,
            amount=-amount,
            now=utcnow(),
            method=method,
            reason=reason,
        )
        await append_event(
            conn,
            actor=actor,
            type=EventType.CREDIT_REFUNDED,
            client_id=client.id,
            payload={
                "amount": -amount,
                "method": method.value,
                "reason": reason,
                "creditEntryId": entry.id,
                "creditBalance": entry.balance_after,
            },
        )
        return CreditRefundResult(client=client, entry=entry)

    return await run_idempotent(
        actor=actor,
        key=idempotency_key,
        operation="refund_client_credit",
        request={"client": client_id, "amount": amount, "method": method.value, "reason": reason},
        result_type=CreditRefundResult,
        body=body,
    )
