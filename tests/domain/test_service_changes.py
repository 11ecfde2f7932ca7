"""One visit, one charge (SPEC §6.1, issue 14): changing a visit's service re-prices and
re-allocates its line, and a MONEY pack covers what it can of a visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packgraph.domain.appointments import (
    cancel_appointment,
    check_in_appointment,
    create_appointment,
)
from packgraph.domain.catalog import update_service
from packgraph.domain.errors import ErrorCode
from packgraph.domain.invoice_voids import void_invoice_line
from packgraph.domain.invoices import invoice_paid, invoice_total
from packgraph.domain.payments import record_payment
from packgraph.domain.redemptions import (
    move_allocations,
    redeem_session,
    unallocate_invoice_line,
)
from packgraph.domain.service_changes import change_appointment_service, change_line_service
from packgraph.models import (
    Appointment,
    EventType,
    InvoiceLine,
    Metric,
    PackStatus,
    PaymentMethod,
)
from tests.domain.builders import (
    Clinic,
    add_client,
    add_template,
    build_clinic,
    event_types,
    item_usage,
    refused,
    reload_pack,
    sell,
    sell_sessions,
)


def _ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


async def _visit(clinic: Clinic, service, **booking):
    booked = await create_appointment(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=service.id,
        starts_at=_ago(hours=1),
        **booking,
    )
    return await check_in_appointment(actor=clinic.staff, appointment_id=booked.appointment.id)


async def _money_pack(clinic: Clinic, allowance: int, *, name: str = "Gift credit"):
    template = await add_template(
        clinic.owner,
        name=name,
        metric=Metric.MONEY,
        price=allowance,
        items=[(allowance, [clinic.massage, clinic.long_massage, clinic.physio])],
    )
    return (await sell(clinic, template=template, purchased_at=_ago(days=3))).pack


# --- changing the service of a visit ----------------------------------------------------------


async def test_a_visit_charged_in_full_is_deducted_once_its_service_is_the_pack_s(db):
    # given a 10-massage pack and a physio visit charged in full (no pack covers physio)
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=_ago(days=3))).pack
    charged = await _visit(clinic, clinic.physio)
    assert charged.line.amount == 80_00 and charged.entry is None
    before = await event_types(clinic.business_id)

    # when the desk changes it to the massage it really was
    result = await change_appointment_service(
        actor=clinic.staff, appointment_id=charged.appointment.id, service_id=clinic.massage.id
    )

    # then auto-allocation deducts it from the pack and the line charges the session price only
    assert result.pack.id == pack.id and result.entry is not None and result.released is None
    line = await InvoiceLine.get(id=charged.line.id)
    assert (line.service_id, line.description) == (clinic.massage.id, "Massage 60")
    assert (line.pack_id, line.units, line.session_number, line.amount) == (pack.id, 1, 1, 0)
    assert await invoice_total(None, line.invoice_id) == 0
    assert await item_usage(pack.id) == [(1, 10)]
    assert (await Appointment.get(id=charged.appointment.id)).service_id == clinic.massage.id
    assert (await event_types(clinic.business_id))[len(before) :] == [
        "SESSION_REDEEMED",
        "SERVICE_CHANGED",
    ]


async def test_a_visit_changed_to_a_service_no_pack_covers_gives_its_session_back(db):
    # given a massage deducted from the pack
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=_ago(days=3))).pack
    charged = await _visit(clinic, clinic.massage)
    assert charged.pack.id == pack.id

    # when it turns out to have been physio
    result = await change_appointment_service(
        actor=clinic.staff, appointment_id=charged.appointment.id, service_id=clinic.physio.id
    )

    # then the session goes back and the visit is charged at the physio price, once
    assert result.pack is None and result.released.id == pack.id
    line = await InvoiceLine.get(id=charged.line.id)
    assert (line.pack_id, line.units, line.amount) == (None, 0, 80_00)
    assert await item_usage(pack.id) == [(0, 10)]
    events = await event_types(clinic.business_id)
    assert events[-2:] == ["REDEMPTION_REVERSED", "SERVICE_CHANGED"]


async def test_a_pack_that_covers_the_new_service_too_keeps_the_visit(db):
    # given a shared pool of massage or long massage, and a massage deducted from it
    clinic = await build_clinic()
    pack = await sell_sessions(
        clinic, 5, services=[clinic.massage, clinic.long_massage], purchased_at=_ago(days=3)
    )
    other = (await sell(clinic, purchased_at=_ago(days=3))).pack  # 10 massages, not 90s
    charged = await _visit(clinic, clinic.massage, chosen_pack_id=pack.id)

    # when it is changed to the long massage
    result = await change_appointment_service(
        actor=clinic.staff,
        appointment_id=charged.appointment.id,
        service_id=clinic.long_massage.id,
    )

    # then the same pack takes it again (session 1 of 5, once), the other is untouched
    assert result.pack.id == pack.id and result.released is None
    assert await item_usage(pack.id) == [(1, 5)]
    assert await item_usage(other.id) == [(0, 10)]
    line = await InvoiceLine.get(id=charged.line.id)
    assert (line.pack_id, line.session_number) == (pack.id, 1)


async def test_a_cheaper_service_on_a_paid_invoice_moves_the_excess_to_credit(db):
    # given a long massage charged in full (120.00) and paid
    clinic = await build_clinic()
    charged = await _visit(clinic, clinic.long_massage)
    await record_payment(
        actor=clinic.staff,
        invoice_id=charged.invoice.id,
        amount=120_00,
        method=PaymentMethod.CARD,
    )

    # when it was in fact the 60-minute massage (90.00)
    result = await change_appointment_service(
        actor=clinic.staff, appointment_id=charged.appointment.id, service_id=clinic.massage.id
    )

    # then the invoice is paid, not over-paid, and the 30.00 is the client's credit
    assert result.credit is not None and result.credit.amount == 30_00
    assert await invoice_total(None, charged.invoice.id) == 90_00
    assert await invoice_paid(None, charged.invoice.id) == 90_00
    assert (await event_types(clinic.business_id))[-2:] == ["SERVICE_CHANGED", "CLIENT_CREDITED"]


async def test_a_booked_visit_keeps_its_chosen_pack_only_when_it_covers_the_new_service(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=_ago(days=3))).pack
    booked = await create_appointment(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=clinic.massage.id,
        starts_at=_ago(hours=-2),
        chosen_pack_id=pack.id,
    )
    appointment_id = booked.appointment.id

    # a service the chosen pack does not cover: the choice is cleared, nothing is charged
    result = await change_appointment_service(
        actor=clinic.staff, appointment_id=appointment_id, service_id=clinic.physio.id
    )
    assert result.line is None and result.appointment.chosen_pack_id is None
    assert await event_types(clinic.business_id) == ["PACK_SOLD"]

    # naming a pack that does not cover it is refused, and changes nothing
    await refused(
        clinic,
        lambda: change_appointment_service(
            actor=clinic.staff,
            appointment_id=appointment_id,
            service_id=clinic.long_massage.id,
            pack_id=pack.id,
        ),
        ErrorCode.SERVICE_NOT_IN_PACK,
    )
    # back to the massage, choosing the pack again
    result = await change_appointment_service(
        actor=clinic.staff,
        appointment_id=appointment_id,
        service_id=clinic.massage.id,
        pack_id=pack.id,
    )
    assert result.appointment.chosen_pack_id == pack.id
    assert (await Appointment.get(id=appointment_id)).service_id == clinic.massage.id


async def test_a_walk_in_line_changes_service_on_the_line(db):
    # given a walk-in massage redeemed from the pack
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=_ago(days=3))).pack
    walk_in = await redeem_session(
        actor=clinic.staff, pack_id=pack.id, service_id=clinic.massage.id
    )

    # when the line is changed to physio
    result = await change_line_service(
        actor=clinic.staff, line_id=walk_in.line.id, service_id=clinic.physio.id
    )

    # then it is charged at the physio price and the session is back
    assert result.appointment is None and result.line.amount == 80_00
    assert await item_usage(pack.id) == [(0, 10)]


async def test_refusals_change_nothing(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=_ago(days=3))).pack
    charged = await _visit(clinic, clinic.massage)
    appointment_id = charged.appointment.id

    def change(service, actor=None, **extra):
        return lambda: change_appointment_service(
            actor=actor or clinic.staff,
            appointment_id=appointment_id,
            service_id=service.id,
            **extra,
        )

    # the same service: nothing to change (allocating the line is another action)
    error = await refused(clinic, change(clinic.massage), ErrorCode.INVALID_INPUT)
    assert "already for 'Massage 60'" in error.message
    # an archived service
    await update_service(actor=clinic.owner, service_id=clinic.physio.id, active=False)
    await refused(clinic, change(clinic.physio), ErrorCode.INVALID_INPUT)
    # integrations only read
    await refused(
        clinic, change(clinic.long_massage, clinic.integration), ErrorCode.PERMISSION_DENIED
    )
    # another clinic's staff do not see the visit
    elsewhere = await build_clinic("Elsewhere")
    await refused(clinic, change(clinic.long_massage, elsewhere.staff), ErrorCode.NOT_FOUND)
    # a pack of another client
    other = await add_client(clinic.owner, "Bruno Costa")
    theirs = (await sell(clinic, client=other, purchased_at=_ago(days=3))).pack
    await refused(clinic, change(clinic.long_massage, pack_id=theirs.id), ErrorCode.INVALID_INPUT)
    # a pack that cannot take it now: the whole change rolls back
    used_up = await sell_sessions(
        clinic, 1, services=[clinic.long_massage], purchased_at=_ago(days=3)
    )
    await redeem_session(actor=clinic.staff, pack_id=used_up.id, service_id=clinic.long_massage.id)
    await refused(
        clinic, change(clinic.long_massage, pack_id=used_up.id), ErrorCode.PACK_NOT_ACTIVE
    )
    assert await item_usage(pack.id) == [(1, 10)]
    # a void line, and a cancelled visit
    await void_invoice_line(actor=clinic.manager, line_id=charged.line.id, reason="not here")
    await refused(
        clinic,
        lambda: change_line_service(
            actor=clinic.staff, line_id=charged.line.id, service_id=clinic.long_massage.id
        ),
        ErrorCode.INVOICE_VOID,
    )
    await cancel_appointment(actor=clinic.staff, appointment_id=appointment_id)
    await refused(clinic, change(clinic.long_massage), ErrorCode.INVALID_STATE)


# --- a MONEY pack covers what it can ---------------------------------------------------------


async def test_a_money_pack_with_less_than_the_price_covers_part_and_the_rest_is_charged(db):
    # given $50 of credit left on a money pack and a long massage (120.00)
    clinic = await build_clinic()
    pack = await _money_pack(clinic, 50_00)

    # when the client comes in
    charged = await _visit(clinic, clinic.long_massage)

    # then the pack pays 50.00 and the line charges the other 70.00: one line, one charge
    assert charged.pack.id == pack.id
    line = await InvoiceLine.get(id=charged.line.id)
    assert (line.units, line.unit_price, line.amount) == (50_00, 0, 70_00)
    assert await invoice_total(None, line.invoice_id) == 70_00
    assert (await reload_pack(pack.id)).status == PackStatus.FULLY_USED

    # and unallocating gives the 50.00 back and charges the visit in full
    await unallocate_invoice_line(actor=clinic.staff, line_id=line.id)
    line = await InvoiceLine.get(id=line.id)
    assert (line.units, line.amount) == (0, 120_00)
    assert await item_usage(pack.id) == [(0, 50_00)]


async def test_auto_allocation_prefers_a_pack_that_covers_the_whole_visit(db):
    # given a soon-expiring card with 20.00 left and a card with 500.00
    clinic = await build_clinic()
    small = await _money_pack(clinic, 20_00, name="Small card")
    large = await _money_pack(clinic, 500_00, name="Large card")

    # then a massage (90.00) is paid in full from the large card
    charged = await _visit(clinic, clinic.massage)
    assert charged.pack.id == large.id and charged.line.amount == 0
    assert await item_usage(small.id) == [(0, 20_00)]


async def test_moving_lines_to_a_money_pack_without_enough_left_fails_whole(db):
    # given a massage deducted from the 10-massage pack and a card with 20.00 left
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=_ago(days=3))).pack
    card = await _money_pack(clinic, 20_00)
    await _visit(clinic, clinic.massage, chosen_pack_id=pack.id)

    # then moving the line to the card is refused (a move takes every line whole)
    await refused(
        clinic,
        lambda: move_allocations(actor=clinic.staff, from_pack_id=pack.id, to_pack_id=card.id),
        ErrorCode.INSUFFICIENT_BALANCE,
    )


async def test_a_partly_covered_visit_changed_to_another_service_is_covered_again(db):
    # given 100.00 on a card, a long massage (120.00) covered 100.00 and charged 20.00
    clinic = await build_clinic()
    card = await _money_pack(clinic, 100_00)
    charged = await _visit(clinic, clinic.long_massage)
    assert (charged.line.units, charged.line.amount) == (100_00, 20_00)

    # when it was a 60-minute massage (90.00)
    result = await change_appointment_service(
        actor=clinic.staff, appointment_id=charged.appointment.id, service_id=clinic.massage.id
    )

    # then the card pays all of it and 10.00 stays on the card
    assert result.pack.id == card.id
    line = await InvoiceLine.get(id=charged.line.id)
    assert (line.units, line.amount) == (90_00, 0)
    assert await item_usage(card.id) == [(90_00, 100_00)]
    assert (await reload_pack(card.id)).status == PackStatus.ACTIVE
    assert EventType.SERVICE_CHANGED in await event_types(clinic.business_id)


async def test_a_retry_with_the_same_key_changes_nothing_more(db):
    # given a physio visit charged in full and a 10-massage pack
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=_ago(days=3))).pack
    charged = await _visit(clinic, clinic.physio)

    async def change():
        return await change_line_service(
            actor=clinic.staff,
            line_id=charged.line.id,
            service_id=clinic.massage.id,
            idempotency_key="change-1",
        )

    # when the desk's request is sent twice (a lost response)
    first = await change()
    events = await event_types(clinic.business_id)
    again = await change()

    # then the second returns the first result and deducts nothing more
    assert again.replayed and not first.replayed
    assert (again.line.id, again.pack.id, again.entry.id) == (
        first.line.id,
        pack.id,
        first.entry.id,
    )
    assert await item_usage(pack.id) == [(1, 10)]
    assert await event_types(clinic.business_id) == events
