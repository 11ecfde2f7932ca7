"""Manager and owner edits (SPEC §1.6): corrections, expiry changes, cancellation, refund quote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from packgraph.domain.adjustments import (
    cancel_pack,
    change_pack_expiry,
    correct_pack_balance,
    describe_entry,
    quote_refund,
    refund_quote,
)
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.expiry import process_expiries
from packgraph.domain.payments import record_payment, refund_payment
from packgraph.domain.redemptions import redeem_session
from packgraph.models import (
    AutoRenew,
    EventType,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    LineKind,
    Pack,
    PackItem,
    PackNote,
    PackStatus,
    PaymentStatus,
    Task,
    TaskKind,
)
from packgraph.models.visits import Payment
from tests.domain.builders import (
    add_template,
    assert_ledger_consistent,
    build_clinic,
    events_of,
    item_usage,
    reload_pack,
    sell,
    sell_sessions,
    snapshot_counts,
)


async def _item(pack_id: int) -> PackItem:
    return await PackItem.filter(pack_id=pack_id).order_by("position", "id").first()


async def _refused(business_id: int, code: ErrorCode, operation, **kwargs) -> DomainError:
    before = await snapshot_counts(business_id)
    with pytest.raises(DomainError) as error:
        await operation(**kwargs)
    assert error.value.code == code, error.value
    assert await snapshot_counts(business_id) == before
    return error.value


def _now() -> datetime:
    return datetime.now(UTC)


# --- corrections --------------------------------------------------------------------------------


async def test_manager_marks_a_session_used_with_a_correction_entry(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    item = await _item(pack.id)

    result = await correct_pack_balance(
        actor=clinic.manager, pack_id=pack.id, item_id=item.id, delta=-2, reason="paper card"
    )

    assert result.item.used == 2
    entry = await LedgerEntry.get(id=result.entry.id)
    assert (entry.kind, entry.quantity, entry.reason) == (LedgerKind.CORRECTION, 2, "paper card")
    assert entry.staff_id == clinic.manager.staff_id
    assert describe_entry(entry) == "Correction: paper card"
    [event] = await events_of(clinic.business_id, EventType.PACK_CORRECTED)
    assert event.entry_id == entry.id
    assert event.pack_id == pack.id and event.client_id == clinic.client.id
    assert event.payload["delta"] == -2
    assert event.payload["used"] == 2
    assert event.payload["description"] == "Correction: paper card"
    assert "statusFrom" not in event.payload
    assert result.pack.version > pack.version
    await assert_ledger_consistent(pack.id)


async def test_owner_gives_a_session_back(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await redeem_session(actor=clinic.staff, pack_id=pack.id, service_id=clinic.massage.id)
    item = await _item(pack.id)

    result = await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=1, reason="not authorised"
    )

    assert result.item.used == 0
    assert result.entry.quantity == -1
    await assert_ledger_consistent(pack.id)


async def test_correction_beyond_the_allowance_or_below_zero_is_refused(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 3)
    item = await _item(pack.id)
    await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=-1, reason="r"
    )

    await _refused(
        clinic.business_id,
        ErrorCode.INSUFFICIENT_BALANCE,
        correct_pack_balance,
        actor=clinic.owner,
        pack_id=pack.id,
        item_id=item.id,
        delta=-3,
        reason="r",
    )
    error = await _refused(
        clinic.business_id,
        ErrorCode.INVALID_INPUT,
        correct_pack_balance,
        actor=clinic.owner,
        pack_id=pack.id,
        item_id=item.id,
        delta=2,
        reason="r",
    )
    assert error.field == "delta"
    assert await item_usage(pack.id) == [(1, 3)]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"delta": 0}, ErrorCode.INVALID_INPUT),
        ({"delta": 1.0}, ErrorCode.INVALID_INPUT),
        ({"reason": "   "}, ErrorCode.REASON_REQUIRED),
        ({"reason": "x" * 501}, ErrorCode.INVALID_INPUT),
        ({"item_id": 999_999}, ErrorCode.NOT_FOUND),
        ({"pack_id": 999_999}, ErrorCode.NOT_FOUND),
    ],
)
async def test_bad_correction_input_is_refused(db, changes, code):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    item = await _item(pack.id)
    arguments = {
        "actor": clinic.manager,
        "pack_id": pack.id,
        "item_id": item.id,
        "delta": -1,
        "reason": "fix",
    }

    await _refused(clinic.business_id, code, correct_pack_balance, **{**arguments, **changes})


async def test_corrections_are_for_managers_and_owners_only(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    item = await _item(pack.id)

    for actor in (clinic.staff, clinic.integration):
        await _refused(
            clinic.business_id,
            ErrorCode.PERMISSION_DENIED,
            correct_pack_balance,
            actor=actor,
            pack_id=pack.id,
            item_id=item.id,
            delta=-1,
            reason="fix",
        )


async def test_correcting_another_business_pack_or_item_is_not_found(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    own = (await sell(clinic)).pack
    foreign = (await sell(other)).pack
    foreign_item = await _item(foreign.id)

    for pack_id in (foreign.id, own.id):
        await _refused(
            clinic.business_id,
            ErrorCode.NOT_FOUND,
            correct_pack_balance,
            actor=clinic.owner,
            pack_id=pack_id,
            item_id=foreign_item.id,
            delta=-1,
            reason="fix",
        )
    assert await item_usage(foreign.id) == [(0, 10)]


async def test_correction_to_zero_remaining_makes_the_pack_fully_used_and_back(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 2)
    item = await _item(pack.id)

    used_up = await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=-2, reason="used on paper"
    )
    assert used_up.pack.status == PackStatus.FULLY_USED
    corrected, fully_used = await events_of(
        clinic.business_id, EventType.PACK_CORRECTED, EventType.PACK_FULLY_USED
    )
    assert corrected.type == EventType.PACK_CORRECTED
    assert (corrected.payload["statusFrom"], corrected.payload["statusTo"]) == (
        "ACTIVE",
        "FULLY_USED",
    )
    assert fully_used.type == EventType.PACK_FULLY_USED
    assert await Task.filter(pack_id=pack.id, kind=TaskKind.PACK_USED_UP).count() == 1

    back = await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=1, reason="one was a no-show"
    )
    assert back.pack.status == PackStatus.ACTIVE
    last = (await events_of(clinic.business_id))[-1]
    assert last.type == EventType.PACK_CORRECTED
    assert (last.payload["statusFrom"], last.payload["statusTo"]) == ("FULLY_USED", "ACTIVE")
    await assert_ledger_consistent(pack.id)


async def test_giving_back_a_unit_of_a_used_up_pack_past_its_date_expires_it(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 1, expires_at=_now() + timedelta(days=1))
    item = await _item(pack.id)
    await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=-1, reason="used"
    )
    await Pack.filter(id=pack.id).update(expires_at=_now() - timedelta(hours=1))

    result = await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=1, reason="not used"
    )

    assert result.pack.status == PackStatus.EXPIRED
    corrected, expired = (await events_of(clinic.business_id))[-2:]
    assert corrected.type == EventType.PACK_CORRECTED
    assert (corrected.payload["statusFrom"], corrected.payload["statusTo"]) == (
        "FULLY_USED",
        "EXPIRED",
    )
    assert expired.type == EventType.PACK_EXPIRED
    assert await Task.filter(pack_id=pack.id, kind=TaskKind.PACK_EXPIRED).count() == 1


async def test_a_cancelled_pack_is_not_corrected(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    item = await _item(pack.id)
    await cancel_pack(actor=clinic.owner, pack_id=pack.id, reason="moved away")

    await _refused(
        clinic.business_id,
        ErrorCode.PACK_NOT_ACTIVE,
        correct_pack_balance,
        actor=clinic.owner,
        pack_id=pack.id,
        item_id=item.id,
        delta=-1,
        reason="fix",
    )


# --- expiry changes -----------------------------------------------------------------------------


async def test_changing_the_expiry_resets_the_reminder_and_emits_from_and_to(db):
    clinic = await build_clinic()
    old = _now() + timedelta(days=5)
    pack = (await sell(clinic, expires_at=old)).pack
    await process_expiries()
    assert (await reload_pack(pack.id)).expiry_reminder_for == old
    new = _now() + timedelta(days=60)

    result = await change_pack_expiry(actor=clinic.manager, pack_id=pack.id, expires_at=new)

    after = await reload_pack(pack.id)
    assert after.expires_at == new
    assert after.expiry_reminder_sent_at is None and after.expiry_reminder_for is None
    assert result.note is None
    [event] = await events_of(clinic.business_id, EventType.EXPIRY_CHANGED)
    assert event.payload["from"] == old.isoformat()
    assert event.payload["to"] == new.isoformat()
    assert "statusFrom" not in event.payload


async def test_removing_the_expiry_makes_the_pack_never_expire(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, expires_at=_now() + timedelta(days=5))).pack

    await change_pack_expiry(actor=clinic.owner, pack_id=pack.id, expires_at=None)

    assert (await reload_pack(pack.id)).expires_at is None
    [event] = await events_of(clinic.business_id, EventType.EXPIRY_CHANGED)
    assert event.payload["to"] is None
    assert (await process_expiries(now=_now() + timedelta(days=3650))).expired == ()


async def test_restoring_an_expired_pack_needs_a_reason_and_is_logged(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, expires_at=_now() + timedelta(days=1))).pack
    await process_expiries(now=_now() + timedelta(days=2))
    assert (await reload_pack(pack.id)).status == PackStatus.EXPIRED
    later = _now() + timedelta(days=30)

    await _refused(
        clinic.business_id,
        ErrorCode.REASON_REQUIRED,
        change_pack_expiry,
        actor=clinic.owner,
        pack_id=pack.id,
        expires_at=later,
    )
    result = await change_pack_expiry(
        actor=clinic.owner, pack_id=pack.id, expires_at=later, reason="owed: clinic closed a week"
    )

    assert result.pack.status == PackStatus.ACTIVE
    note = await PackNote.get(pack_id=pack.id)
    assert note.text == "Restored from expired: owed: clinic closed a week"
    assert note.staff_id == clinic.owner.staff_id
    event = (await events_of(clinic.business_id))[-1]
    assert event.type == EventType.EXPIRY_CHANGED
    assert event.payload["restored"] is True
    assert event.payload["reason"] == "owed: clinic closed a week"
    assert event.payload["noteId"] == note.id
    assert (event.payload["statusFrom"], event.payload["statusTo"]) == ("EXPIRED", "ACTIVE")


async def test_restoring_a_pack_past_its_date_before_the_job_ran_also_needs_a_reason(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, expires_at=_now() + timedelta(days=1))).pack
    await Pack.filter(id=pack.id).update(expires_at=_now() - timedelta(minutes=1))

    await _refused(
        clinic.business_id,
        ErrorCode.REASON_REQUIRED,
        change_pack_expiry,
        actor=clinic.owner,
        pack_id=pack.id,
        expires_at=None,
    )


async def test_an_expiry_in_the_past_expires_an_active_pack_at_once(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, expires_at=_now() + timedelta(days=30))).pack

    result = await change_pack_expiry(
        actor=clinic.manager, pack_id=pack.id, expires_at=_now() - timedelta(days=1)
    )

    assert result.pack.status == PackStatus.EXPIRED
    changed, expired = await events_of(
        clinic.business_id, EventType.EXPIRY_CHANGED, EventType.PACK_EXPIRED
    )
    assert changed.type == EventType.EXPIRY_CHANGED
    assert (changed.payload["statusFrom"], changed.payload["statusTo"]) == ("ACTIVE", "EXPIRED")
    assert expired.type == EventType.PACK_EXPIRED
    assert await Task.filter(pack_id=pack.id, kind=TaskKind.PACK_EXPIRED).count() == 1
    # The expiry job finds nothing left to do for it.
    assert (await process_expiries()).expired == ()
    assert len(await events_of(clinic.business_id, EventType.PACK_EXPIRED)) == 1


async def test_expiring_by_hand_auto_renews_an_on_expiry_template(db):
    clinic = await build_clinic()
    template = await add_template(
        clinic.owner, name="Monthly", items=[(4, [clinic.massage])], auto_renew=AutoRenew.ON_EXPIRY
    )
    pack = (await sell(clinic, template=template, expires_at=_now() + timedelta(days=3))).pack

    await change_pack_expiry(
        actor=clinic.owner, pack_id=pack.id, expires_at=_now() - timedelta(hours=1)
    )

    packs = await Pack.filter(client_id=clinic.client.id, template_id=template.id).order_by("id")
    assert [p.status for p in packs] == [PackStatus.EXPIRED, PackStatus.ACTIVE]
    assert packs[1].payment_status == PaymentStatus.UNPAID


async def test_expiry_changes_are_for_managers_and_owners_and_need_a_timezone(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack

    for actor in (clinic.staff, clinic.integration):
        await _refused(
            clinic.business_id,
            ErrorCode.PERMISSION_DENIED,
            change_pack_expiry,
            actor=actor,
            pack_id=pack.id,
            expires_at=None,
        )
    await _refused(
        clinic.business_id,
        ErrorCode.INVALID_INPUT,
        change_pack_expiry,
        actor=clinic.owner,
        pack_id=pack.id,
        expires_at=datetime(2030, 1, 1),
    )
    other = await build_clinic("Other")
    foreign = (await sell(other)).pack
    await _refused(
        clinic.business_id,
        ErrorCode.NOT_FOUND,
        change_pack_expiry,
        actor=clinic.owner,
        pack_id=foreign.id,
        expires_at=None,
    )


async def test_a_cancelled_pack_keeps_its_expiry(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, expires_at=_now() + timedelta(days=5))).pack
    await cancel_pack(actor=clinic.owner, pack_id=pack.id, reason="duplicate")

    await _refused(
        clinic.business_id,
        ErrorCode.PACK_NOT_ACTIVE,
        change_pack_expiry,
        actor=clinic.owner,
        pack_id=pack.id,
        expires_at=None,
        reason="r",
    )


# --- cancellation -------------------------------------------------------------------------------


async def test_cancelling_with_a_refund(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await record_payment(actor=clinic.staff, amount=800_00, method="CARD", pack_id=pack.id)
    await redeem_session(actor=clinic.staff, pack_id=pack.id, service_id=clinic.massage.id)

    result = await cancel_pack(
        actor=clinic.manager, pack_id=pack.id, reason="moved away", refund=720_00, method="CASH"
    )

    after = await reload_pack(pack.id)
    assert after.status == PackStatus.CANCELLED
    assert after.cancelled_at is not None and after.cancel_reason == "moved away"
    assert after.amount_paid == 80_00 and after.payment_status == PaymentStatus.PARTIAL
    assert result.pack.status == PackStatus.CANCELLED
    refund = await Payment.get(id=result.refund.id)
    assert (refund.amount, refund.method, refund.pack_id) == (-720_00, "CASH", pack.id)
    assert refund.reason == "moved away"
    cancelled, paid, voided = (await events_of(clinic.business_id))[-3:]
    assert cancelled.type == EventType.PACK_CANCELLED
    assert cancelled.payload["reason"] == "moved away"
    assert (cancelled.payload["statusFrom"], cancelled.payload["statusTo"]) == (
        "ACTIVE",
        "CANCELLED",
    )
    assert paid.type == EventType.PAYMENT_REFUNDED and paid.payment_id == refund.id
    # The sale line now charges what stays paid: the 720.00 given back is voided with it.
    line = await InvoiceLine.get(pack_id=pack.id, kind=LineKind.PACK_SALE)
    assert (line.amount, line.voided_amount, line.void_reason) == (800_00, 720_00, "moved away")
    assert voided.type == EventType.INVOICE_LINE_VOIDED and voided.pack_id == pack.id
    assert (voided.payload["amount"], voided.payload["charged"]) == (720_00, 80_00)


async def test_a_cancelled_pack_cannot_be_redeemed(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await cancel_pack(actor=clinic.owner, pack_id=pack.id, reason="duplicate sale")

    await _refused(
        clinic.business_id,
        ErrorCode.PACK_NOT_ACTIVE,
        redeem_session,
        actor=clinic.staff,
        pack_id=pack.id,
        service_id=clinic.massage.id,
    )


async def test_a_refund_above_the_amount_paid_cancels_nothing(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await record_payment(actor=clinic.staff, amount=100_00, method="CARD", pack_id=pack.id)

    await _refused(
        clinic.business_id,
        ErrorCode.REFUND_TOO_LARGE,
        cancel_pack,
        actor=clinic.owner,
        pack_id=pack.id,
        reason="r",
        refund=100_01,
        method="CARD",
    )
    assert (await reload_pack(pack.id)).status == PackStatus.ACTIVE


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"reason": ""}, ErrorCode.REASON_REQUIRED),
        ({"refund": -1}, ErrorCode.INVALID_INPUT),
        ({"refund": 0.5}, ErrorCode.INVALID_INPUT),
        ({"refund": 1, "method": " "}, ErrorCode.INVALID_INPUT),
        ({"refund": 1, "method": "REFUND"}, ErrorCode.INVALID_INPUT),
        ({"refund": 1}, ErrorCode.INVALID_INPUT),  # a refund needs its method
        ({"pack_id": 999_999}, ErrorCode.NOT_FOUND),
    ],
)
async def test_bad_cancellation_input_is_refused(db, changes, code):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    arguments = {"actor": clinic.owner, "pack_id": pack.id, "reason": "r"}

    await _refused(clinic.business_id, code, cancel_pack, **{**arguments, **changes})


async def test_cancelling_is_for_managers_and_owners_and_only_once(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    for actor in (clinic.staff, clinic.integration):
        await _refused(
            clinic.business_id,
            ErrorCode.PERMISSION_DENIED,
            cancel_pack,
            actor=actor,
            pack_id=pack.id,
            reason="r",
        )
    await cancel_pack(actor=clinic.owner, pack_id=pack.id, reason="r")

    await _refused(
        clinic.business_id,
        ErrorCode.PACK_NOT_ACTIVE,
        cancel_pack,
        actor=clinic.owner,
        pack_id=pack.id,
        reason="again",
    )
    assert len(await events_of(clinic.business_id, EventType.PACK_CANCELLED)) == 1


async def test_a_refund_may_follow_on_a_cancelled_pack_but_not_a_payment(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await record_payment(actor=clinic.staff, amount=300_00, method="CARD", pack_id=pack.id)
    await cancel_pack(actor=clinic.owner, pack_id=pack.id, reason="r")

    await _refused(
        clinic.business_id,
        ErrorCode.PACK_NOT_ACTIVE,
        record_payment,
        actor=clinic.staff,
        amount=100,
        method="CARD",
        pack_id=pack.id,
    )
    result = await refund_payment(
        actor=clinic.owner, amount=300_00, method="CARD", reason="cancelled", pack_id=pack.id
    )
    assert result.pack.payment_status == PaymentStatus.UNPAID


# --- refund quote -------------------------------------------------------------------------------


def test_refund_quote_rule():
    # Paid in full, 3 of 10 used: 800 - 3 x 80.
    assert quote_refund(amount_paid=800_00, final_price=800_00, items=[(3, 10)]) == 560_00
    # Multi-item packs use the total allowance: 1000 over 10 units, 4 used.
    assert quote_refund(amount_paid=1000_00, final_price=1000_00, items=[(3, 5), (1, 5)]) == 600_00
    # Never negative: unpaid, half used.
    assert quote_refund(amount_paid=0, final_price=800_00, items=[(5, 10)]) == 0
    # Rounding: 10.00 over 3 units, 1 used -> value used 3.33 (floored), quote 6.67.
    assert quote_refund(amount_paid=10_00, final_price=10_00, items=[(1, 3)]) == 6_67
    # Fully used: exactly the final price is used up.
    assert quote_refund(amount_paid=10_00, final_price=10_00, items=[(3, 3)]) == 0


async def test_refund_quote_of_a_pack(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await record_payment(actor=clinic.staff, amount=500_00, method="CARD", pack_id=pack.id)
    for _ in range(2):
        await redeem_session(actor=clinic.staff, pack_id=pack.id, service_id=clinic.massage.id)

    assert await refund_quote(await reload_pack(pack.id)) == 340_00
