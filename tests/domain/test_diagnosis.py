"""The pack investigation (SPEC §1.8): each cause found, named, fixed by its suggested fix."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import pytest

from packgraph.domain.adjustments import correct_pack_balance
from packgraph.domain.appointments import (
    check_in_appointment,
    create_appointment,
    delete_appointment,
)
from packgraph.domain.diagnosis import FindingCode, Fix, PackDiagnosis, Ref, diagnose_pack
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.invoice_voids import void_invoice_line
from packgraph.domain.payments import record_payment
from packgraph.domain.redemptions import allocate_invoice_line, unallocate_invoice_line
from packgraph.domain.repairs import charge_appointment
from packgraph.domain.service_changes import change_appointment_service, change_line_service
from packgraph.models import Appointment, AppointmentStatus, InvoiceLine, Metric, Pack, PackItem
from tests.domain.builders import (
    Clinic,
    add_template,
    build_clinic,
    item_usage,
    sell,
    sell_sessions,
)

NOW = datetime.now(UTC)
# Early today (UTC, the clinics' timezone): a visit on the day of a sale made "now".
EARLY_TODAY = datetime.combine(NOW.date(), time(0, 1), UTC)


def days_ago(days: int, hour: int = 10) -> datetime:
    return datetime.combine(NOW.date() - timedelta(days=days), time(hour), UTC)


async def book(clinic: Clinic, starts_at: datetime, service=None) -> Appointment:
    result = await create_appointment(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=(service or clinic.massage).id,
        starts_at=starts_at,
    )
    return result.appointment


async def visit(clinic: Clinic, starts_at: datetime, service=None, *, no_charge: bool = False):
    appointment = await book(clinic, starts_at, service)
    return await check_in_appointment(
        actor=clinic.staff, appointment_id=appointment.id, no_charge=no_charge
    )


async def diagnose(clinic: Clinic, pack_id: int, actor=None) -> PackDiagnosis:
    return await diagnose_pack(actor=actor or clinic.staff, pack_id=pack_id)


def codes(diagnosis: PackDiagnosis) -> list[str]:
    return [finding.code.value for finding in diagnosis.findings]


def counts(diagnosis: PackDiagnosis) -> tuple[int, int]:
    return diagnosis.shown_used, diagnosis.expected_used


async def assert_clean(clinic: Clinic, pack_id: int, used: int) -> None:
    diagnosis = await diagnose(clinic, pack_id)
    assert codes(diagnosis) == []
    assert counts(diagnosis) == (used, used)


# --- a pack without problems ---------------------------------------------------------------------


async def test_a_pack_whose_visits_were_all_deducted_has_no_findings(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    await visit(clinic, days_ago(5))
    await visit(clinic, days_ago(2))
    await visit(clinic, days_ago(1), clinic.physio)  # another service: not this pack's business

    diagnosis = await diagnose(clinic, pack.id)

    assert codes(diagnosis) == []
    assert counts(diagnosis) == (2, 2)
    [item] = diagnosis.items
    assert (item.shown_used, item.ledger_used, item.expected_used) == (2, 2, 2)


# --- the AcuBliss causes -------------------------------------------------------------------------


async def test_first_session_not_deducted_at_the_sale(db):
    # given a visit checked in (charged at the full price) before the pack was sold the same day
    clinic = await build_clinic()
    charged = await visit(clinic, EARLY_TODAY)
    pack = (await sell(clinic)).pack

    # then the investigation names that line and suggests allocating it
    diagnosis = await diagnose(clinic, pack.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.FIRST_SESSION_NOT_DEDUCTED
    assert finding.line.id == charged.line.id
    assert finding.appointment.id == charged.appointment.id
    assert (finding.units, finding.counted, finding.visit_day) == (1, True, NOW.date())
    assert finding.fix == Fix(
        mutation="allocateInvoiceLine",
        input={"lineId": Ref("InvoiceLine", charged.line.id), "packId": Ref("Pack", pack.id)},
        label="Deduct this visit from the pack",
    )
    assert "use first session" in finding.message
    assert counts(diagnosis) == (0, 1)

    # when the fix is applied, the count is right and nothing is left
    await allocate_invoice_line(actor=clinic.staff, line_id=charged.line.id, pack_id=pack.id)
    await assert_clean(clinic, pack.id, used=1)


async def test_a_second_unallocated_visit_on_the_purchase_day_is_a_line_not_allocated(db):
    clinic = await build_clinic()
    first = await visit(clinic, EARLY_TODAY)
    second = await visit(clinic, EARLY_TODAY + timedelta(minutes=1))
    pack = (await sell(clinic)).pack

    diagnosis = await diagnose(clinic, pack.id)

    assert codes(diagnosis) == ["FIRST_SESSION_NOT_DEDUCTED", "LINE_NOT_ALLOCATED"]
    assert [f.line.id for f in diagnosis.findings] == [first.line.id, second.line.id]
    assert counts(diagnosis) == (0, 2)


async def test_appointment_not_checked_in(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    appointment = await book(clinic, days_ago(3))
    await book(clinic, NOW + timedelta(days=2))  # booked for later: not a finding

    diagnosis = await diagnose(clinic, pack.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.APPOINTMENT_NOT_CHECKED_IN
    assert finding.appointment.id == appointment.id and finding.line is None
    assert finding.fix.mutation == "checkInAppointment"
    assert finding.fix.input == {"appointmentId": Ref("Appointment", appointment.id)}
    assert "never checked in" in finding.message
    assert counts(diagnosis) == (0, 1)

    await check_in_appointment(actor=clinic.staff, appointment_id=appointment.id)
    await assert_clean(clinic, pack.id, used=1)


async def test_appointment_checked_in_with_no_charge(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    free = await visit(clinic, days_ago(2), no_charge=True)

    diagnosis = await diagnose(clinic, pack.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.APPOINTMENT_NO_CHARGE
    assert finding.fix.input == {
        "appointmentId": Ref("Appointment", free.appointment.id),
        "packId": Ref("Pack", pack.id),
    }
    assert finding.fix.mutation == "chargeAppointment"
    assert counts(diagnosis) == (0, 1)

    result = await charge_appointment(
        actor=clinic.staff, appointment_id=free.appointment.id, pack_id=pack.id
    )
    assert result.pack.id == pack.id and result.line.appointment_id == free.appointment.id
    assert result.invoice.issued_on == days_ago(2).date()
    appointment = await Appointment.get(id=free.appointment.id)
    assert (appointment.status, appointment.no_charge) == (AppointmentStatus.ATTENDED, False)
    await assert_clean(clinic, pack.id, used=1)


async def test_attended_appointment_deleted_from_the_schedule(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    free = await visit(clinic, days_ago(4), no_charge=True)
    await delete_appointment(actor=clinic.staff, appointment_id=free.appointment.id)
    # a charged visit that was deleted afterwards still counts: the ledger explains it
    charged = await visit(clinic, days_ago(3))
    await delete_appointment(actor=clinic.staff, appointment_id=charged.appointment.id)

    diagnosis = await diagnose(clinic, pack.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.APPOINTMENT_DELETED
    assert finding.appointment.id == free.appointment.id and finding.counted
    assert finding.fix.mutation == "chargeAppointment"
    assert counts(diagnosis) == (1, 2)

    await charge_appointment(
        actor=clinic.staff, appointment_id=free.appointment.id, pack_id=pack.id
    )
    await assert_clean(clinic, pack.id, used=2)
    assert (await Appointment.get(id=free.appointment.id)).deleted_at is not None


async def test_a_booking_deleted_before_check_in_is_reported_but_not_counted(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    appointment = await book(clinic, days_ago(2))
    await delete_appointment(actor=clinic.staff, appointment_id=appointment.id)

    diagnosis = await diagnose(clinic, pack.id)

    [finding] = diagnosis.findings
    assert finding.code == FindingCode.APPOINTMENT_DELETED and not finding.counted
    assert "without being checked in" in finding.message
    assert counts(diagnosis) == (0, 0)


async def test_service_not_in_the_pack_is_fixed_by_changing_the_visit_s_service(db):
    # given a 60-minute massage pack and a 90-minute massage charged in full at check-in (the
    # AcuBliss cause: the wrong service chosen at check-in)
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    long = await visit(clinic, days_ago(2), clinic.long_massage)
    assert long.line.amount == clinic.long_massage.price and long.line.pack_id is None

    # then it is reported (not counted: the pack's rules exclude it) with a fix any staff can
    # apply: change the visit to the pack's service of the same kind, deducted from this pack
    diagnosis = await diagnose(clinic, pack.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.SERVICE_NOT_IN_PACK
    assert finding.line.id == long.line.id and not finding.counted
    assert "Massage 90" in finding.message and "Massage 60" in finding.message
    assert counts(diagnosis) == (0, 0)
    assert finding.fix == Fix(
        mutation="changeAppointmentService",
        input={
            "appointmentId": Ref("Appointment", long.appointment.id),
            "serviceId": Ref("Service", clinic.massage.id),
            "packId": Ref("Pack", pack.id),
        },
        label="Change it to Massage 60 and deduct it",
    )
    # an integration key reads the finding but gets no fix
    [seen] = (await diagnose(clinic, pack.id, clinic.integration)).findings
    assert seen.code == FindingCode.SERVICE_NOT_IN_PACK and seen.fix is None

    # when the desk applies it
    await change_appointment_service(
        actor=clinic.staff,
        appointment_id=long.appointment.id,
        service_id=clinic.massage.id,
        pack_id=pack.id,
    )

    # then the visit counts and is charged once: at the pack's session price, not in full
    await assert_clean(clinic, pack.id, used=1)
    line = await InvoiceLine.get(id=long.line.id)
    assert (line.service_id, line.pack_id, line.amount) == (clinic.massage.id, pack.id, 0)
    assert (await Appointment.get(id=long.appointment.id)).service_id == clinic.massage.id


async def test_a_walk_in_line_for_the_wrong_service_is_fixed_on_the_line(db):
    # given a walk-in line for a 90-minute massage added to an invoice (no appointment)
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    charged = await visit(clinic, days_ago(2), clinic.long_massage)
    await delete_appointment(actor=clinic.staff, appointment_id=charged.appointment.id)

    # then the fix changes the line itself (the visit is no longer on the schedule)
    [finding] = (await diagnose(clinic, pack.id)).findings
    assert finding.fix.mutation == "changeInvoiceLineService"
    assert finding.fix.input["lineId"] == Ref("InvoiceLine", charged.line.id)
    await change_line_service(
        actor=clinic.staff, line_id=charged.line.id, service_id=clinic.massage.id, pack_id=pack.id
    )
    await assert_clean(clinic, pack.id, used=1)


async def test_a_paper_card_correction_naming_the_line_still_resolves_it(db):
    # given a wrong-service visit a manager counted by hand before service changes existed
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    long = await visit(clinic, days_ago(2), clinic.long_massage)
    [item] = await PackItem.filter(pack_id=pack.id)
    await correct_pack_balance(
        actor=clinic.manager,
        pack_id=pack.id,
        item_id=item.id,
        delta=-1,
        reason=f"Massage 90 counted as Massage 60 [line {long.line.id}]",
    )

    # then the investigation accepts it
    await assert_clean(clinic, pack.id, used=1)


async def test_a_voided_visit_is_not_offered_for_allocation(db):
    # given a visit charged at full price after the (backdated) purchase, then voided
    clinic = await build_clinic()
    charged = await visit(clinic, days_ago(3))
    pack = (await sell(clinic, purchased_at=days_ago(7))).pack
    assert codes(await diagnose(clinic, pack.id)) == ["LINE_NOT_ALLOCATED"]

    await void_invoice_line(actor=clinic.manager, line_id=charged.line.id, reason="not here")

    # then the investigation finds nothing to fix
    assert codes(await diagnose(clinic, pack.id)) == []


async def test_line_charged_at_full_price_after_the_purchase(db):
    # given a visit checked in before the pack was entered, backdated to last week
    clinic = await build_clinic()
    charged = await visit(clinic, days_ago(3))
    pack = (await sell(clinic, purchased_at=days_ago(7))).pack

    diagnosis = await diagnose(clinic, pack.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.LINE_NOT_ALLOCATED
    assert finding.line.id == charged.line.id
    assert finding.fix.mutation == "allocateInvoiceLine"
    assert counts(diagnosis) == (0, 1)

    await allocate_invoice_line(actor=clinic.staff, line_id=charged.line.id, pack_id=pack.id)
    await assert_clean(clinic, pack.id, used=1)


async def test_a_visit_charged_in_full_because_the_pack_was_used_up_is_not_reported(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 1, purchased_at=days_ago(7))
    await visit(clinic, days_ago(3))
    extra = await visit(clinic, days_ago(2))
    assert extra.pack is None and extra.line.amount == 90_00

    await assert_clean(clinic, pack.id, used=1)


async def test_a_line_removed_from_the_pack_on_purpose_is_not_reported(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(7))).pack
    charged = await visit(clinic, days_ago(3))
    await unallocate_invoice_line(actor=clinic.staff, line_id=charged.line.id)

    await assert_clean(clinic, pack.id, used=0)


async def test_visit_billed_before_the_purchase(db):
    clinic = await build_clinic()
    before = await visit(clinic, days_ago(3))
    await visit(clinic, days_ago(20))  # long before the purchase: not reported
    pack = (await sell(clinic)).pack

    diagnosis = await diagnose(clinic, pack.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.BILLED_BEFORE_PURCHASE
    assert finding.line.id == before.line.id and not finding.counted
    assert finding.fix.mutation == "allocateInvoiceLine"
    assert counts(diagnosis) == (0, 0)

    result = await allocate_invoice_line(
        actor=clinic.staff, line_id=before.line.id, pack_id=pack.id
    )
    assert result.line.retrospective
    await assert_clean(clinic, pack.id, used=1)


async def test_pack_not_paid_when_the_business_requires_payment(db):
    clinic = await build_clinic(redemption_requires_full_payment=True)
    pack = (await sell(clinic, purchased_at=days_ago(5))).pack
    await record_payment(actor=clinic.staff, pack_id=pack.id, amount=300_00, method="CASH")

    diagnosis = await diagnose(clinic, pack.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.PACK_NOT_PAID
    assert finding.fix.mutation == "recordPayment"
    assert finding.fix.input == {"packId": Ref("Pack", pack.id), "amount": 500_00, "method": "CARD"}
    assert "A$500.00 still owing" in finding.message
    assert finding.appointment is None and finding.line is None

    await record_payment(actor=clinic.staff, pack_id=pack.id, amount=500_00, method="CARD")
    await assert_clean(clinic, pack.id, used=0)


async def test_visits_blocked_by_non_payment_are_fixed_after_the_payment(db):
    clinic = await build_clinic(redemption_requires_full_payment=True)
    pack = (await sell(clinic, purchased_at=days_ago(5))).pack
    blocked = await visit(clinic, days_ago(2))
    assert blocked.pack is None

    diagnosis = await diagnose(clinic, pack.id)
    assert codes(diagnosis) == ["PACK_NOT_PAID", "LINE_NOT_ALLOCATED"]
    # the allocation cannot succeed before the payment: it is offered only afterwards
    assert diagnosis.findings[1].fix is None
    assert counts(diagnosis) == (0, 1)

    await record_payment(actor=clinic.staff, pack_id=pack.id, amount=800_00, method="CARD")
    [finding] = (await diagnose(clinic, pack.id)).findings
    assert finding.code == FindingCode.LINE_NOT_ALLOCATED and finding.fix is not None
    await allocate_invoice_line(actor=clinic.staff, line_id=blocked.line.id, pack_id=pack.id)
    await assert_clean(clinic, pack.id, used=1)


async def test_ledger_mismatch_is_reported_and_the_ledger_is_believed(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(5))).pack
    await visit(clinic, days_ago(2))
    # corrupt the cached count directly: no domain operation can do this
    await PackItem.filter(pack_id=pack.id).update(used=4)

    diagnosis = await diagnose(clinic, pack.id)

    [finding] = diagnosis.findings
    assert finding.code == FindingCode.LEDGER_MISMATCH and finding.fix is None
    assert "(4)" in finding.message and "(1)" in finding.message
    assert counts(diagnosis) == (4, 1)


# --- windows, roles, units -----------------------------------------------------------------------


async def test_visits_after_expiry_are_not_reported_and_an_expired_pack_offers_no_fix(db):
    clinic = await build_clinic()
    charged = await visit(clinic, days_ago(6))
    await visit(clinic, days_ago(1))  # after the expiry: the pack could not take it
    pack = (await sell(clinic, purchased_at=days_ago(8))).pack
    await Pack.filter(id=pack.id).update(expires_at=days_ago(3))  # expired 3 days ago

    diagnosis = await diagnose(clinic, pack.id)

    [finding] = diagnosis.findings
    assert finding.code == FindingCode.LINE_NOT_ALLOCATED
    assert finding.line.id == charged.line.id and finding.fix is None
    assert counts(diagnosis) == (0, 1)


async def test_an_integration_reads_the_findings_without_fixes(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    await visit(clinic, days_ago(2), no_charge=True)

    [finding] = (await diagnose(clinic, pack.id, clinic.integration)).findings

    assert finding.code == FindingCode.APPOINTMENT_NO_CHARGE and finding.fix is None


async def test_a_pack_of_another_business_is_not_found(db):
    clinic = await build_clinic("A")
    other = await build_clinic("B")
    pack = (await sell(clinic)).pack

    with pytest.raises(DomainError) as error:
        await diagnose(other, pack.id)

    assert error.value.code == ErrorCode.NOT_FOUND


async def test_a_minutes_pack_counts_the_missed_visit_in_minutes(db):
    clinic = await build_clinic()
    hours = await add_template(
        clinic.owner, name="5 hours", metric=Metric.MINUTES, items=[(300, [clinic.massage])]
    )
    pack = (await sell(clinic, template=hours, purchased_at=days_ago(10))).pack
    await visit(clinic, days_ago(3))
    await visit(clinic, days_ago(2), no_charge=True)

    diagnosis = await diagnose(clinic, pack.id)

    [finding] = diagnosis.findings
    assert (finding.code, finding.units) == (FindingCode.APPOINTMENT_NO_CHARGE, 60)
    assert counts(diagnosis) == (60, 120)


async def test_charging_a_booked_appointment_is_refused_and_charging_twice_too(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, purchased_at=days_ago(10))).pack
    booked = await book(clinic, days_ago(1))
    free = await visit(clinic, days_ago(2), no_charge=True)

    with pytest.raises(DomainError) as error:
        await charge_appointment(actor=clinic.staff, appointment_id=booked.id, pack_id=pack.id)
    assert error.value.code == ErrorCode.INVALID_STATE
    await charge_appointment(
        actor=clinic.staff, appointment_id=free.appointment.id, pack_id=pack.id
    )
    with pytest.raises(DomainError) as error:
        await charge_appointment(
            actor=clinic.staff, appointment_id=free.appointment.id, pack_id=pack.id
        )
    assert error.value.code == ErrorCode.INVALID_STATE
    assert await item_usage(pack.id) == [(1, 10)]
    assert await InvoiceLine.filter(appointment_id=free.appointment.id).count() == 1


# --- cost ----------------------------------------------------------------------------------------


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every SQL statement Tortoise sends while the block runs."""
    statements: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            statements.append(record.getMessage())

    logger = logging.getLogger("tortoise.db_client")
    handler, level = Collect(level=logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def _client_with_visits(name: str, visits: int) -> tuple[Clinic, int]:
    """A pack whose client has every kind of visit, ``visits`` times over."""
    clinic = await build_clinic(name)
    pack = (await sell(clinic, purchased_at=days_ago(30))).pack
    for n in range(visits // 4):
        day = 25 - n
        await visit(clinic, days_ago(day, hour=8))
        await visit(clinic, days_ago(day, hour=9), no_charge=True)
        await visit(clinic, days_ago(day, hour=10), clinic.long_massage)
        await book(clinic, days_ago(day, hour=11))
    return clinic, pack.id


async def test_diagnosis_costs_the_same_number_of_queries_for_2_or_20_visits(db):
    small, small_pack = await _client_with_visits("Small", 4)
    large, large_pack = await _client_with_visits("Large", 20)

    with counting_statements() as few:
        small_result = await diagnose(small, small_pack)
    with counting_statements() as many:
        large_result = await diagnose(large, large_pack)

    assert len(large_result.findings) > len(small_result.findings) >= 3
    assert len(few) == len(many) <= 10
