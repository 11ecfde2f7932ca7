"""The AcuBliss "why is my patient's package count incorrect?" causes, each as one test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packgraph.domain.appointments import check_in_appointment, create_appointment
from packgraph.domain.payments import record_payment
from packgraph.domain.redemptions import allocate_invoice_line
from packgraph.models import AppointmentStatus, PaymentStatus
from tests.domain.builders import build_clinic, item_usage, reload_pack, sell

NOW = datetime.now(UTC)


async def _visit(clinic, service=None, days_ago: int = 0, no_charge: bool = False):
    appointment = (
        await create_appointment(
            actor=clinic.staff,
            client_id=clinic.client.id,
            service_id=(service or clinic.massage).id,
            starts_at=NOW - timedelta(days=days_ago),
        )
    ).appointment
    return await check_in_appointment(
        actor=clinic.staff, appointment_id=appointment.id, no_charge=no_charge
    )


async def test_with_payment_required_an_unpaid_pack_deducts_nothing(db):
    # given a clinic where a package is active only once fully paid, and an unpaid pack
    clinic = await build_clinic(redemption_requires_full_payment=True)
    sale = await sell(clinic)

    # when the patient visits before paying, and again after a partial payment
    unpaid = await _visit(clinic)
    await record_payment(actor=clinic.staff, pack_id=sale.pack.id, amount=400_00, method="CARD")
    assert (await reload_pack(sale.pack.id)).payment_status == PaymentStatus.PARTIAL
    partial = await _visit(clinic)

    # then neither visit deducted: both are charged at the service price
    assert (unpaid.pack, partial.pack) == (None, None)
    assert (unpaid.line.amount, partial.line.amount) == (90_00, 90_00)
    assert await item_usage(sale.pack.id) == [(0, 10)]

    # and once fully paid, the next visit deducts
    await record_payment(actor=clinic.staff, pack_id=sale.pack.id, amount=400_00, method="CARD")
    paid = await _visit(clinic)
    assert paid.pack.id == sale.pack.id and await item_usage(sale.pack.id) == [(1, 10)]


async def test_check_in_and_charge_deducts(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    result = await _visit(clinic)
    assert result.appointment.status == AppointmentStatus.ATTENDED
    assert result.line.service_id == clinic.massage.id and result.line.pack_id == sale.pack.id
    assert await item_usage(sale.pack.id) == [(1, 10)]


async def test_a_different_service_90_vs_60_minutes_deducts_nothing(db):
    # given a package of 60-minute massages
    clinic = await build_clinic()
    sale = await sell(clinic)

    # when a 90-minute massage is charged at check-in
    result = await _visit(clinic, clinic.long_massage)

    # then nothing is deducted; the visit is charged at its own price
    assert result.pack is None and result.line.amount == 120_00
    assert await item_usage(sale.pack.id) == [(0, 10)]


async def test_no_charges_visit_deducts_nothing(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    result = await _visit(clinic, no_charge=True)
    assert result.appointment.status == AppointmentStatus.ATTENDED
    assert result.appointment.no_charge and result.line is None
    assert await item_usage(sale.pack.id) == [(0, 10)]


async def test_visit_billed_before_purchase_is_not_auto_deducted(db):
    # given a visit last week, billed before the package existed
    clinic = await build_clinic()
    earlier = await _visit(clinic, days_ago=7)

    # and a visit dated yesterday but checked in only after today's purchase
    appointment = (
        await create_appointment(
            actor=clinic.staff,
            client_id=clinic.client.id,
            service_id=clinic.massage.id,
            starts_at=NOW - timedelta(days=1),
        )
    ).appointment
    sale = await sell(clinic)
    late = await check_in_appointment(actor=clinic.staff, appointment_id=appointment.id)

    # then neither is deducted automatically
    assert (earlier.pack, late.pack) == (None, None)
    assert await item_usage(sale.pack.id) == [(0, 10)]

    # and allocating one explicitly works, flagged retrospective
    result = await allocate_invoice_line(
        actor=clinic.staff, line_id=earlier.line.id, pack_id=sale.pack.id
    )
    assert result.line.retrospective


async def test_use_first_session_option(db):
    # given two packages sold on a treatment day: one without, one with "use first session"
    clinic = await build_clinic()
    without = await sell(clinic)
    with_first = await sell(clinic, use_first_session=True)

    # then only the second counted the first session
    assert await item_usage(without.pack.id) == [(0, 10)]
    assert await item_usage(with_first.pack.id) == [(1, 10)]
    assert with_first.entry.session_number == 1
    assert with_first.service_line.invoice_id == with_first.invoice.id
