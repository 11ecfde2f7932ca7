"""Client credit (SPEC §6.1): money paid beyond what an invoice charges becomes the client's
credit, never a negative balance; staff apply it to another invoice, managers refund it; every
move is an append-only entry with an event, and the credit never goes below zero."""

from __future__ import annotations

import asyncio
import importlib
import itertools
from collections import Counter

import pytest
from tortoise import connections

from packgraph.domain.adjustments import cancel_pack
from packgraph.domain.appointments import (
    cancel_appointment,
    check_in_appointment,
    create_appointment,
)
from packgraph.domain.client_credit import credit_balance
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.invoice_voids import void_invoice, void_invoice_line
from packgraph.domain.invoices import add_service_line, invoice_paid, invoice_total
from packgraph.domain.payments import (
    apply_client_credit,
    record_payment,
    refund_client_credit,
    refund_payment,
)
from packgraph.domain.redemptions import allocate_invoice_line, move_allocations
from packgraph.models import (
    CreditEntry,
    CreditKind,
    EventType,
    Invoice,
    Pack,
    Payment,
    PaymentMethod,
    PaymentStatus,
    RefundTo,
)
from tests.domain.builders import (
    add_client,
    add_service,
    add_template,
    build_clinic,
    events_of,
    refused,
    sell,
)

_names = itertools.count(1)


async def _owed(invoice_id: int) -> int:
    return await invoice_total(None, invoice_id) - await invoice_paid(None, invoice_id)


async def _paid_massage_visit(clinic, **kwargs):
    """A massage visit charged at the service price (90.00) and paid in full by card."""
    charge = await add_service_line(
        actor=clinic.staff, client_id=clinic.client.id, service_id=clinic.massage.id, **kwargs
    )
    await record_payment(
        actor=clinic.staff, amount=90_00, method="CARD", invoice_id=charge.invoice.id
    )
    return charge


async def _credit_of(clinic, amount: int) -> None:
    """Give the clinic's client ``amount`` of credit the way it happens: a paid visit voided."""
    service = await add_service(clinic.owner, f"Assessment {next(_names)}", price=amount)
    charge = await add_service_line(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=service.id,
        issued_on=utcnow().date().replace(year=2019),
    )
    await record_payment(
        actor=clinic.staff, amount=amount, method="CASH", invoice_id=charge.invoice.id
    )
    await void_invoice_line(actor=clinic.manager, line_id=charge.line.id, reason="booked twice")


async def test_a_paid_visit_allocated_to_a_pack_afterwards_becomes_credit(db):
    # The INV case: the visit was paid at the service price, then allocated to a pack
    # (session price 0): the invoice showed balanceDue -90.00, money nobody could move.
    clinic = await build_clinic()
    charge = await _paid_massage_visit(clinic)
    sale = await sell(clinic)

    result = await allocate_invoice_line(
        actor=clinic.staff, line_id=charge.line.id, pack_id=sale.pack.id
    )

    assert await _owed(charge.invoice.id) == 0
    assert result.credit is not None
    assert (result.credit.kind, result.credit.amount, result.credit.balance_after) == (
        CreditKind.CREDITED,
        90_00,
        90_00,
    )
    assert await credit_balance(None, clinic.client.id) == 90_00
    (moved,) = await Payment.filter(credit_entry_id=result.credit.id)
    assert (moved.amount, moved.method, moved.invoice_id, moved.pack_id) == (
        -90_00,
        PaymentMethod.CLIENT_CREDIT,
        charge.invoice.id,
        None,
    )
    (event,) = await events_of(clinic.business_id, EventType.CLIENT_CREDITED)
    assert event.client_id == clinic.client.id and event.payment_id == moved.id
    assert event.payload["creditBalance"] == 90_00 and event.payload["refund"] is False
    # The allocation is announced before the money it freed.
    (redeemed,) = await events_of(clinic.business_id, EventType.SESSION_REDEEMED)
    assert redeemed.seq < event.seq


async def test_an_allocation_of_an_unpaid_visit_credits_nothing(db):
    clinic = await build_clinic()
    charge = await add_service_line(
        actor=clinic.staff, client_id=clinic.client.id, service_id=clinic.massage.id
    )
    sale = await sell(clinic)
    result = await allocate_invoice_line(
        actor=clinic.staff, line_id=charge.line.id, pack_id=sale.pack.id
    )
    assert result.credit is None
    assert await CreditEntry.all().count() == 0


async def test_credit_pays_another_invoice_and_its_pack(db):
    clinic = await build_clinic()
    await _credit_of(clinic, 300_00)
    sale = await sell(clinic)

    result = await apply_client_credit(
        actor=clinic.staff, invoice_id=sale.invoice.id, amount=300_00
    )

    assert result.credit is not None
    assert (result.credit.kind, result.credit.amount, result.credit.balance_after) == (
        CreditKind.APPLIED,
        -300_00,
        0,
    )
    pack = await Pack.get(id=sale.pack.id)
    assert (pack.amount_paid, pack.payment_status) == (300_00, PaymentStatus.PARTIAL)
    assert await _owed(sale.invoice.id) == 500_00
    (row,) = result.payments
    assert (row.amount, row.method, row.pack_id) == (
        300_00,
        PaymentMethod.CLIENT_CREDIT,
        sale.pack.id,
    )
    (event,) = await events_of(clinic.business_id, EventType.CREDIT_APPLIED)
    assert event.pack_id == sale.pack.id and event.payload["creditBalance"] == 0
    assert event.payload["paymentStatus"] == "PARTIAL"
    assert await credit_balance(None, clinic.client.id) == 0


async def test_applying_more_than_the_credit_or_the_invoice_owes_is_refused(db):
    clinic = await build_clinic()
    await _credit_of(clinic, 50_00)
    sale = await sell(clinic)

    error = await refused(
        clinic,
        lambda: apply_client_credit(actor=clinic.staff, invoice_id=sale.invoice.id, amount=60_00),
        ErrorCode.INSUFFICIENT_CREDIT,
    )
    assert "A$50.00 in credit, less than A$60.00" in error.message


async def test_credit_never_pays_beyond_what_an_invoice_owes(db):
    clinic = await build_clinic()
    await _credit_of(clinic, 100_00)
    other = await add_client(clinic.owner, "Bo Chen")
    charge = await add_service_line(
        actor=clinic.staff, client_id=other.id, service_id=clinic.physio.id
    )
    # Ana's credit is Ana's: it pays none of Bo's invoices.
    await refused(
        clinic,
        lambda: apply_client_credit(actor=clinic.staff, invoice_id=charge.invoice.id, amount=1),
        ErrorCode.INSUFFICIENT_CREDIT,
    )
    own = await add_service_line(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=clinic.physio.id,
        issued_on=utcnow().date().replace(year=2020),
    )
    await refused(
        clinic,
        lambda: apply_client_credit(actor=clinic.staff, invoice_id=own.invoice.id, amount=80_01),
        ErrorCode.OVERPAYMENT,
    )
    await apply_client_credit(actor=clinic.staff, invoice_id=own.invoice.id, amount=80_00)
    assert await _owed(own.invoice.id) == 0
    assert await credit_balance(None, clinic.client.id) == 20_00


async def test_a_void_invoice_takes_no_credit(db):
    clinic = await build_clinic()
    await _credit_of(clinic, 100_00)
    old = await add_service_line(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=clinic.physio.id,
        issued_on=utcnow().date().replace(year=2020),
    )
    await void_invoice(actor=clinic.manager, invoice_id=old.invoice.id, reason="test visit")
    await refused(
        clinic,
        lambda: apply_client_credit(actor=clinic.staff, invoice_id=old.invoice.id, amount=1_00),
        ErrorCode.INVOICE_VOID,
    )


async def test_a_retried_application_applies_once(db):
    clinic = await build_clinic()
    await _credit_of(clinic, 300_00)
    sale = await sell(clinic)
    results = [
        await apply_client_credit(
            actor=clinic.staff, invoice_id=sale.invoice.id, amount=100_00, idempotency_key="k1"
        )
        for _ in range(2)
    ]
    assert [r.replayed for r in results] == [False, True]
    assert results[0].credit.id == results[1].credit.id
    assert await credit_balance(None, clinic.client.id) == 200_00


async def test_a_manager_refunds_credit_with_a_reason_and_a_method(db):
    clinic = await build_clinic()
    await _credit_of(clinic, 120_00)

    result = await refund_client_credit(
        actor=clinic.manager,
        client_id=clinic.client.id,
        amount=100_00,
        method="BANK_TRANSFER",
        reason="client moved away",
    )

    assert (result.entry.kind, result.entry.amount, result.entry.balance_after) == (
        CreditKind.REFUNDED,
        -100_00,
        20_00,
    )
    assert result.entry.method == PaymentMethod.BANK_TRANSFER
    (event,) = await events_of(clinic.business_id, EventType.CREDIT_REFUNDED)
    assert event.client_id == clinic.client.id
    assert event.payload == {
        "amount": -100_00,
        "method": "BANK_TRANSFER",
        "reason": "client moved away",
        "creditEntryId": result.entry.id,
        "creditBalance": 20_00,
    }
    await refused(
        clinic,
        lambda: refund_client_credit(
            actor=clinic.manager,
            client_id=clinic.client.id,
            amount=20_01,
            method="CASH",
            reason="rest",
        ),
        ErrorCode.INSUFFICIENT_CREDIT,
    )


@pytest.mark.parametrize(
    ("role", "method", "reason", "code"),
    [
        ("staff", "CASH", "why", ErrorCode.PERMISSION_DENIED),
        ("manager", "CASH", "", ErrorCode.REASON_REQUIRED),
        ("manager", "CLIENT_CREDIT", "why", ErrorCode.INVALID_INPUT),
        ("manager", "", "why", ErrorCode.INVALID_INPUT),
    ],
)
async def test_a_credit_refund_needs_a_manager_a_reason_and_a_real_method(
    db, role, method, reason, code
):
    clinic = await build_clinic()
    await _credit_of(clinic, 10_00)
    await refused(
        clinic,
        lambda: refund_client_credit(
            actor=getattr(clinic, role),
            client_id=clinic.client.id,
            amount=5_00,
            method=method,
            reason=reason,
        ),
        code,
    )


async def test_client_credit_is_not_a_method_for_money_received_or_given_back(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    error = await refused(
        clinic,
        lambda: record_payment(
            actor=clinic.staff, amount=1_00, method="CLIENT_CREDIT", pack_id=sale.pack.id
        ),
        ErrorCode.INVALID_INPUT,
    )
    assert "applyClientCredit" in error.message
    await record_payment(actor=clinic.staff, amount=1_00, method="CASH", pack_id=sale.pack.id)
    await refused(
        clinic,
        lambda: refund_payment(
            actor=clinic.manager,
            amount=1_00,
            method="CLIENT_CREDIT",
            reason="x",
            pack_id=sale.pack.id,
        ),
        ErrorCode.INVALID_INPUT,
    )


async def test_another_business_cannot_touch_the_credit(db):
    clinic = await build_clinic()
    await _credit_of(clinic, 10_00)
    sale = await sell(clinic)
    other = await build_clinic("Elsewhere")
    await refused(
        clinic,
        lambda: apply_client_credit(actor=other.staff, invoice_id=sale.invoice.id, amount=1_00),
        ErrorCode.NOT_FOUND,
    )
    await refused(
        clinic,
        lambda: refund_client_credit(
            actor=other.owner, client_id=clinic.client.id, amount=1_00, method="CASH", reason="x"
        ),
        ErrorCode.NOT_FOUND,
    )


async def test_a_cancelled_pack_refunds_to_the_credit_when_the_manager_chooses(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    await record_payment(actor=clinic.staff, amount=800_00, method="CARD", pack_id=sale.pack.id)

    result = await cancel_pack(
        actor=clinic.manager,
        pack_id=sale.pack.id,
        reason="moving interstate",
        refund=500_00,
        refund_to=RefundTo.CLIENT_CREDIT,
    )

    assert result.credit is not None and result.credit.amount == 500_00
    assert result.refund is not None and result.refund.method == PaymentMethod.CLIENT_CREDIT
    assert await credit_balance(None, clinic.client.id) == 500_00
    pack = await Pack.get(id=sale.pack.id)
    assert pack.amount_paid == 300_00
    # The sale charges what stays paid: nothing is owed, nothing is over-paid.
    assert await _owed(sale.invoice.id) == 0
    assert await events_of(clinic.business_id, EventType.PAYMENT_REFUNDED) == []
    (credited,) = await events_of(clinic.business_id, EventType.CLIENT_CREDITED)
    assert credited.pack_id == sale.pack.id
    assert credited.payload["reason"] == "Moved to client credit: moving interstate"


async def test_cancelling_a_paid_visit_moves_its_money_to_the_credit(db):
    clinic = await build_clinic()
    appointment = await create_appointment(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=clinic.physio.id,
        starts_at=utcnow(),
    )
    visit = await check_in_appointment(
        actor=clinic.staff, appointment_id=appointment.appointment.id
    )
    invoice_id = visit.line.invoice_id
    await record_payment(actor=clinic.staff, amount=80_00, method="CASH", invoice_id=invoice_id)

    await cancel_appointment(actor=clinic.staff, appointment_id=appointment.appointment.id)

    assert await _owed(invoice_id) == 0 and await invoice_paid(None, invoice_id) == 0
    assert await credit_balance(None, clinic.client.id) == 80_00


async def test_moving_visits_to_a_cheaper_pack_credits_the_difference(db):
    clinic = await build_clinic()
    dear = await add_template(
        clinic.owner, name="Dear", price=500_00, items=[(5, [clinic.massage])], session_price=100_00
    )
    cheap = await add_template(
        clinic.owner, name="Cheap", price=300_00, items=[(5, [clinic.massage])], session_price=60_00
    )
    first = (await sell(clinic, template=dear)).pack
    second = (await sell(clinic, template=cheap)).pack
    charge = await add_service_line(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=clinic.massage.id,
        issued_on=utcnow().date().replace(year=2020),
    )
    await allocate_invoice_line(actor=clinic.staff, line_id=charge.line.id, pack_id=first.id)
    await record_payment(
        actor=clinic.staff, amount=100_00, method="CARD", invoice_id=charge.invoice.id
    )

    await move_allocations(actor=clinic.staff, from_pack_id=first.id, to_pack_id=second.id)

    assert await _owed(charge.invoice.id) == 0
    assert await credit_balance(None, clinic.client.id) == 40_00


async def test_concurrent_applications_never_take_the_credit_below_zero(db):
    clinic = await build_clinic()
    await _credit_of(clinic, 100_00)
    sales = [await sell(clinic) for _ in range(4)]

    async def attempt(invoice_id: int) -> str:
        try:
            await apply_client_credit(actor=clinic.staff, invoice_id=invoice_id, amount=40_00)
        except DomainError as error:
            return error.code.value
        return "ok"

    outcomes = Counter(await asyncio.gather(*(attempt(s.invoice.id) for s in sales)))
    assert outcomes == {"ok": 2, "INSUFFICIENT_CREDIT": 2}
    assert await credit_balance(None, clinic.client.id) == 20_00
    entries = await CreditEntry.filter(client_id=clinic.client.id).order_by("id")
    running = 0
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running >= 0


async def test_the_migration_moves_existing_over_payments_to_credit(db):
    """An invoice left paid beyond its total before credit existed: the excess becomes credit."""
    migration = importlib.import_module("packgraph.migrations.0007_client_credit")
    clinic = await build_clinic()
    charge = await _paid_massage_visit(clinic)
    fine = await _paid_massage_visit(clinic, issued_on=utcnow().date().replace(year=2020))
    # As the old code left it: the line re-priced, the payment untouched.
    from packgraph.models import InvoiceLine

    await InvoiceLine.filter(id=charge.line.id).update(amount=0, unit_price=0)

    class Editor:
        client = connections.get("default")

    await migration.credit_overpaid_invoices(None, Editor())

    assert await _owed(charge.invoice.id) == 0
    assert await _owed(fine.invoice.id) == 0
    (entry,) = await CreditEntry.all()
    assert (entry.client_id, entry.amount, entry.balance_after, entry.invoice_id) == (
        clinic.client.id,
        90_00,
        90_00,
        charge.invoice.id,
    )
    (moved,) = await Payment.filter(credit_entry_id=entry.id)
    assert (moved.amount, moved.method) == (-90_00, PaymentMethod.CLIENT_CREDIT)
    assert (await Invoice.get(id=fine.invoice.id)).voided_at is None
