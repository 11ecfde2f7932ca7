"""Selling packs (SPEC §1.3): template copy, discount, validity, invoice, use-first-session."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from packgraph.domain.appointments import create_appointment
from packgraph.domain.catalog import TemplateItemSpec
from packgraph.domain.clock import add_months, validity_end
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.selling import CustomPackSpec, sell_pack
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    AutoRenew,
    EventType,
    InvoiceLine,
    LedgerKind,
    LineKind,
    Metric,
    Pack,
    PackItemService,
    PackStatus,
    PaymentStatus,
    Task,
)
from tests.domain.builders import (
    add_client,
    add_template,
    assert_ledger_consistent,
    build_clinic,
    event_types,
    events_of,
    item_usage,
    sell,
    snapshot_counts,
)

# Two days ago, to the minute: recent enough that 30 days of validity have not run out.
PURCHASE = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)


async def test_sale_copies_the_template_and_charges_the_final_price(db):
    # given the 10-massage template ($800)
    clinic = await build_clinic()

    # when it is sold with a $50 discount
    sale = await sell(clinic, discount=50_00, referrer="Dr Who", authorisation_number="A-1")

    # then the pack is a copy of the template at the final price, ACTIVE and UNPAID
    pack = sale.pack
    assert (pack.name, pack.metric, pack.price, pack.discount, pack.final_price) == (
        "10 massages",
        Metric.SESSIONS,
        800_00,
        50_00,
        750_00,
    )
    assert pack.template_id == clinic.ten_massages.id and pack.expires_at is None
    assert pack.status == PackStatus.ACTIVE and pack.payment_status == PaymentStatus.UNPAID
    assert pack.referrer == "Dr Who" and pack.authorisation_number == "A-1"
    assert await item_usage(pack.id) == [(0, 10)]
    eligible = await PackItemService.filter(item__pack_id=pack.id).values_list(
        "service_id", flat=True
    )
    assert list(eligible) == [clinic.massage.id]
    # and a PACK_SALE line at the final price on a new numbered invoice
    assert sale.invoice.number == "INV-00001" and sale.invoice.client_id == clinic.client.id
    assert (sale.line.kind, sale.line.pack_id, sale.line.amount) == (
        LineKind.PACK_SALE,
        pack.id,
        750_00,
    )
    assert sale.entry is None
    # and one PACK_SOLD event
    [event] = await events_of(clinic.business_id)
    assert event.type == EventType.PACK_SOLD and event.pack_id == pack.id
    assert event.client_id == clinic.client.id and event.actor == clinic.staff.label
    assert event.payload["finalPrice"] == 750_00 and event.payload["invoiceId"] == sale.invoice.id


async def test_validity_in_days_counts_from_the_purchase(db):
    clinic = await build_clinic()
    template = await add_template(clinic.owner, items=[(5, [clinic.massage])], validity_days=30)
    sale = await sell(clinic, template=template, purchased_at=PURCHASE)
    assert sale.pack.expires_at == PURCHASE + timedelta(days=30)


async def test_validity_in_months_is_a_calendar_month_in_the_business_timezone(db):
    # given a Sydney clinic and a template valid for one month
    clinic = await build_clinic(timezone="Australia/Sydney")
    template = await add_template(clinic.owner, items=[(5, [clinic.massage])], validity_months=1)

    # when sold
    sale = await sell(clinic, template=template, purchased_at=PURCHASE)

    # then it expires one calendar month later on the Sydney calendar, same local time
    sydney = ZoneInfo("Australia/Sydney")
    bought, expires = PURCHASE.astimezone(sydney), sale.pack.expires_at.astimezone(sydney)
    assert expires.date() == add_months(bought.date(), 1)
    assert (expires.hour, expires.minute) == (bought.hour, bought.minute)


def test_month_arithmetic_clamps_to_the_end_of_the_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    # 31 Jan 20:30 in Sydney is 31 Jan 09:30 UTC; a month later is 28 Feb 20:30 in Sydney
    end = validity_end(
        datetime(2026, 1, 31, 9, 30, tzinfo=UTC), days=None, months=1, timezone="Australia/Sydney"
    )
    assert end == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)


async def test_a_sale_that_would_be_expired_already_is_refused(db):
    clinic = await build_clinic()
    template = await add_template(clinic.owner, items=[(5, [clinic.massage])], validity_days=30)
    with pytest.raises(DomainError) as error:
        await sell(clinic, template=template, purchased_at=PURCHASE - timedelta(days=40))
    assert (error.value.code, error.value.field) == (ErrorCode.INVALID_INPUT, "expiresAt")


async def test_expiry_can_be_overridden_or_removed(db):
    clinic = await build_clinic()
    template = await add_template(clinic.owner, items=[(5, [clinic.massage])], validity_days=30)
    chosen = PURCHASE + timedelta(days=90)
    assert (
        await sell(clinic, template=template, purchased_at=PURCHASE, expires_at=chosen)
    ).pack.expires_at == chosen
    assert (await sell(clinic, template=template, expires_at=None)).pack.expires_at is None


async def test_custom_pack_with_two_items(db):
    clinic = await build_clinic()
    sale = await sell_pack(
        actor=clinic.staff,
        client_id=clinic.client.id,
        custom=CustomPackSpec(
            name="5 physio + 5 massage",
            metric=Metric.SESSIONS,
            price=700_00,
            items=[
                TemplateItemSpec(allowance=5, service_ids=[clinic.physio.id]),
                TemplateItemSpec(allowance=5, service_ids=[clinic.massage.id]),
            ],
            session_price=5_00,
            validity_days=60,
        ),
    )
    assert sale.pack.template_id is None and sale.pack.session_price == 5_00
    assert await item_usage(sale.pack.id) == [(0, 5), (0, 5)]
    assert sale.pack.expires_at is not None


async def test_sale_on_an_existing_invoice_adds_a_line(db):
    clinic = await build_clinic()
    first = await sell(clinic)
    second = await sell(clinic, invoice_id=first.invoice.id)
    assert second.invoice.id == first.invoice.id
    assert await InvoiceLine.filter(invoice_id=first.invoice.id).count() == 2


async def test_invoice_numbers_are_per_business(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    assert (await sell(clinic)).invoice.number == "INV-00001"
    assert (await sell(clinic)).invoice.number == "INV-00002"
    assert (await sell(other)).invoice.number == "INV-00001"


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"discount": 800_01}, ErrorCode.INVALID_INPUT, "discount"),
        ({"discount": -1}, ErrorCode.INVALID_INPUT, "discount"),
        ({"expires_at": PURCHASE - timedelta(days=1)}, ErrorCode.INVALID_INPUT, "expiresAt"),
        ({"invoice_id": 999_999}, ErrorCode.NOT_FOUND, "invoiceId"),
        ({"service_id": 1}, ErrorCode.INVALID_INPUT, "serviceId"),
    ],
)
async def test_invalid_sales_write_nothing(db, kwargs, code, field):
    clinic = await build_clinic()
    before = await snapshot_counts(clinic.business_id)
    with pytest.raises(DomainError) as error:
        await sell(clinic, purchased_at=PURCHASE, **kwargs)
    assert (error.value.code, error.value.field) == (code, field)
    assert await snapshot_counts(clinic.business_id) == before


async def test_unknown_and_foreign_ids_are_not_found(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    foreign_invoice = (await sell(other)).invoice
    before = await snapshot_counts(clinic.business_id)
    for kwargs in (
        {"client": other.client},
        {"template": other.ten_massages},
        {"invoice_id": foreign_invoice.id},
    ):
        with pytest.raises(DomainError) as error:
            await sell(clinic, **kwargs)
        assert error.value.code == ErrorCode.NOT_FOUND
    assert await snapshot_counts(clinic.business_id) == before


async def test_invoice_of_another_client_is_refused(db):
    clinic = await build_clinic()
    bo = await add_client(clinic.owner, "Bo")
    invoice = (await sell(clinic, client=bo)).invoice
    with pytest.raises(DomainError) as error:
        await sell(clinic, invoice_id=invoice.id)
    assert error.value.code == ErrorCode.INVALID_INPUT


async def test_integrations_cannot_sell(db):
    clinic = await build_clinic()
    with pytest.raises(DomainError) as error:
        await sell(clinic, actor=clinic.integration)
    assert error.value.code == ErrorCode.PERMISSION_DENIED


async def test_template_or_custom_exactly_one(db):
    clinic = await build_clinic()
    with pytest.raises(DomainError) as error:
        await sell_pack(actor=clinic.staff, client_id=clinic.client.id)
    assert error.value.code == ErrorCode.INVALID_INPUT


async def test_use_first_session_redeems_one_unit_at_once(db):
    # given a 10-massage template with a $15 session price
    clinic = await build_clinic()
    template = await add_template(clinic.owner, items=[(10, [clinic.massage])], session_price=15_00)

    # when it is sold with "use first session" and no service named
    sale = await sell(clinic, template=template, use_first_session=True)

    # then session 1 of 10 is used, on a SERVICE line of the sale invoice at the session price
    assert await item_usage(sale.pack.id) == [(1, 10)]
    assert sale.entry.kind == LedgerKind.REDEMPTION and sale.entry.session_number == 1
    line = sale.service_line
    assert (line.kind, line.service_id, line.pack_id, line.session_number, line.amount) == (
        LineKind.SERVICE,
        clinic.massage.id,
        sale.pack.id,
        1,
        15_00,
    )
    assert line.invoice_id == sale.invoice.id and sale.entry.invoice_line_id == line.id
    # and PACK_SOLD comes before SESSION_REDEEMED, which names the entry
    assert await event_types(clinic.business_id) == ["PACK_SOLD", "SESSION_REDEEMED"]
    redeemed = (await events_of(clinic.business_id, EventType.SESSION_REDEEMED))[0]
    assert redeemed.entry_id == sale.entry.id and redeemed.payload["firstSession"] is True
    await assert_ledger_consistent(sale.pack.id)


async def test_use_first_session_needs_a_service_when_the_pack_has_several(db):
    clinic = await build_clinic()
    template = await add_template(clinic.owner, items=[(8, [clinic.massage, clinic.physio])])
    before = await snapshot_counts(clinic.business_id)
    with pytest.raises(DomainError) as error:
        await sell(clinic, template=template, use_first_session=True)
    assert (error.value.code, error.value.field) == (ErrorCode.INVALID_INPUT, "serviceId")
    assert await snapshot_counts(clinic.business_id) == before
    sale = await sell(
        clinic, template=template, use_first_session=True, service_id=clinic.physio.id
    )
    assert sale.service_line.service_id == clinic.physio.id


async def test_use_first_session_with_an_appointment_marks_it_attended(db):
    clinic = await build_clinic()
    appointment = (
        await create_appointment(
            actor=clinic.staff,
            client_id=clinic.client.id,
            service_id=clinic.massage.id,
            starts_at=datetime.now(UTC),
        )
    ).appointment
    sale = await sell(clinic, use_first_session=True, appointment_id=appointment.id)
    stored = await Appointment.get(id=appointment.id)
    assert stored.status == AppointmentStatus.ATTENDED
    assert sale.entry.appointment_id == appointment.id
    assert sale.service_line.appointment_id == appointment.id


async def test_use_first_session_of_a_service_outside_the_pack_sells_nothing(db):
    clinic = await build_clinic()
    before = await snapshot_counts(clinic.business_id)
    with pytest.raises(DomainError) as error:
        await sell(clinic, use_first_session=True, service_id=clinic.long_massage.id)
    assert error.value.code == ErrorCode.SERVICE_NOT_IN_PACK
    assert await snapshot_counts(clinic.business_id) == before


async def test_use_first_session_of_a_one_session_pack_uses_it_up_and_renews(db):
    # given a one-session template that renews when fully used
    clinic = await build_clinic()
    template = await add_template(
        clinic.owner, items=[(1, [clinic.massage])], auto_renew=AutoRenew.ON_FULLY_USED
    )

    # when sold with its first session used
    sale = await sell(clinic, template=template, use_first_session=True)

    # then the pack is FULLY_USED, a task is raised and a new UNPAID pack is sold from the template
    assert sale.pack.status == PackStatus.FULLY_USED
    assert await event_types(clinic.business_id) == [
        "PACK_SOLD",
        "SESSION_REDEEMED",
        "PACK_FULLY_USED",
        "PACK_SOLD",
    ]
    assert await Task.filter(business_id=clinic.business_id, pack_id=sale.pack.id).count() == 1
    renewed = await Pack.filter(client_id=clinic.client.id).exclude(id=sale.pack.id).get()
    assert renewed.template_id == template.id and renewed.status == PackStatus.ACTIVE
    assert renewed.payment_status == PaymentStatus.UNPAID
    last = (await events_of(clinic.business_id))[-1]
    assert last.pack_id == renewed.id and last.payload["renewedFromPackId"] == sale.pack.id


async def test_a_free_pack_is_paid(db):
    clinic = await build_clinic()
    sale = await sell(clinic, discount=800_00)
    assert sale.pack.final_price == 0 and sale.pack.payment_status == PaymentStatus.PAID


async def test_sale_retry_with_the_same_key_sells_once(db):
    clinic = await build_clinic()
    first = await sell(clinic, use_first_session=True, idempotency_key="sale-1")
    again = await sell(clinic, use_first_session=True, idempotency_key="sale-1")
    assert again.replayed and not first.replayed
    assert (again.pack.id, again.entry.id, again.invoice.id) == (
        first.pack.id,
        first.entry.id,
        first.invoice.id,
    )
    assert await Pack.filter(business_id=clinic.business_id).count() == 1
    assert await event_types(clinic.business_id) == ["PACK_SOLD", "SESSION_REDEEMED"]
    with pytest.raises(DomainError) as error:
        await sell(clinic, idempotency_key="sale-1")
    assert error.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
