"""Manager and owner edits of a pack: balance corrections, expiry changes and cancellation, plus
the refund quote (SPEC §1.6).

Every operation here locks the pack row first (``lock_pack``), like every other pack-changing
operation, and recomputes the stored status with ``update_pack_status`` so the causing event can
carry ``statusFrom``/``statusTo``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F

from packgraph.domain.actor import Actor
from packgraph.domain.amounts import currency_of, units_text
from packgraph.domain.client_credit import credit_reason
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import DomainError, ErrorCode, check_reason, invalid, not_found
from packgraph.domain.events import append_event
from packgraph.domain.invoice_voids import lock_invoice_of_sale, void_unpaid_sale
from packgraph.domain.pack_end import apply_pack_end
from packgraph.domain.payment_allocation import apply_payment
from packgraph.domain.payments import check_amount, check_method
from packgraph.domain.status import PackEnding, compute_status, lock_pack, update_pack_status
from packgraph.domain.transaction import write_transaction
from packgraph.models import (
    CreditEntry,
    CreditKind,
    EventType,
    LedgerEntry,
    LedgerKind,
    Pack,
    PackItem,
    PackNote,
    PackStatus,
    Payment,
    PaymentMethod,
    RefundTo,
)


@dataclass(frozen=True)
class CorrectionResult:
    pack: Pack
    item: PackItem
    entry: LedgerEntry


@dataclass(frozen=True)
class ExpiryChangeResult:
    """``note`` is the audit note written when an expired pack was restored, else None."""

    pack: Pack
    note: PackNote | None


@dataclass(frozen=True)
class CancelResult:
    """``refund`` is the (negative) payment row of the refund, or None without one; ``credit``
    the credit entry when the refund went to the client's credit."""

    pack: Pack
    refund: Payment | None
    credit: CreditEntry | None = None


def describe_entry(entry: LedgerEntry) -> str:
    """How the history shows a ledger entry: corrections read "Correction: <reason>"."""
    if entry.kind == LedgerKind.CORRECTION:
        return f"Correction: {entry.reason}"
    if entry.kind == LedgerKind.REVERSAL:
        return f"Reversal: {entry.reason}" if entry.reason else "Reversal"
    if entry.session_number is not None:
        return f"Session {entry.session_number}"
    return "Redemption"


def _refuse_cancelled(pack: Pack) -> None:
    if pack.status == PackStatus.CANCELLED:
        raise DomainError(ErrorCode.PACK_NOT_ACTIVE, f"pack {pack.name!r} is cancelled", "packId")


async def correct_pack_balance(
    *, actor: Actor, pack_id: int, item_id: int, delta: int, reason: str
) -> CorrectionResult:
    """Correct an item's balance by ``delta`` units of the pack's metric, with a reason.

    ``delta < 0`` marks units used, ``delta > 0`` gives units back (Bookinda's red − and green +).
    ``used`` stays within ``0..allowance`` through a conditional update: marking more than the
    remaining balance fails with INSUFFICIENT_BALANCE, giving back more than was used with
    INVALID_INPUT. Writes a CORRECTION ledger entry (shown as "Correction: <reason>"), emits
    PACK_CORRECTED, and updates the status (ACTIVE <-> FULLY_USED, with PACK_FULLY_USED and its
    task/auto-renew when it becomes fully used). Cancelled packs are not corrected.
    """
    actor.require_manager("correct pack balances")
    check_amount(delta, "delta")
    if delta == 0:
        raise invalid("a correction must change the balance", "delta")
    reason = check_reason(reason, required=True)
    now = utcnow()
    async with write_transaction(actor.business_id) as conn:
        pack = await lock_pack(conn, pack_id=pack_id, actor=actor)
        _refuse_cancelled(pack)
        item = await PackItem.filter(id=item_id, pack_id=pack.id).using_db(conn).first()
        if item is None:
            raise not_found("pack item", "itemId")
        units = abs(delta)
        if delta < 0:
            query = PackItem.filter(id=item.id, used__lte=F("allowance") - units)
            changed = await query.using_db(conn).update(used=F("used") + units)
            if not changed:
                currency = await currency_of(conn, actor.business_id)
                left = units_text(item.allowance - item.used, pack.metric, currency)
                raise DomainError(
                    ErrorCode.INSUFFICIENT_BALANCE, f"only {left} left to mark as used", "delta"
                )
        else:
            query = PackItem.filter(id=item.id, used__gte=units)
            changed = await query.using_db(conn).update(used=F("used") - units)
            if not changed:
                currency = await currency_of(conn, actor.business_id)
                used = units_text(item.used, pack.metric, currency)
                back = units_text(units, pack.metric, currency)
                raise invalid(f"only {used} used: cannot give back {back}", "delta")
        item = await PackItem.get(id=item.id).using_db(conn)
        entry = await LedgerEntry.create(
            business_id=actor.business_id,
            pack_id=pack.id,
            item_id=item.id,
            kind=LedgerKind.CORRECTION,
            quantity=-delta,
            staff_id=actor.staff_id,
            reason=reason,
            using_db=conn,
        )
        change = await update_pack_status(conn, pack_id=pack.id, actor=actor, now=now)
        await append_event(
            conn,
            actor=actor,
            type=EventType.PACK_CORRECTED,
            pack_id=pack.id,
            client_id=pack.client_id,
            entry_id=entry.id,
            payload={
                "itemId": item.id,
                "delta": delta,
                "used": item.used,
                "allowance": item.allowance,
                "reason": reason,
                "description": describe_entry(entry),
                **change.payload(),
            },
        )
        await apply_pack_end(conn, change=change, actor=actor, now=now)
    return CorrectionResult(pack=change.pack, item=item, entry=entry)


async def change_pack_expiry(
    *, actor: Actor, pack_id: int, expires_at: datetime | None, reason: str = ""
) -> ExpiryChangeResult:
    """Change or remove (``None``) a pack's expiry. Resets the expiry reminder.

    Restoring an expired pack (stored EXPIRED, or past its date with the expiry job not run yet)
    to ACTIVE requires a reason (REASON_REQUIRED): it is kept in the event payload and as a pack
    note, so the history says who restored it and why. A date in the past expires an active pack
    at once: EXPIRY_CHANGED (``statusTo: EXPIRED``) is followed by PACK_EXPIRED, its task and the
    ON_EXPIRY auto-renew — the same consequences as when the expiry job expires it, so an
    integration listening for PACK_EXPIRED never misses a pack. Cancelled packs are refused.
    """
    actor.require_manager("change pack expiry")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise invalid("expiresAt needs a timezone", "expiresAt")
        expires_at = expires_at.astimezone(UTC)
    reason = check_reason(reason, required=False)
    now = utcnow()
    async with write_transaction(actor.business_id) as conn:
        pack = await lock_pack(conn, pack_id=pack_id, actor=actor)
        _refuse_cancelled(pack)
        items = (
            await PackItem.filter(pack_id=pack.id).using_db(conn).values_list("used", "allowance")
        )
        was = compute_status(cancelled_at=None, items=items, expires_at=pack.expires_at, now=now)
        will_be = compute_status(cancelled_at=None, items=items, expires_at=expires_at, now=now)
        restoring = PackStatus.EXPIRED in (pack.status, was) and will_be == PackStatus.ACTIVE
        if restoring and not reason:
            raise DomainError(
                ErrorCode.REASON_REQUIRED,
                "restoring an expired pack needs a reason (only if the sessions are owed)",
                "reason",
            )
        await (
            Pack.filter(id=pack.id)
            .using_db(conn)
            .update(expires_at=expires_at, expiry_reminder_sent_at=None, expiry_reminder_for=None)
        )
        change = await update_pack_status(conn, pack_id=pack.id, actor=actor, now=now)
        note = None
        if restoring:
            note = await PackNote.create(
                business_id=actor.business_id,
                pack_id=pack.id,
                text=f"Restored from expired: {reason}",
                staff_id=actor.staff_id,
                using_db=conn,
            )
        payload: dict[str, Any] = {
            "from": _iso(pack.expires_at),
            "to": _iso(expires_at),
            "reason": reason,
            "restored": restoring,
            **change.payload(),
        }
        if note is not None:
            payload["noteId"] = note.id
        await append_event(
            conn,
            actor=actor,
            type=EventType.EXPIRY_CHANGED,
            pack_id=pack.id,
            client_id=pack.client_id,
            payload=payload,
        )
        if change.ending == PackEnding.EXPIRED:
            await apply_pack_end(conn, change=change, actor=actor, now=now)
    return ExpiryChangeResult(pack=change.pack, note=note)


async def cancel_pack(
    *,
    actor: Actor,
    pack_id: int,
    reason: str,
    refund: int = 0,
    method: PaymentMethod | str | None = None,
    refund_to: RefundTo = RefundTo.PAID_OUT,
) -> CancelResult:
    """Cancel a pack, optionally refunding up to the amount paid (a negative payment).

    The pack becomes CANCELLED (it can no longer be redeemed) with ``cancelled_at`` and the
    reason. Emits PACK_CANCELLED, then, for the refund, PAYMENT_REFUNDED (paid out in
    ``method``) or CLIENT_CREDITED (``refund_to`` CLIENT_CREDIT: kept as the client's credit, no
    method), with the cancellation's reason. Its sale line is then voided down to what stays paid
    (INVOICE_LINE_VOIDED), so the client owes nothing more for it. A refund above the amount
    paid fails with REFUND_TOO_LARGE and cancels nothing; cancelling twice fails with
    PACK_NOT_ACTIVE.
    ``refund_quote`` suggests the refund.
    """
    actor.require_manager("cancel packs")
    reason = check_reason(reason, required=True)
    check_amount(refund, "refund")
    if refund < 0:
        raise invalid("the refund is the positive amount given back", "refund")
    refund_to = RefundTo(refund_to)
    to_credit = refund_to == RefundTo.CLIENT_CREDIT
    method = check_method(method) if refund and not to_credit else PaymentMethod.CLIENT_CREDIT
    now = utcnow()
    async with write_transaction(actor.business_id) as conn:
        pack = await lock_pack(conn, pack_id=pack_id, actor=actor)
        await lock_invoice_of_sale(conn, pack.id)
        cancelled = await (
            Pack.filter(id=pack.id, cancelled_at__isnull=True)
            .using_db(conn)
            .update(cancelled_at=now, cancel_reason=reason)
        )
        if not cancelled:
            raise DomainError(
                ErrorCode.PACK_NOT_ACTIVE, f"pack {pack.name!r} is already cancelled", "packId"
            )
        change = await update_pack_status(conn, pack_id=pack.id, actor=actor, now=now)
        await append_event(
            conn,
            actor=actor,
            type=EventType.PACK_CANCELLED,
            pack_id=pack.id,
            client_id=pack.client_id,
            payload={
                "reason": reason,
                "refund": refund,
                "refundTo": refund_to.value,
                **change.payload(),
            },
        )
        result_pack, payment, credit = change.pack, None, None
        if refund:
            paid = await apply_payment(
                conn,
                actor=actor,
                amount=-refund,
                method=method,
                reason=credit_reason(reason) if to_credit else reason,
                pack_id=pack.id,
                received_at=now,
                credit=CreditKind.CREDITED if to_credit else None,
            )
            payment, credit = paid.payment, paid.credit
            result_pack = paid.pack or result_pack
        # A refund of a cancelled pack voids what it gives back (payment_allocation); without one
        # the unpaid part is voided here.
        await void_unpaid_sale(conn, actor=actor, pack_id=pack.id, reason=reason, now=now)
    return CancelResult(pack=result_pack, refund=payment, credit=credit)


def quote_refund(*, amount_paid: int, final_price: int, items: Iterable[tuple[int, int]]) -> int:
    """``amount paid − value used``, never negative; ``items`` is ``[(used, allowance), ...]``.

    The value of one unit is ``final_price / total allowance`` over all items. The value used is
    computed as ``final_price × used // allowance`` (one division, so at ``used == allowance`` it
    is exactly the final price); the floor rounds the value used down, i.e. any fraction of a
    minor unit goes to the client.
    """
    items = list(items)
    used = sum(row[0] for row in items)
    allowance = sum(row[1] for row in items)
    value_used = final_price * used // allowance if allowance > 0 else 0
    return max(0, amount_paid - value_used)


async def refund_quote(pack: Pack) -> int:
    """The suggested refund for cancelling ``pack`` now (see :func:`quote_refund`)."""
    items = await PackItem.filter(pack_id=pack.id).values_list("used", "allowance")
    return quote_refund(amount_paid=pack.amount_paid, final_price=pack.final_price, items=items)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
