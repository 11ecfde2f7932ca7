"""Appointments: billing preference, check-in with auto-allocation, no-show, cancel, delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from packgraph.domain.appointments import (
    cancel_appointment,
    check_in_appointment,
    create_appointment,
    delete_appointment,
    mark_no_show,
)
from packgraph.domain.catalog import set_client_billing_preference
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    EventType,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    PackStatus,
)
from tests.domain.builders import (
    add_client,
    add_template,
    assert_ledger_consistent,
    build_clinic,
    events_of,
    item_usage,
    sell,
    sell_sessions,
    snapshot_counts,
)

NOW = datetime.now(UTC)


async def _book(clinic, service=None, starts_at=None, client=None, **kwargs):
    result = await create_appointment(
        actor=clinic.staff,
        client_id=(client or clinic.client).id,
        service_id=service.id if service else clinic.massage.id,
        starts_at=starts_at or NOW,
        **kwargs,
    )
    return result.appointment


async def _check_in(clinic, appointment, **kwargs):
    return await check_in_appointment(actor=clinic.staff, appointment_id=appointment.id, **kwargs)


# --- booking ------------------------------------------------------------------------------------


async def test_preferred_pack_becomes_the_chosen_pack_of_new_appointments(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await set_client_billing_preference(
        actor=clinic.staff, client_id=clinic.client.id, pack_id=pack.id
    )
    # the service defaults from the pack's template; the pack is applied
    booked = (
        await create_appointment(actor=clinic.staff, client_id=clinic.client.id, starts_at=NOW)
    ).appointment
    assert (booked.service_id, booked.chosen_pack_id) == (clinic.massage.id, pack.id)
    # a service the pack does not cover leaves the appointment without a chosen pack
    physio = await _book(clinic, clinic.physio)
    assert physio.chosen_pack_id is None


async def test_preferred_service_is_used_when_no_service_is_given(db):
    clinic = await build_clinic()
    await set_client_billing_preference(
        actor=clinic.staff, client_id=clinic.client.id, service_id=clinic.physio.id
    )
    booked = (
        await create_appointment(actor=clinic.staff, client_id=clinic.client.id, starts_at=NOW)
    ).appointment
    assert booked.service_id == clinic.physio.id


async def test_booking_refuses_bad_input(db):
    clinic = await build_clinic()
    bo = await add_client(clinic.owner, "Bo")
    bos_pack = (await sell(clinic, client=bo)).pack
    mine = (await sell(clinic)).pack
    before = await snapshot_counts(clinic.business_id)
    cases = [
        ({"chosen_pack_id": bos_pack.id}, ErrorCode.NOT_FOUND),
        ({"chosen_pack_id": mine.id, "service": clinic.physio}, ErrorCode.SERVICE_NOT_IN_PACK),
        ({"practitioner_id": 999_999}, ErrorCode.NOT_FOUND),
        ({"starts_at": datetime(2026, 1, 1, 9)}, ErrorCode.INVALID_INPUT),
    ]
    for kwargs, code in cases:
        with pytest.raises(DomainError) as error:
            await _book(clinic, **kwargs)
        assert error.value.code == code
    with pytest.raises(DomainError) as error:
        await create_appointment(actor=clinic.staff, client_id=clinic.client.id, starts_at=NOW)
    assert error.value.code == ErrorCode.INVALID_INPUT
    assert await snapshot_counts(clinic.business_id) == before


# --- check-in -----------------------------------------------------------------------------------


async def test_check_in_charges_the_visit_on_the_days_invoice_and_deducts(db):
    # given a pack and two massages booked on the same day
    clinic = await build_clinic()
    sale = await sell(clinic)
    first, second = await _book(clinic), await _book(clinic)

    # when both are checked in
    one = await _check_in(clinic, first)
    two = await _check_in(clinic, second)

    # then both are ATTENDED, charged on one invoice (the sale's, same day), sessions 1 and 2
    assert one.appointment.status == AppointmentStatus.ATTENDED
    assert one.invoice.id == two.invoice.id == sale.invoice.id
    assert (one.line.session_number, two.line.session_number) == (1, 2)
    assert (one.line.appointment_id, one.entry.appointment_id) == (first.id, first.id)
    assert one.line.amount == 0 and one.pack.id == sale.pack.id
    events = await events_of(clinic.business_id, EventType.SESSION_REDEEMED)
    assert [e.payload["appointmentId"] for e in events] == [first.id, second.id]
    await assert_ledger_consistent(sale.pack.id)


async def test_check_in_on_another_day_gets_its_own_invoice(db):
    clinic = await build_clinic()
    sale = await sell(clinic, purchased_at=NOW - timedelta(days=3))
    result = await _check_in(clinic, await _book(clinic))
    assert result.invoice.id != sale.invoice.id
    assert result.invoice.issued_on == NOW.date()


async def test_auto_allocation_choice_order(db):
    # given three open packs: no expiry (oldest), expiring in 60 days, expiring in 30 days
    clinic = await build_clinic()
    bought = NOW - timedelta(days=10)
    never = (await sell(clinic, purchased_at=bought - timedelta(days=5), expires_at=None)).pack
    later = (await sell(clinic, purchased_at=bought, expires_at=NOW + timedelta(days=60))).pack
    sooner = (await sell(clinic, purchased_at=bought, expires_at=NOW + timedelta(days=30))).pack

    # then the soonest expiry is used first
    assert (await _check_in(clinic, await _book(clinic))).pack.id == sooner.id
    # the client's preferred pack wins over expiry
    await set_client_billing_preference(
        actor=clinic.staff, client_id=clinic.client.id, pack_id=later.id
    )
    assert (await _check_in(clinic, await _book(clinic))).pack.id == later.id
    # the appointment's chosen pack wins over everything
    chosen = await _book(clinic, chosen_pack_id=never.id)
    assert (await _check_in(clinic, chosen)).pack.id == never.id


async def test_among_packs_without_expiry_the_oldest_goes_first(db):
    clinic = await build_clinic()
    old = (await sell(clinic, purchased_at=NOW - timedelta(days=9))).pack
    await sell(clinic, purchased_at=NOW - timedelta(days=2))
    assert (await _check_in(clinic, await _book(clinic))).pack.id == old.id


async def test_auto_allocation_skips_full_expired_and_later_packs(db):
    clinic = await build_clinic()
    full = await sell_sessions(clinic, 1)
    await _check_in(clinic, await _book(clinic))
    assert (await item_usage(full.id)) == [(1, 1)]
    # a pack bought after the visit's date is not used for that visit
    await sell(clinic)
    yesterday = await _book(clinic, starts_at=NOW - timedelta(days=1))
    result = await _check_in(clinic, yesterday)
    assert result.pack is None and result.entry is None
    assert (result.line.pack_id, result.line.amount) == (None, 90_00)


async def test_check_in_without_an_eligible_pack_charges_the_service_price(db):
    clinic = await build_clinic()
    await sell(clinic)
    before_events = len(await events_of(clinic.business_id))
    result = await _check_in(clinic, await _book(clinic, clinic.long_massage))
    assert result.pack is None and result.line.amount == 120_00 and result.line.pack_id is None
    assert len(await events_of(clinic.business_id)) == before_events


async def test_no_charge_visit_is_attended_without_a_line(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    result = await _check_in(clinic, await _book(clinic), no_charge=True)
    assert result.appointment.status == AppointmentStatus.ATTENDED
    assert result.appointment.no_charge and result.line is None
    assert await item_usage(pack.id) == [(0, 10)]


async def test_checking_in_twice_is_refused_and_a_key_replays(db):
    clinic = await build_clinic()
    await sell(clinic)
    appointment = await _book(clinic)
    first = await _check_in(clinic, appointment, idempotency_key="ci-1")
    before = await snapshot_counts(clinic.business_id)
    again = await _check_in(clinic, appointment, idempotency_key="ci-1")
    assert again.replayed and again.entry.id == first.entry.id
    with pytest.raises(DomainError) as error:
        await _check_in(clinic, appointment)
    assert error.value.code == ErrorCode.INVALID_STATE
    assert await snapshot_counts(clinic.business_id) == before


async def test_unpaid_pack_with_payment_required_is_not_auto_allocated(db):
    clinic = await build_clinic(redemption_requires_full_payment=True)
    pack = (await sell(clinic)).pack
    result = await _check_in(clinic, await _book(clinic))
    assert result.pack is None and result.line.amount == 90_00
    assert await item_usage(pack.id) == [(0, 10)]


# --- no-show ------------------------------------------------------------------------------------


async def test_no_show_deducts_nothing_by_default(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    result = await mark_no_show(actor=clinic.staff, appointment_id=(await _book(clinic)).id)
    assert result.appointment.status == AppointmentStatus.NO_SHOW and result.line is None
    assert await item_usage(pack.id) == [(0, 10)]


async def test_no_show_deducts_when_the_business_says_so(db):
    clinic = await build_clinic(redeem_on_no_show=True)
    pack = (await sell(clinic)).pack
    result = await mark_no_show(actor=clinic.staff, appointment_id=(await _book(clinic)).id)
    assert result.entry.session_number == 1 and result.pack.id == pack.id
    assert await item_usage(pack.id) == [(1, 10)]
    # without an eligible pack a no-show is not billed
    other = await mark_no_show(
        actor=clinic.staff, appointment_id=(await _book(clinic, clinic.physio)).id
    )
    assert other.line is None


# --- cancel and delete --------------------------------------------------------------------------


async def test_cancelling_an_attended_appointment_gives_the_session_back(db):
    # given a 1-session pack used up by a check-in
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 1)
    appointment = await _book(clinic)
    checked_in = await _check_in(clinic, appointment)
    assert checked_in.pack.status == PackStatus.FULLY_USED

    # when the appointment is cancelled
    result = await cancel_appointment(actor=clinic.staff, appointment_id=appointment.id)

    # then the unit is back, the pack ACTIVE, the visit no longer charged
    assert result.appointment.status == AppointmentStatus.CANCELLED
    [entry] = result.entries
    assert entry.kind == LedgerKind.REVERSAL and entry.appointment_id == appointment.id
    assert [p.status for p in result.packs] == [PackStatus.ACTIVE]
    assert await item_usage(pack.id) == [(0, 1)]
    line = await InvoiceLine.get(id=checked_in.line.id)
    assert (line.pack_id, line.amount) == (None, 0)
    [event] = await events_of(clinic.business_id, EventType.REDEMPTION_REVERSED)
    assert event.entry_id == entry.id and event.payload["appointmentId"] == appointment.id
    assert (event.payload["statusFrom"], event.payload["statusTo"]) == ("FULLY_USED", "ACTIVE")
    await assert_ledger_consistent(pack.id)

    # and cancelling again is refused
    with pytest.raises(DomainError) as error:
        await cancel_appointment(actor=clinic.staff, appointment_id=appointment.id)
    assert error.value.code == ErrorCode.INVALID_STATE


async def test_cancelling_a_booked_appointment_touches_no_pack(db):
    clinic = await build_clinic()
    await sell(clinic)
    appointment = await _book(clinic)
    before = len(await events_of(clinic.business_id))
    result = await cancel_appointment(actor=clinic.staff, appointment_id=appointment.id)
    assert result.entries == [] and len(await events_of(clinic.business_id)) == before


async def test_deleting_an_appointment_is_soft_and_leaves_the_ledger_alone(db):
    # given an attended, charged visit
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    appointment = await _book(clinic)
    await _check_in(clinic, appointment)

    # when it is deleted
    await delete_appointment(actor=clinic.staff, appointment_id=appointment.id)

    # then the row stays with deleted_at, the session stays used (the investigation reports it)
    stored = await Appointment.get(id=appointment.id)
    assert stored.deleted_at is not None
    assert await item_usage(pack.id) == [(1, 10)]
    assert await LedgerEntry.filter(appointment_id=appointment.id).count() == 1
    # and it is gone for every operation
    for operation in (cancel_appointment, delete_appointment, check_in_appointment):
        with pytest.raises(DomainError) as error:
            await operation(actor=clinic.staff, appointment_id=appointment.id)
        assert error.value.code == ErrorCode.NOT_FOUND


async def test_templates_session_price_is_charged_on_allocated_check_ins(db):
    clinic = await build_clinic()
    template = await add_template(clinic.owner, items=[(10, [clinic.massage])], session_price=20_00)
    await sell(clinic, template=template)
    result = await _check_in(clinic, await _book(clinic))
    assert (result.line.unit_price, result.line.amount) == (20_00, 20_00)
