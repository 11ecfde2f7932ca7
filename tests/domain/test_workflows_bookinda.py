"""The Bookinda "Managing customer packages" article, one test per workflow it describes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from packgraph.domain.adjustments import change_pack_expiry, correct_pack_balance, describe_entry
from packgraph.domain.appointments import (
    cancel_appointment,
    check_in_appointment,
    create_appointment,
)
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.expiry import process_expiries
from packgraph.domain.notes import add_pack_note
from packgraph.domain.payments import record_payment
from packgraph.models import (
    EventType,
    LedgerEntry,
    LedgerKind,
    PackItem,
    PackNote,
    PackStatus,
    PaymentStatus,
)
from tests.domain.builders import (
    add_template,
    assert_ledger_consistent,
    build_clinic,
    events_of,
    item_usage,
    reload_pack,
    sell,
)


def _now() -> datetime:
    return datetime.now(UTC)


def used_label(usage: list[tuple[int, int]]) -> str:
    """The card's "3/5 used" for a pack's items."""
    used = sum(row[0] for row in usage)
    allowance = sum(row[1] for row in usage)
    return f"{used}/{allowance} used"


async def _visit(clinic, *, hours_ago: int = 1):
    appointment = (
        await create_appointment(
            actor=clinic.staff,
            client_id=clinic.client.id,
            service_id=clinic.massage.id,
            starts_at=_now() - timedelta(hours=hours_ago),
        )
    ).appointment
    return await check_in_appointment(actor=clinic.staff, appointment_id=appointment.id)


async def _five_massages(clinic, **kwargs):
    template = await add_template(
        clinic.owner, name="5 massages", price=400_00, items=[(5, [clinic.massage])]
    )
    # Bought two days ago, so every visit of the tests happens after the purchase.
    return (
        await sell(clinic, template=template, purchased_at=_now() - timedelta(days=2), **kwargs)
    ).pack


async def test_quick_status_check_shows_3_of_5_used_after_three_visits(db):
    # given a customer with a 5-session package
    clinic = await build_clinic()
    pack = await _five_massages(clinic)

    # when she comes three times
    for hours_ago in (3, 2, 1):
        visit = await _visit(clinic, hours_ago=hours_ago)
        assert visit.pack is not None and visit.pack.id == pack.id

    # then her Packages tab shows "3/5 used", the pack still Active, sessions numbered 1..3
    usage = await item_usage(pack.id)
    assert used_label(usage) == "3/5 used"
    assert usage == [(3, 5)]
    assert (await reload_pack(pack.id)).status == PackStatus.ACTIVE
    entries = await LedgerEntry.filter(pack_id=pack.id).order_by("id")
    assert [e.session_number for e in entries] == [1, 2, 3]
    await assert_ledger_consistent(pack.id)


async def test_disputed_redemption_history_shows_date_and_staff(db):
    # given a redeemed session
    clinic = await build_clinic()
    pack = await _five_massages(clinic)
    await _visit(clinic)

    # when the customer disputes it, the history shows when and by whom
    [entry] = await LedgerEntry.filter(pack_id=pack.id)
    assert entry.kind == LedgerKind.REDEMPTION
    assert entry.staff_id == clinic.staff.staff_id
    assert entry.created_at is not None and entry.appointment_id is not None
    [event] = await events_of(clinic.business_id, EventType.SESSION_REDEEMED)
    assert event.entry_id == entry.id and event.actor == clinic.staff.label


async def test_session_correction_is_logged_as_correction_with_reason_and_refused_for_staff(db):
    # given a pack with one visit
    clinic = await build_clinic()
    pack = await _five_massages(clinic)
    await _visit(clinic)
    item = await PackItem.get(pack_id=pack.id)

    # when front-desk staff try the red "-" button, they are refused
    with pytest.raises(DomainError) as error:
        await correct_pack_balance(
            actor=clinic.staff, pack_id=pack.id, item_id=item.id, delta=-1, reason="paper card"
        )
    assert error.value.code == ErrorCode.PERMISSION_DENIED

    # when a manager marks a session used with a reason
    await correct_pack_balance(
        actor=clinic.manager, pack_id=pack.id, item_id=item.id, delta=-1, reason="paper card"
    )

    # then the redemption history shows "Correction: paper card" with the manager
    entries = await LedgerEntry.filter(pack_id=pack.id).order_by("id")
    assert [describe_entry(e) for e in entries] == ["Session 1", "Correction: paper card"]
    assert entries[-1].staff_id == clinic.manager.staff_id
    assert used_label(await item_usage(pack.id)) == "2/5 used"
    await assert_ledger_consistent(pack.id)


async def test_corrections_update_the_status_between_active_and_fully_used(db):
    # given a pack with one visit left
    clinic = await build_clinic()
    pack = await _five_massages(clinic)
    item = await PackItem.get(pack_id=pack.id)
    await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=-4, reason="migrated"
    )

    # when the last one is marked used, the pack is Fully Used; "+" makes it Active again
    await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=-1, reason="paper card"
    )
    assert (await reload_pack(pack.id)).status == PackStatus.FULLY_USED
    await correct_pack_balance(
        actor=clinic.owner, pack_id=pack.id, item_id=item.id, delta=1, reason="mistake"
    )
    assert (await reload_pack(pack.id)).status == PackStatus.ACTIVE


async def test_changing_expiry_resets_the_reminder(db):
    # given a pack whose expiry reminder has been sent
    clinic = await build_clinic(reminder_days=14)
    pack = await _five_massages(clinic, expires_at=_now() + timedelta(days=7))
    assert (await process_expiries()).reminded == (pack.id,)
    assert (await reload_pack(pack.id)).expiry_reminder_sent_at is not None

    # when a manager picks a new date
    new_date = _now() + timedelta(days=40)
    await change_pack_expiry(actor=clinic.manager, pack_id=pack.id, expires_at=new_date)

    # then the reminder is reset, and the customer gets a new one at the right time
    after = await reload_pack(pack.id)
    assert after.expiry_reminder_sent_at is None and after.expiry_reminder_for is None
    assert (await process_expiries()).reminded == ()
    assert (await process_expiries(now=_now() + timedelta(days=30))).reminded == (pack.id,)
    reminders = await events_of(clinic.business_id, EventType.PACK_EXPIRING_SOON)
    assert [e.payload["expiresAt"] for e in reminders][-1] == new_date.isoformat()


async def test_remove_expiry_makes_the_package_never_expire(db):
    clinic = await build_clinic()
    pack = await _five_massages(clinic, expires_at=_now() + timedelta(days=7))

    await change_pack_expiry(actor=clinic.owner, pack_id=pack.id, expires_at=None)

    assert (await reload_pack(pack.id)).expires_at is None
    assert (await process_expiries(now=_now() + timedelta(days=400))).expired == ()


async def test_restore_expired_packages_with_care(db):
    # given an expired package
    clinic = await build_clinic()
    pack = await _five_massages(clinic, expires_at=_now() + timedelta(days=1))
    await process_expiries(now=_now() + timedelta(days=2))

    # when a manager restores it without saying why, it is refused
    with pytest.raises(DomainError) as error:
        await change_pack_expiry(
            actor=clinic.manager, pack_id=pack.id, expires_at=_now() + timedelta(days=30)
        )
    assert error.value.code == ErrorCode.REASON_REQUIRED

    # and with the reason it is restored and the reason is kept on the pack
    await change_pack_expiry(
        actor=clinic.manager,
        pack_id=pack.id,
        expires_at=_now() + timedelta(days=30),
        reason="we owe her two sessions",
    )
    assert (await reload_pack(pack.id)).status == PackStatus.ACTIVE
    assert [n.text for n in await PackNote.filter(pack_id=pack.id)] == [
        "Restored from expired: we owe her two sessions"
    ]


async def test_cancelling_an_appointment_restores_a_session_and_turns_a_fully_used_pack_active(db):
    # given a 2-session pack used up by two visits
    clinic = await build_clinic()
    template = await add_template(
        clinic.owner, name="2 massages", price=160_00, items=[(2, [clinic.massage])]
    )
    pack = (await sell(clinic, template=template, purchased_at=_now() - timedelta(days=2))).pack
    await _visit(clinic, hours_ago=2)
    last = await _visit(clinic, hours_ago=1)
    assert (await reload_pack(pack.id)).status == PackStatus.FULLY_USED

    # when the last appointment is cancelled
    await cancel_appointment(actor=clinic.staff, appointment_id=last.appointment.id)

    # then the session is back and the pack is Active again
    assert used_label(await item_usage(pack.id)) == "1/2 used"
    assert (await reload_pack(pack.id)).status == PackStatus.ACTIVE
    reversed_event = (await events_of(clinic.business_id, EventType.REDEMPTION_REVERSED))[-1]
    assert (reversed_event.payload["statusFrom"], reversed_event.payload["statusTo"]) == (
        "FULLY_USED",
        "ACTIVE",
    )
    await assert_ledger_consistent(pack.id)


async def test_partial_payments_move_unpaid_to_partial_to_paid(db):
    # given a package issued UNPAID for a long-term customer
    clinic = await build_clinic()
    pack = await _five_massages(clinic)  # 400.00
    assert (await reload_pack(pack.id)).payment_status == PaymentStatus.UNPAID

    # when she pays part of it at each visit
    statuses = []
    for amount in (100_00, 100_00, 200_00):
        await _visit(clinic)
        result = await record_payment(
            actor=clinic.staff, amount=amount, method="CARD", pack_id=pack.id
        )
        statuses.append(result.pack.payment_status)

    # then the badge goes Partial, Partial, Paid
    assert statuses == [PaymentStatus.PARTIAL, PaymentStatus.PARTIAL, PaymentStatus.PAID]
    events = await events_of(clinic.business_id, EventType.PAYMENT_RECORDED)
    assert [e.payload.get("paymentStatusTo") for e in events] == ["PARTIAL", None, "PAID"]
    # and one cent more is refused
    with pytest.raises(DomainError) as error:
        await record_payment(actor=clinic.staff, amount=1, method="CARD", pack_id=pack.id)
    assert error.value.code == ErrorCode.OVERPAYMENT


async def test_package_notes_give_context_to_the_next_stylist(db):
    clinic = await build_clinic()
    pack = await _five_massages(clinic)

    await add_pack_note(actor=clinic.staff, pack_id=pack.id, text="agreed to pay 5k Ft per visit")

    [note] = await PackNote.filter(pack_id=pack.id)
    assert note.text == "agreed to pay 5k Ft per visit"
    assert note.staff_id == clinic.staff.staff_id
    [event] = await events_of(clinic.business_id, EventType.NOTE_ADDED)
    assert event.payload["noteId"] == note.id
