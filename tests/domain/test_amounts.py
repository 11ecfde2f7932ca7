"""Money in messages (issue 14): staff read "A$300.00 left to pay", never "30000"."""

from __future__ import annotations

import pytest

from packgraph.domain.adjustments import correct_pack_balance
from packgraph.domain.amounts import money_text, units_text
from packgraph.domain.errors import ErrorCode
from packgraph.domain.payments import apply_client_credit, record_payment
from packgraph.models import Business, Metric, PackItem
from tests.domain.builders import add_template, build_clinic, refused, sell


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (30000, "AUD", "A$300.00"),
        (5, "USD", "$0.05"),
        (-1234, "EUR", "-€12.34"),
        (1500, "JPY", "¥1,500"),  # no minor units
        (1234567, "KWD", "KWD1,234.567"),  # three
        (10**12, "AUD", "A$10,000,000,000.00"),
    ],
)
def test_money_is_worded_in_its_currency_with_its_own_minor_digits(minor, currency, text):
    assert money_text(minor, currency).replace("\xa0", "") == text


def test_units_are_worded_in_the_pack_s_metric():
    assert units_text(1, Metric.SESSIONS, "AUD") == "1 session"
    assert units_text(3, Metric.SESSIONS, "AUD") == "3 sessions"
    assert units_text(90, Metric.MINUTES, "AUD") == "90 minutes"
    assert units_text(12000, Metric.MONEY, "AUD") == "A$120.00"


async def test_refusals_say_the_money_in_the_business_s_currency(db):
    # given a clinic billing in AUD, a $800 pack with $500 paid
    clinic = await build_clinic()
    sale = await sell(clinic)
    await record_payment(actor=clinic.staff, pack_id=sale.pack.id, amount=500_00, method="CARD")

    # then paying too much says what is left, in dollars
    error = await refused(
        clinic,
        lambda: record_payment(
            actor=clinic.staff, invoice_id=sale.invoice.id, amount=300_01, method="CARD"
        ),
        ErrorCode.OVERPAYMENT,
    )
    assert error.message == f"invoice {sale.invoice.number} has A$300.00 left to pay"
    # and so does applying credit the client does not have
    error = await refused(
        clinic,
        lambda: apply_client_credit(actor=clinic.staff, invoice_id=sale.invoice.id, amount=10_00),
        ErrorCode.INSUFFICIENT_CREDIT,
    )
    assert error.message == "the client has A$0.00 in credit, less than A$10.00"


async def test_a_business_in_yen_reads_yen(db):
    clinic = await build_clinic()
    await Business.filter(id=clinic.business_id).update(currency="JPY")
    card = await add_template(
        clinic.owner,
        name="Gift card",
        metric=Metric.MONEY,
        price=5000,
        items=[(5000, [clinic.massage])],
    )
    pack = (await sell(clinic, template=card)).pack
    [item] = await PackItem.filter(pack_id=pack.id)

    error = await refused(
        clinic,
        lambda: correct_pack_balance(
            actor=clinic.manager, pack_id=pack.id, item_id=item.id, delta=-6000, reason="x"
        ),
        ErrorCode.INSUFFICIENT_BALANCE,
    )
    assert error.message == "only ¥5,000 left to mark as used"
