"""Where a payment's money goes, and the pack payment badge (SPEC §1.2, §1.7): the body of
``payments.record_payment`` and ``payments.refund_payment``, in the caller's transaction.

``pack.amount_paid`` is the net of the payments allocated to the pack (``Payment.pack``) and is
only changed by conditional ``F()`` updates whose WHERE clause carries the bound, so it always
stays within ``0..final_price``; ``payment_status`` is recomputed from it in the same transaction.

Allocation rule for a payment on an invoice that sells packs (``PACK_SALE`` lines): the money goes
to the packs sold on the invoice in line order, each up to its remaining due (cancelled and deleted
packs are skipped), and what is left stays on the invoice unallocated. One ``Payment`` row is
written per pack it reaches plus one for the unallocated rest, each with its own
``PAYMENT_RECORDED`` event, so ``amount_paid`` always equals the sum of the pack's payment rows.
A refund on such an invoice is taken back in the reverse order: from the unallocated part first,
then from the packs in reverse line order, one ``PAYMENT_REFUNDED`` event per row. A payment on a
pack is attached to the invoice that sold it. Either way the invoice's net payments stay within
``0..invoice total``.

The same rules move money between an invoice or a pack and the client's credit (``credit``:
CREDITED takes money off like a refund, APPLIED pays like a payment), in method CLIENT_CREDIT:
the credit entry is written once the bounds are checked, and every row links to it.

Lock order (see ``domain/status.py``): the pack rows by primary key, then the invoice row, then
the business row (the outbox ``seq``, and the credit chain). The packs are locked without a new
version; each pack the money reaches gets its next version and ``updated_at`` with its payment
row and event, and a pack on the same invoice that the money does not reach is left exactly as
it was (issue 23).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Case, F, When

from packgraph.domain.actor import Actor
from packgraph.domain.amounts import currency_of, money_text
from packgraph.domain.client_credit import write_credit_entry
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import DomainError, ErrorCode, invalid, not_found
from packgraph.domain.invoice_voids import void_unpaid_sale
from packgraph.domain.invoices import (
    invoice_paid,
    invoice_total,
    lock_open_invoice,
    sale_line_of,
)
from packgraph.domain.payment_rows import write_payment
from packgraph.domain.status import changed_now, lock_pack, unchanged
from packgraph.models import (
    CreditEntry,
    CreditKind,
    Invoice,
    InvoiceLine,
    LineKind,
    Pack,
    PackStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)


@dataclass(frozen=True)
class PaymentResult:
    """``payment`` is the first row written and ``pack`` the first pack it reached (as it is now).

    A payment on an invoice that reaches several packs writes one row per pack: all of them are in
    ``payments`` and the packs in ``packs``. ``replayed`` is true for the stored result of an
    earlier call with the same idempotency key.
    """

    payment: Payment
    pack: Pack | None
    invoice: Invoice | None
    payments: tuple[Payment, ...]
    packs: tuple[Pack, ...]
    credit: CreditEntry | None = None
    replayed: bool = False


def payment_status_for(amount_paid: int, final_price: int) -> PaymentStatus:
    """§1.2: PAID when the net paid covers the final price, PARTIAL when above zero, else UNPAID."""
    if amount_paid >= final_price:
        return PaymentStatus.PAID
    if amount_paid > 0:
        return PaymentStatus.PARTIAL
    return PaymentStatus.UNPAID


def _payment_status_case() -> Case:
    """The same rule as :func:`payment_status_for`, evaluated by the database on the new row."""
    return Case(
        When(amount_paid__gte=F("final_price"), then=PaymentStatus.PAID.value),
        When(amount_paid__gt=0, then=PaymentStatus.PARTIAL.value),
        default=PaymentStatus.UNPAID.value,
    )


async def apply_payment(
    conn: BaseDBAsyncClient,
    *,
    actor: Actor,
    amount: int,
    method: PaymentMethod,
    received_at: datetime,
    reason: str = "",
    invoice_id: int | None = None,
    pack_id: int | None = None,
    credit: CreditKind | None = None,
) -> PaymentResult:
    """The body of ``payments.record_payment`` (``amount > 0``) and ``payments.refund_payment``
    (``amount < 0``) in the caller's transaction; ``adjustments.cancel_pack`` uses it for its
    refund. With ``credit`` the money moves from the client's credit (APPLIED, ``amount > 0``)
    or to it (CREDITED, ``amount < 0``) in method CLIENT_CREDIT. Inputs are assumed validated."""
    if credit is not None:
        assert (credit == CreditKind.APPLIED) == (amount > 0)
        method = PaymentMethod.CLIENT_CREDIT
    writer = _PaymentWriter(
        conn, actor=actor, method=method, reason=reason, received_at=received_at, credit=credit
    )
    if pack_id is not None:
        await _pay_pack(writer, amount=amount, pack_id=pack_id, invoice_id=invoice_id)
    else:
        assert invoice_id is not None
        await _pay_invoice(writer, amount=amount, invoice_id=invoice_id)
    return writer.result()


async def _require_invoice(writer: _PaymentWriter, invoice_id: int) -> None:
    query = Invoice.filter(id=invoice_id, business_id=writer.actor.business_id)
    if not await query.using_db(writer.conn).exists():
        raise not_found("invoice", "invoiceId")


async def _pay_pack(
    writer: _PaymentWriter, *, amount: int, pack_id: int, invoice_id: int | None
) -> None:
    conn, actor = writer.conn, writer.actor
    pack = await lock_pack(conn, pack_id=pack_id, actor=actor, bump=False)
    sale_line = await sale_line_of(conn, pack.id)
    if invoice_id is not None and (sale_line is None or sale_line.invoice_id != invoice_id):
        await _require_invoice(writer, invoice_id)
        raise invalid("the pack is not sold on this invoice", "packId")
    if amount > 0 and pack.status == PackStatus.CANCELLED:
        raise DomainError(
            ErrorCode.PACK_NOT_ACTIVE, f"pack {pack.name!r} is cancelled: only refunds", "packId"
        )
    if sale_line is not None:
        await writer.lock_invoice(sale_line.invoice_id)
        await writer.check_invoice_bounds(amount)
    await writer.open_credit(amount, pack.client_id)
    await writer.move_pack_money(pack, amount)


async def _pay_invoice(writer: _PaymentWriter, *, amount: int, invoice_id: int) -> None:
    conn, actor = writer.conn, writer.actor
    await _require_invoice(writer, invoice_id)
    sale_lines = (
        await InvoiceLine.filter(
            invoice_id=invoice_id, kind=LineKind.PACK_SALE, pack_id__isnull=False
        )
        .using_db(conn)
        .order_by("id")
    )
    packs: dict[int, Pack] = {}
    for pack_id in sorted({line.pack_id for line in sale_lines}):
        # Lock in primary-key order like every other pack-changing operation (status.py), without
        # a new version: only the packs the money reaches change (move_pack_money bumps them).
        locked = await (
            Pack.filter(id=pack_id, business_id=actor.business_id, deleted_at__isnull=True)
            .using_db(conn)
            .update(**unchanged())
        )
        if locked:
            packs[pack_id] = await Pack.get(id=pack_id).using_db(conn)
    await writer.lock_invoice(invoice_id)
    await writer.check_invoice_bounds(amount)
    assert writer.invoice is not None
    await writer.open_credit(amount, writer.invoice.client_id)
    ordered = [packs[line.pack_id] for line in sale_lines if line.pack_id in packs]
    if amount > 0:
        left = amount
        for pack in ordered:
            share = min(left, pack.final_price - pack.amount_paid)
            if pack.status == PackStatus.CANCELLED or share <= 0:
                continue
            await writer.move_pack_money(pack, share)
            left -= share
        if left:
            await writer.write_unallocated(left)
        return
    left = -amount
    paid_to_packs = await writer.paid_to_packs()
    unallocated = min(left, writer.invoice_paid - sum(paid_to_packs.values()))
    if unallocated > 0:
        await writer.write_unallocated(-unallocated)
        left -= unallocated
    for pack in reversed(ordered):
        share = min(left, paid_to_packs.get(pack.id, 0), pack.amount_paid)
        if share <= 0:
            continue
        await writer.move_pack_money(pack, -share)
        left -= share
    if left:
        # Only reachable if payments were attached to packs outside this module.
        raise DomainError(ErrorCode.REFUND_TOO_LARGE, "the refund exceeds what was paid", "amount")


class _PaymentWriter:
    """Writes the payment rows and events of one payment, and collects the result."""

    def __init__(
        self,
        conn: BaseDBAsyncClient,
        *,
        actor: Actor,
        method: PaymentMethod,
        reason: str,
        received_at: datetime,
        credit: CreditKind | None,
    ) -> None:
        self.conn = conn
        self.actor = actor
        self.method = method
        self.reason = reason
        self.received_at = received_at
        self.credit_kind = credit
        self.credit: CreditEntry | None = None
        self.invoice: Invoice | None = None
        self.invoice_total = 0
        self.invoice_paid = 0
        self.payments: list[Payment] = []
        self.packs: list[Pack] = []

    async def lock_invoice(self, invoice_id: int) -> None:
        """Lock the invoice row (INVOICE_VOID for a void one), then read what it charges and its
        net payments under the lock, so the sums read below cannot change before commit."""
        conn = self.conn
        self.invoice = await lock_open_invoice(conn, actor=self.actor, invoice_id=invoice_id)
        self.invoice_total = await invoice_total(conn, invoice_id)
        self.invoice_paid = await invoice_paid(conn, invoice_id)

    async def open_credit(self, amount: int, client_id: int) -> None:
        """With ``credit``, write the client's credit entry for the whole move (INSUFFICIENT_CREDIT
        when applying more than the credit holds) before any row, once every lock but the
        business row's is held and the bounds are checked."""
        if self.credit_kind is None:
            return
        self.credit = await write_credit_entry(
            self.conn,
            actor=self.actor,
            client_id=client_id,
            kind=self.credit_kind,
            amount=-amount,
            now=self.received_at,
            invoice_id=self.invoice.id if self.invoice else None,
            reason=self.reason,
        )

    async def check_invoice_bounds(self, amount: int) -> None:
        assert self.invoice is not None
        if self.invoice_paid + amount > self.invoice_total:
            due = await self.money(max(0, self.invoice_total - self.invoice_paid))
            raise DomainError(
                ErrorCode.OVERPAYMENT,
                f"invoice {self.invoice.number} has {due} left to pay",
                "amount",
            )
        if self.invoice_paid + amount < 0:
            paid = await self.money(self.invoice_paid)
            raise DomainError(
                ErrorCode.REFUND_TOO_LARGE,
                f"invoice {self.invoice.number} has only {paid} paid",
                "amount",
            )

    async def money(self, minor: int) -> str:
        return money_text(minor, await currency_of(self.conn, self.actor.business_id))

    async def paid_to_packs(self) -> dict[int, int]:
        """Net payments on the locked invoice per pack."""
        assert self.invoice is not None
        rows = (
            await Payment.filter(invoice_id=self.invoice.id, pack_id__isnull=False)
            .using_db(self.conn)
            .values_list("pack_id", "amount")
        )
        totals: dict[int, int] = {}
        for pack_id, amount in rows:
            totals[pack_id] = totals.get(pack_id, 0) + amount
        return totals

    async def move_pack_money(self, pack: Pack, amount: int) -> None:
        """Add ``amount`` to the pack's net paid, bound in the WHERE clause, and record it."""
        conn = self.conn
        query = Pack.filter(id=pack.id)
        if amount > 0:
            query = query.filter(amount_paid__lte=F("final_price") - amount)
        else:
            query = query.filter(amount_paid__gte=-amount)
        moved = await query.using_db(conn).update(
            amount_paid=F("amount_paid") + amount, **changed_now()
        )
        if not moved:
            if amount > 0:
                due = await self.money(max(0, pack.final_price - pack.amount_paid))
                raise DomainError(
                    ErrorCode.OVERPAYMENT, f"pack {pack.name!r} has {due} left to pay", "amount"
                )
            raise DomainError(
                ErrorCode.REFUND_TOO_LARGE,
                f"pack {pack.name!r} has only {await self.money(pack.amount_paid)} paid",
                "amount",
            )
        await Pack.filter(id=pack.id).using_db(conn).update(payment_status=_payment_status_case())
        after = await Pack.get(id=pack.id).using_db(conn)
        payload: dict[str, Any] = {
            "amountPaid": after.amount_paid,
            "paymentStatus": after.payment_status.value,
        }
        if after.payment_status != pack.payment_status:
            payload["paymentStatusFrom"] = pack.payment_status.value
            payload["paymentStatusTo"] = after.payment_status.value
        await self._write(amount, after, payload)
        if amount < 0 and after.status == PackStatus.CANCELLED:
            # A cancelled pack's sale charges what stays paid: what is given back is voided.
            await void_unpaid_sale(
                self.conn, actor=self.actor, pack_id=pack.id, reason=self.reason, now=utcnow()
            )
        self.packs.append(after)

    async def write_unallocated(self, amount: int) -> None:
        await self._write(amount, None, {})

    async def _write(self, amount: int, pack: Pack | None, extra: dict[str, Any]) -> None:
        payment = await write_payment(
            self.conn,
            actor=self.actor,
            amount=amount,
            method=self.method,
            reason=self.reason,
            received_at=self.received_at,
            invoice=self.invoice,
            pack=pack,
            credit=self.credit,
            details=extra,
        )
        if self.invoice is not None:
            self.invoice_paid += amount
        self.payments.append(payment)

    def result(self) -> PaymentResult:
        return PaymentResult(
            payment=self.payments[0],
            pack=self.packs[0] if self.packs else None,
            invoice=self.invoice,
            payments=tuple(self.payments),
            packs=tuple(self.packs),
            credit=self.credit,
        )
