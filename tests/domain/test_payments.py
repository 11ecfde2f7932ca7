"""Payments and refunds (SPEC §1.2, §1.7, §6.1): partial payments, refunds (a manager's act, with
a reason), over-payment refused, the payment badge kept with conditional updates, invoice payments
allocated to the packs sold on the invoice, and a retried payment recorded once."""

from __future__ import annotations

import asyncio
import importlib
from datetime import datetime
from types import SimpleNamespace

import pytest
from tortoise import Tortoise

from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.invoices import add_service_line
from packgraph.domain.payment_allocation import payment_status_for
from packgraph.domain.payments import record_payment, refund_payment
from packgraph.models import Event, EventType, Pack, PaymentMethod, PaymentStatus
from packgraph.models.visits import Payment
from tests.domain.builders import (
    add_template,
    build_clinic,
    events_of,
    reload_pack,
    sell,
    snapshot_counts,
)


async def _assert_pack_money_consistent(pack_id: int) -> None:
    pack = await Pack.get(id=pack_id)
    paid = sum(await Payment.filter(pack_id=pack_id).values_list("amount", flat=True))
    assert pack.amount_paid == paid
    assert 0 <= pack.amount_paid <= pack.final_price
    assert pack.payment_status == payment_status_for(paid, pack.final_price)


async def _assert_refused(
    clinic, code: ErrorCode, operation=record_payment, **kwargs
) -> DomainError:
    before = await snapshot_counts(clinic.business_id)
    with pytest.raises(DomainError) as error:
        await operation(**kwargs)
    assert error.value.code == code, error.value
    assert await snapshot_counts(clinic.business_id) == before
    return error.value


def test_payment_status_rule():
    assert payment_status_for(0, 800) == PaymentStatus.UNPAID
    assert payment_status_for(1, 800) == PaymentStatus.PARTIAL
    assert payment_status_for(800, 800) == PaymentStatus.PAID
    # A free pack is paid by definition.
    assert payment_status_for(0, 0) == PaymentStatus.PAID


async def test_payment_on_a_pack_records_it_bumps_the_version_and_emits_an_event(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    pack = sale.pack

    result = await record_payment(actor=clinic.staff, amount=300_00, method="CARD", pack_id=pack.id)

    assert result.pack.amount_paid == 300_00
    assert result.pack.payment_status == PaymentStatus.PARTIAL
    assert result.pack.version > pack.version
    payment = await Payment.get(id=result.payment.id)
    assert (payment.amount, payment.method, payment.pack_id) == (300_00, "CARD", pack.id)
    # A payment on a pack is attached to the invoice that sold it.
    assert payment.invoice_id == sale.invoice.id
    assert payment.staff_id == clinic.staff.staff_id
    assert result.invoice.id == sale.invoice.id
    [event] = await events_of(clinic.business_id, EventType.PAYMENT_RECORDED)
    assert event.payment_id == payment.id
    assert event.pack_id == pack.id
    assert event.client_id == clinic.client.id
    assert event.payload["amount"] == 300_00
    assert event.payload["amountPaid"] == 300_00
    assert event.payload["paymentStatusFrom"] == "UNPAID"
    assert event.payload["paymentStatusTo"] == "PARTIAL"
    assert event.payload["invoiceNumber"] == sale.invoice.number
    await _assert_pack_money_consistent(pack.id)


async def test_paying_more_than_the_pack_final_price_is_refused(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, discount=100_00)).pack  # final price 700
    await record_payment(actor=clinic.staff, amount=600_00, method="CASH", pack_id=pack.id)

    await _assert_refused(
        clinic,
        ErrorCode.OVERPAYMENT,
        actor=clinic.staff,
        amount=100_01,
        method="CASH",
        pack_id=pack.id,
    )

    result = await record_payment(actor=clinic.staff, amount=100_00, method="CASH", pack_id=pack.id)
    assert result.pack.payment_status == PaymentStatus.PAID
    await _assert_pack_money_consistent(pack.id)


async def test_refund_is_a_negative_payment_at_most_what_was_paid(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await record_payment(actor=clinic.staff, amount=800_00, method="CARD", pack_id=pack.id)

    await _assert_refused(
        clinic,
        ErrorCode.REFUND_TOO_LARGE,
        refund_payment,
        actor=clinic.manager,
        amount=800_01,
        method="CARD",
        reason="moved away",
        pack_id=pack.id,
    )
    result = await refund_payment(
        actor=clinic.manager, amount=200_00, method="CARD", reason="moved away", pack_id=pack.id
    )

    assert result.payment.amount == -200_00
    assert (result.payment.method, result.payment.reason) == (PaymentMethod.CARD, "moved away")
    assert result.pack.amount_paid == 600_00
    assert result.pack.payment_status == PaymentStatus.PARTIAL
    [event] = await events_of(clinic.business_id, EventType.PAYMENT_REFUNDED)
    assert event.payload["refund"] is True
    assert event.payload["reason"] == "moved away"
    assert event.payload["amount"] == -200_00
    assert event.payload["paymentStatusFrom"] == "PAID"
    await refund_payment(
        actor=clinic.owner, amount=600_00, method="CASH", reason="closed", pack_id=pack.id
    )
    assert (await reload_pack(pack.id)).payment_status == PaymentStatus.UNPAID
    await _assert_pack_money_consistent(pack.id)


async def test_refunds_are_a_managers_act_with_a_reason_and_payments_are_positive(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await record_payment(actor=clinic.staff, amount=800_00, method="CARD", pack_id=pack.id)
    refund = {"amount": 100_00, "method": "CARD", "reason": "goodwill", "pack_id": pack.id}

    await _assert_refused(
        clinic, ErrorCode.PERMISSION_DENIED, refund_payment, actor=clinic.staff, **refund
    )
    for changes, code, field in (
        ({"reason": "  "}, ErrorCode.REASON_REQUIRED, "reason"),
        ({"reason": "x" * 501}, ErrorCode.INVALID_INPUT, "reason"),
        ({"amount": -100_00}, ErrorCode.INVALID_INPUT, "amount"),
        ({"amount": 0}, ErrorCode.INVALID_INPUT, "amount"),
        ({"method": "REFUND"}, ErrorCode.INVALID_INPUT, "method"),
    ):
        error = await _assert_refused(
            clinic,
            code,
            refund_payment,
            actor=clinic.manager,
            **{**refund, **changes},
        )
        assert error.field == field
    # A negative payment is not a way round it, for anyone.
    for actor in (clinic.staff, clinic.owner):
        error = await _assert_refused(
            clinic,
            ErrorCode.INVALID_INPUT,
            actor=actor,
            amount=-100_00,
            method="CARD",
            pack_id=pack.id,
        )
        assert error.field == "amount"


async def test_a_retried_payment_is_recorded_once(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    payment = {"actor": clinic.staff, "amount": 300_00, "method": "CARD", "pack_id": pack.id}

    first = await record_payment(**payment, idempotency_key="till-7")
    again = await record_payment(**payment, idempotency_key="till-7")

    assert again.replayed and not first.replayed
    assert again.payment.id == first.payment.id
    assert (await reload_pack(pack.id)).amount_paid == 300_00
    assert len(await events_of(clinic.business_id, EventType.PAYMENT_RECORDED)) == 1
    await _assert_refused(
        clinic,
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        **{**payment, "amount": 200_00},
        idempotency_key="till-7",
    )
    # The same for a refund.
    refund = {"actor": clinic.manager, "amount": 50_00, "method": "CASH", "reason": "r"}
    await refund_payment(**refund, pack_id=pack.id, idempotency_key="back-1")
    await refund_payment(**refund, pack_id=pack.id, idempotency_key="back-1")
    assert (await reload_pack(pack.id)).amount_paid == 250_00
    await _assert_pack_money_consistent(pack.id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 10**15}, "amount"),
        ({"method": "  "}, "method"),
        ({"method": "EFTPOS"}, "method"),
        ({"method": "card"}, "method"),
        ({"received_at": datetime(2026, 1, 1)}, "receivedAt"),
        ({"pack_id": None}, "invoiceId"),
    ],
)
async def test_bad_payment_input_is_refused(db, changes, field):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    arguments = {"actor": clinic.staff, "amount": 100, "method": "CARD", "pack_id": pack.id}

    error = await _assert_refused(clinic, ErrorCode.INVALID_INPUT, **{**arguments, **changes})

    assert error.field == field


async def test_unknown_or_foreign_pack_and_invoice_are_not_found(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    foreign = await sell(other)

    for target in (
        {"pack_id": foreign.pack.id},
        {"pack_id": 999_999},
        {"invoice_id": foreign.invoice.id},
        {"invoice_id": 999_999},
    ):
        await _assert_refused(
            clinic, ErrorCode.NOT_FOUND, actor=clinic.owner, amount=1, method="CARD", **target
        )
    assert (await reload_pack(foreign.pack.id)).amount_paid == 0


async def test_an_integration_cannot_record_payments(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack

    await _assert_refused(
        clinic,
        ErrorCode.PERMISSION_DENIED,
        actor=clinic.integration,
        amount=1,
        method="CARD",
        pack_id=pack.id,
    )


async def test_payment_on_the_sale_invoice_goes_to_the_pack(db):
    clinic = await build_clinic()
    sale = await sell(clinic)

    result = await record_payment(
        actor=clinic.staff, amount=500_00, method="CARD", invoice_id=sale.invoice.id
    )

    assert result.pack is not None and result.pack.id == sale.pack.id
    assert result.payment.pack_id == sale.pack.id
    assert result.payment.invoice_id == sale.invoice.id
    assert (await reload_pack(sale.pack.id)).amount_paid == 500_00
    await _assert_pack_money_consistent(sale.pack.id)


async def test_invoice_payment_fills_packs_in_line_order_then_stays_on_the_invoice(db):
    clinic = await build_clinic()
    five = await add_template(
        clinic.owner, name="5 massages", price=400_00, items=[(5, [clinic.massage])]
    )
    first = await sell(clinic)  # 800
    second = await sell(clinic, template=five, invoice_id=first.invoice.id)  # 400
    await add_service_line(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=clinic.physio.id,
        invoice_id=first.invoice.id,
    )  # 80, not allocated to any pack
    # Total 1280. Pay 1000: 800 to the first pack, 200 to the second.
    result = await record_payment(
        actor=clinic.staff, amount=1000_00, method="CARD", invoice_id=first.invoice.id
    )

    assert [(p.pack_id, p.amount) for p in result.payments] == [
        (first.pack.id, 800_00),
        (second.pack.id, 200_00),
    ]
    assert [p.id for p in result.packs] == [first.pack.id, second.pack.id]
    assert (await reload_pack(first.pack.id)).payment_status == PaymentStatus.PAID
    assert (await reload_pack(second.pack.id)).payment_status == PaymentStatus.PARTIAL
    events = await events_of(clinic.business_id, EventType.PAYMENT_RECORDED)
    assert [(e.pack_id, e.payment_id) for e in events] == [
        (first.pack.id, result.payments[0].id),
        (second.pack.id, result.payments[1].id),
    ]

    # 280 left: 200 completes the second pack, 80 pays the service line (unallocated).
    rest = await record_payment(
        actor=clinic.staff, amount=280_00, method="CASH", invoice_id=first.invoice.id
    )
    assert [(p.pack_id, p.amount) for p in rest.payments] == [
        (second.pack.id, 200_00),
        (None, 80_00),
    ]
    unallocated = (await events_of(clinic.business_id, EventType.PAYMENT_RECORDED))[-1]
    assert unallocated.pack_id is None and unallocated.client_id == clinic.client.id

    # The invoice is fully paid: one more cent is an over-payment.
    await _assert_refused(
        clinic,
        ErrorCode.OVERPAYMENT,
        actor=clinic.staff,
        amount=1,
        method="CASH",
        invoice_id=first.invoice.id,
    )
    for pack in (first.pack, second.pack):
        await _assert_pack_money_consistent(pack.id)


async def test_invoice_refund_comes_off_the_unallocated_part_first_then_packs_in_reverse(db):
    clinic = await build_clinic()
    five = await add_template(
        clinic.owner, name="5 massages", price=400_00, items=[(5, [clinic.massage])]
    )
    first = await sell(clinic)
    second = await sell(clinic, template=five, invoice_id=first.invoice.id)
    await add_service_line(
        actor=clinic.staff,
        client_id=clinic.client.id,
        service_id=clinic.physio.id,
        invoice_id=first.invoice.id,
    )
    await record_payment(
        actor=clinic.staff, amount=1280_00, method="CARD", invoice_id=first.invoice.id
    )

    await _assert_refused(
        clinic,
        ErrorCode.REFUND_TOO_LARGE,
        refund_payment,
        actor=clinic.manager,
        amount=1280_01,
        method="CARD",
        reason="r",
        invoice_id=first.invoice.id,
    )
    refund = await refund_payment(
        actor=clinic.manager, amount=500_00, method="CARD", reason="r", invoice_id=first.invoice.id
    )

    assert [(p.pack_id, p.amount) for p in refund.payments] == [
        (None, -80_00),
        (second.pack.id, -400_00),
        (first.pack.id, -20_00),
    ]
    assert (await reload_pack(second.pack.id)).payment_status == PaymentStatus.UNPAID
    assert (await reload_pack(first.pack.id)).amount_paid == 780_00
    for pack in (first.pack, second.pack):
        await _assert_pack_money_consistent(pack.id)


async def test_pack_payment_over_the_invoice_total_is_refused(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    await record_payment(
        actor=clinic.staff, amount=800_00, method="CARD", invoice_id=sale.invoice.id
    )

    await _assert_refused(
        clinic,
        ErrorCode.OVERPAYMENT,
        actor=clinic.staff,
        amount=1,
        method="CARD",
        pack_id=sale.pack.id,
    )


async def test_pack_and_invoice_given_together_must_match(db):
    clinic = await build_clinic()
    first = await sell(clinic)
    second = await sell(clinic)

    error = await _assert_refused(
        clinic,
        ErrorCode.INVALID_INPUT,
        actor=clinic.staff,
        amount=100,
        method="CARD",
        pack_id=first.pack.id,
        invoice_id=second.invoice.id,
    )
    assert error.field == "packId"

    result = await record_payment(
        actor=clinic.staff,
        amount=100,
        method="CARD",
        pack_id=first.pack.id,
        invoice_id=first.invoice.id,
    )
    assert result.pack.id == first.pack.id


async def test_concurrent_payments_never_overpay_a_pack(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack  # 800

    async def pay() -> str:
        try:
            await record_payment(actor=clinic.staff, amount=100_00, method="CARD", pack_id=pack.id)
        except DomainError as error:
            return error.code.value
        return "ok"

    outcomes = await asyncio.gather(*(pay() for _ in range(10)))

    assert sorted(outcomes) == ["OVERPAYMENT"] * 2 + ["ok"] * 8
    after = await reload_pack(pack.id)
    assert after.amount_paid == 800_00 and after.payment_status == PaymentStatus.PAID
    assert len(await events_of(clinic.business_id, EventType.PAYMENT_RECORDED)) == 8
    await _assert_pack_money_consistent(pack.id)


async def test_concurrent_invoice_and_pack_payments_never_overpay(db):
    clinic = await build_clinic()
    sale = await sell(clinic)  # 800 on its own invoice

    async def pay(where: dict) -> str:
        try:
            await record_payment(actor=clinic.staff, amount=100_00, method="CARD", **where)
        except DomainError as error:
            return error.code.value
        return "ok"

    targets = [{"invoice_id": sale.invoice.id}, {"pack_id": sale.pack.id}] * 6
    outcomes = await asyncio.gather(*(pay(where) for where in targets))

    assert sorted(outcomes) == ["OVERPAYMENT"] * 4 + ["ok"] * 8
    paid = await Payment.filter(invoice_id=sale.invoice.id).values_list("amount", flat=True)
    assert sum(paid) == 800_00
    await _assert_pack_money_consistent(sale.pack.id)


async def test_paying_a_shared_invoice_changes_only_the_packs_the_money_reaches(db):
    """Issue 23: a pack the payment does not reach keeps its version and ``updated_at`` (a
    dashboard replaces a card only when an event brings a higher version, and none comes for it);
    the pack it reaches moves both, with its event."""
    clinic = await build_clinic()
    first = await sell(clinic)  # 800
    second = await sell(clinic, invoice_id=first.invoice.id)  # 800, on the same invoice
    before = {pack.id: await reload_pack(pack.id) for pack in (first.pack, second.pack)}

    result = await record_payment(
        actor=clinic.staff, amount=800_00, method="CARD", invoice_id=first.invoice.id
    )

    assert [pack.id for pack in result.packs] == [first.pack.id]
    untouched = await reload_pack(second.pack.id)
    assert untouched.version == before[second.pack.id].version
    assert untouched.updated_at == before[second.pack.id].updated_at
    assert [e.type for e in await Event.filter(pack_id=second.pack.id)] == [EventType.PACK_SOLD]
    paid = await reload_pack(first.pack.id)
    assert paid.version == before[first.pack.id].version + 1
    assert paid.updated_at > before[first.pack.id].updated_at
    # A refund reaches the first pack only, the same way.
    await refund_payment(
        actor=clinic.manager, amount=100_00, method="CARD", reason="r", invoice_id=first.invoice.id
    )
    assert (await reload_pack(second.pack.id)).version == before[second.pack.id].version
    assert (await reload_pack(first.pack.id)).version == before[first.pack.id].version + 2


async def test_a_payment_on_a_pack_moves_its_updated_at(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    before = await reload_pack(sale.pack.id)
    await record_payment(actor=clinic.staff, amount=100_00, method="CASH", pack_id=sale.pack.id)
    after = await reload_pack(sale.pack.id)
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at


payment_methods = importlib.import_module("packgraph.migrations.0005_payment_methods")


async def test_migration_0005_maps_free_text_methods_and_keeps_what_it_cannot(db):
    # given payments recorded before methods were an enum, as free text
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    connection = Tortoise.get_connection("default")
    marks = ("$1", "$2") if connection.capabilities.dialect == "postgres" else ("?", "?")
    texts = {"eftpos": 10, "Bank transfer": 20, "CASH": 30, "PayPal": 40, "HICAPS": 50}
    for amount in texts.values():
        await record_payment(actor=clinic.staff, amount=amount, method="CARD", pack_id=pack.id)
    await refund_payment(actor=clinic.manager, amount=5, method="CARD", reason="r", pack_id=pack.id)
    # The model no longer accepts free text: written as the old code wrote it.
    for text, amount in {**texts, "REFUND": -5}.items():
        await connection.execute_query(
            f'UPDATE "payment" SET "method" = {marks[0]}, "reason" = \'\' '
            f'WHERE "amount" = {marks[1]}',
            [text, amount],
        )

    # when the migration maps them
    editor = SimpleNamespace(client=Tortoise.get_connection("default"))
    await payment_methods.map_payment_methods(None, editor)

    # then every row has an enum method, and a text it could not map is kept in the reason
    rows = (
        await Payment.filter(pack_id=pack.id)
        .order_by("id")
        .values_list("amount", "method", "reason")
    )
    assert rows == [
        (10, "CARD", ""),
        (20, "BANK_TRANSFER", ""),
        (30, "CASH", ""),
        (40, "OTHER", "method: PayPal"),
        (50, "INSURER", ""),
        (-5, "OTHER", payment_methods.LEGACY_REFUND),
    ]
