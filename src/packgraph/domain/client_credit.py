"""Client credit (SPEC §6.1): an append-only ledger per client of money the business holds for
them, and the rule that paid money never silently exceeds what an invoice charges.

- Money reaches the credit (CREDITED) when an invoice ends up paid beyond what it charges — a
  paid visit allocated to a pack afterwards, a paid line voided, a paid invoice voided
  (:func:`credit_overpayment`) — or when a manager chooses credit for what a cancelled or
  deleted pack had paid (``payment_allocation``, method CLIENT_CREDIT).
- It leaves by being applied to another invoice (APPLIED, staff) or refunded to the client
  (REFUNDED, managers): ``payments.apply_client_credit`` and ``payments.refund_client_credit``.

Each move is one :class:`~packgraph.models.CreditEntry` plus, where money moves to or from an
invoice, CLIENT_CREDIT payment rows linked to it (negative when moved to the credit, positive when
paid from it), so an invoice's net payments always say what it still owes. Every entry is written
holding the business row (the last lock of ``status.py``), so the entries of one client form a
single chain whose ``balance_after`` is the credit, and the credit never goes below zero.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.amounts import currency_of, money_text
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.invoices import invoice_paid, invoice_total, lock_business
from packgraph.domain.payment_rows import write_payment
from packgraph.models import CreditEntry, CreditKind, Invoice, Payment, PaymentMethod

CREDIT_REASON = "Moved to client credit"


def credit_reason(why: str) -> str:
    """The reason kept on a move to the credit: "Moved to client credit: <why>"."""
    return f"{CREDIT_REASON}: {why}"[:500] if why else CREDIT_REASON


async def credit_balance(conn: BaseDBAsyncClient | None, client_id: int) -> int:
    """The client's credit now: the balance after their latest entry (0 without one)."""
    latest = (
        await CreditEntry.filter(client_id=client_id)
        .using_db(conn)
        .order_by("-id")
        .first()
        .values_list("balance_after", flat=True)
    )
    return int(latest or 0)


async def write_credit_entry(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    client_id: int,
    kind: CreditKind,
    amount: int,
    now: datetime,
    invoice_id: int | None = None,
    method: PaymentMethod | None = None,
    reason: str = "",
) -> CreditEntry:
    """Add one entry (``amount`` positive for CREDITED, negative otherwise) to the client's
    chain, holding the business row so no other entry of the business slips in between;
    INSUFFICIENT_CREDIT when it would take the credit below zero. The caller holds every other
    lock it needs already (the business row is the last one)."""
    await lock_business(conn, actor.business_id)
    balance = await credit_balance(conn, client_id)
    if balance + amount < 0:
        currency = await currency_of(conn, actor.business_id)
        raise DomainError(
            ErrorCode.INSUFFICIENT_CREDIT,
            f"the client has {money_text(balance, currency)} in credit, less than "
            f"{money_text(-amount, currency)}",
            "amount",
        )
    return await CreditEntry.create(
        business_id=actor.business_id,
        client_id=client_id,
        kind=kind,
        amount=amount,
        balance_after=balance + amount,
        invoice_id=invoice_id,
        method=method,
        reason=reason,
        staff_id=actor.staff_id,
        created_at=now,
        using_db=conn,
    )


async def unallocated_paid(conn: BaseDBAsyncClient, invoice_id: int) -> int:
    """The invoice's net payments that went to no pack."""
    amounts = (
        await Payment.filter(invoice_id=invoice_id, pack_id__isnull=True)
        .using_db(conn)
        .values_list("amount", flat=True)
    )
    return sum(amounts)


async def credit_overpayment(
    conn: BaseDBAsyncClient, *, actor: Actor, invoice_id: int, why: str, now: datetime
) -> CreditEntry | None:
    """Move what the invoice has paid beyond what it now charges to the client's credit: a
    CREDITED entry, a negative CLIENT_CREDIT payment on the invoice and CLIENT_CREDITED. Call it
    after anything that lowers what an invoice charges. None when nothing is over-paid.

    The excess is always money paid to no pack: a pack's payments never exceed what its sale
    line charges, so only the invoice's other lines can fall below what was paid for them. The
    caller holds the invoice's lock, taken before its first event (``status.py``).
    """
    invoice = await Invoice.get(id=invoice_id).using_db(conn)
    if invoice.voided_at is not None:
        return None
    excess = await invoice_paid(conn, invoice.id) - await invoice_total(conn, invoice.id)
    if excess <= 0:
        return None
    if await unallocated_paid(conn, invoice.id) < excess:
        raise AssertionError(f"invoice {invoice.number}: packs paid beyond their sale lines")
    reason = credit_reason(why)
    entry = await write_credit_entry(
        conn,
        actor=actor,
        client_id=invoice.client_id,
        kind=CreditKind.CREDITED,
        amount=excess,
        now=now,
        invoice_id=invoice.id,
        reason=reason,
    )
    await write_payment(
        conn,
        actor=actor,
        amount=-excess,
        method=PaymentMethod.CLIENT_CREDIT,
        reason=reason,
        received_at=now,
        invoice=invoice,
        pack=None,
        credit=entry,
    )
    return entry


async def credit_overpayments(
    conn: BaseDBAsyncClient, *, actor: Actor, invoice_ids: set[int], why: str, now: datetime
) -> list[CreditEntry]:
    """:func:`credit_overpayment` for each invoice, by primary key; the entries written."""
    entries = []
    for invoice_id in sorted(invoice_ids):
        entry = await credit_overpayment(conn, actor=actor, invoice_id=invoice_id, why=why, now=now)
        if entry is not None:
            entries.append(entry)
    return entries
