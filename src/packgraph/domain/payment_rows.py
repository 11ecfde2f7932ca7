"""One payment row and its event: the single place money is written onto an invoice or a pack.

A payment row is money received (positive) or given back (negative) in a real method, or money
moved between the invoice and the client's credit (method CLIENT_CREDIT, with its credit entry).
Its event follows from that: PAYMENT_RECORDED, PAYMENT_REFUNDED, CLIENT_CREDITED (moved to the
credit) or CREDIT_APPLIED (paid from it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.events import append_event
from packgraph.models import CreditEntry, EventType, Invoice, Pack, Payment, PaymentMethod


def payment_event_type(amount: int, credit: CreditEntry | None) -> EventType:
    if credit is not None:
        return EventType.CLIENT_CREDITED if amount < 0 else EventType.CREDIT_APPLIED
    return EventType.PAYMENT_REFUNDED if amount < 0 else EventType.PAYMENT_RECORDED


async def write_payment(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    amount: int,
    method: PaymentMethod,
    reason: str,
    received_at: datetime,
    invoice: Invoice | None,
    pack: Pack | None,
    credit: CreditEntry | None = None,
    details: dict[str, Any] | None = None,
) -> Payment:
    """Write one payment row and its event in the caller's transaction; ``details`` are added
    to the event's payload (the pack's new paid amount and badge)."""
    payment = await Payment.create(
        business_id=actor.business_id,
        invoice_id=invoice.id if invoice else None,
        pack_id=pack.id if pack else None,
        amount=amount,
        method=method,
        reason=reason,
        received_at=received_at,
        staff_id=actor.staff_id,
        credit_entry_id=credit.id if credit else None,
        using_db=conn,
    )
    client_id = pack.client_id if pack else invoice.client_id if invoice else None
    payload: dict[str, Any] = {
        "amount": amount,
        "method": method.value,
        "refund": amount < 0 and credit is None,
        **({"reason": reason} if amount < 0 else {}),
        "receivedAt": received_at.isoformat(),
        "invoiceId": invoice.id if invoice else None,
        "invoiceNumber": invoice.number if invoice else None,
    }
    if credit is not None:
        payload.update(creditEntryId=credit.id, creditBalance=credit.balance_after)
    await append_event(
        conn,
        actor=actor,
        type=payment_event_type(amount, credit),
        pack_id=pack.id if pack else None,
        client_id=client_id,
        payment_id=payment.id,
        payload={**payload, **(details or {})},
    )
    return payment
