"""Payments and refunds (SPEC §1.7, §6.1): any staff records money received on a pack or an
invoice (``record_payment``); managers and owners give money back with a reason
(``refund_payment``), stored as a negative payment. Both take an idempotency key, so a retried
request moves money once. Where the money goes is ``payment_allocation``'s.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import check_reason, invalid
from packgraph.domain.idempotency import run_idempotent
from packgraph.domain.payment_allocation import PaymentResult, apply_payment
from packgraph.models import PaymentMethod

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
        return PaymentMethod(method)
    except ValueError:
        choices = ", ".join(member.value for member in PaymentMethod)
        raise invalid(f"method must be one of {choices}", field) from None


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
