"""The Power Diary help articles' workflows, each as one test named after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from packgraph.domain.appointments import check_in_appointment, create_appointment
from packgraph.domain.catalog import set_client_billing_preference
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.invoices import invoice_total
from packgraph.domain.payments import record_payment
from packgraph.domain.redemptions import (
    allocate_invoice_line,
    delete_pack,
    move_allocations,
    unallocate_invoice_line,
)
from packgraph.models import EventType, InvoiceLine, LineKind, Pack, Task, TaskKind
from tests.domain.builders import (
    add_template,
    assert_ledger_consistent,
    build_clinic,
    events_of,
    item_usage,
    sell,
)

NOW = datetime.now(UTC)


async def _visit(clinic, days_ago: int = 0, **kwargs):
    """Book and check in a massage ``days_ago`` days ago."""
    appointment = (
        await create_appointment(
            actor=clinic.staff,
            client_id=clinic.client.id,
            service_id=clinic.massage.id,
            starts_at=NOW - timedelta(days=days_ago),
            **kwargs,
        )
    ).appointment
    return await check_in_appointment(actor=clinic.staff, appointment_id=appointment.id)


async def _two_visits_on_the_wrong_pack(clinic):
    """A client with two open packs; two visits on different days went to the wrong one."""
    wrong = (await sell(clinic, purchased_at=NOW - timedelta(days=10))).pack
    right = (await sell(clinic, purchased_at=NOW - timedelta(days=10))).pack
    visits = [
        await _visit(clinic, days_ago=5, chosen_pack_id=wrong.id),
        await _visit(clinic, days_ago=2, chosen_pack_id=wrong.id),
    ]
    assert {visit.pack.id for visit in visits} == {wrong.id}
    return wrong, right, visits


async def test_fix_incorrect_pack_by_removing_it_from_each_invoice_deleting_it_and_applying_the_right_one(  # noqa: E501
    db,
):
    # given two visits allocated to the wrong pack, on two invoices
    clinic = await build_clinic()
    wrong, right, visits = await _two_visits_on_the_wrong_pack(clinic)

    # when deleting it straight away, it is refused and the invoices are named
    with pytest.raises(DomainError) as error:
        await delete_pack(actor=clinic.manager, pack_id=wrong.id)
    assert error.value.code == ErrorCode.PACK_HAS_INVOICES
    for visit in visits:
        assert visit.invoice.number in error.value.message

    # when the pack is removed from each invoice (the red X), then deleted
    for visit in visits:
        await unallocate_invoice_line(actor=clinic.staff, line_id=visit.line.id)
    await delete_pack(actor=clinic.manager, pack_id=wrong.id)

    # and the right pack is applied to each invoice
    for visit in visits:
        await allocate_invoice_line(actor=clinic.staff, line_id=visit.line.id, pack_id=right.id)

    # then the right pack shows sessions 1 and 2 and the wrong one is gone from lists
    assert await item_usage(right.id) == [(2, 10)]
    lines = await InvoiceLine.filter(id__in=[v.line.id for v in visits]).order_by("id")
    assert [(line.pack_id, line.session_number) for line in lines] == [(right.id, 1), (right.id, 2)]
    assert await Pack.filter(client_id=clinic.client.id, deleted_at__isnull=True).count() == 1
    assert await item_usage(wrong.id) == [(0, 10)]
    await assert_ledger_consistent(wrong.id)
    await assert_ledger_consistent(right.id)


async def test_fix_incorrect_pack_with_one_move_allocations(db):
    # given two visits allocated to the wrong pack
    clinic = await build_clinic()
    wrong, right, visits = await _two_visits_on_the_wrong_pack(clinic)

    # when every allocation is moved in one action and the wrong pack deleted
    await move_allocations(actor=clinic.staff, from_pack_id=wrong.id, to_pack_id=right.id)
    await delete_pack(actor=clinic.manager, pack_id=wrong.id)

    # then the same end state as the many-step way
    assert await item_usage(right.id) == [(2, 10)]
    lines = await InvoiceLine.filter(id__in=[v.line.id for v in visits]).order_by("id")
    assert [(line.pack_id, line.session_number) for line in lines] == [(right.id, 1), (right.id, 2)]
    types = [event.type for event in await events_of(clinic.business_id)][-4:]
    assert types == [
        EventType.ALLOCATIONS_MOVED,
        EventType.ALLOCATIONS_MOVED,
        EventType.PACK_DELETED,
        EventType.INVOICE_LINE_VOIDED,
    ]
    # and nothing stays owed for the mistaken, unpaid pack: its sale line is voided
    sale = await InvoiceLine.get(pack_id=wrong.id, kind=LineKind.PACK_SALE)
    assert (sale.voided_amount, sale.void_reason) == (sale.amount, "Pack deleted")
    assert await invoice_total(None, sale.invoice_id) == 0


async def test_allocate_pack_retrospectively_to_a_paid_invoice(db):
    # given a visit last week, billed at the service price and paid in full
    clinic = await build_clinic()
    visit = await _visit(clinic, days_ago=7)
    assert visit.pack is None and visit.line.amount == 90_00
    await record_payment(
        actor=clinic.staff, invoice_id=visit.invoice.id, amount=90_00, method="CARD"
    )

    # when a pack agreed today is allocated to that paid invoice's line
    pack = (await sell(clinic)).pack
    result = await allocate_invoice_line(actor=clinic.staff, line_id=visit.line.id, pack_id=pack.id)

    # then it counts as session 1, flagged retrospective (the visit predates the purchase)
    assert result.line.retrospective and result.line.session_number == 1
    assert result.entry.session_number == 1 and await item_usage(pack.id) == [(1, 10)]
    [event] = await events_of(clinic.business_id, EventType.SESSION_REDEEMED)
    assert event.payload["retrospective"] is True


async def test_preferred_pack_added_automatically_to_new_appointments(db):
    # given an insurer authorisation pack set as the client's preferred pack, and another pack
    # that expires sooner
    clinic = await build_clinic()
    authorisation = (
        await sell(clinic, authorisation_number="INS-8", expires_at=NOW + timedelta(days=90))
    ).pack
    sooner = (await sell(clinic, expires_at=NOW + timedelta(days=10))).pack
    await set_client_billing_preference(
        actor=clinic.staff, client_id=clinic.client.id, pack_id=authorisation.id
    )

    # when new appointments are made and checked in
    first = await _visit(clinic)
    second = await _visit(clinic)

    # then each was booked with the preferred pack and used it
    assert first.appointment.chosen_pack_id == authorisation.id
    assert (first.pack.id, second.pack.id) == (authorisation.id, authorisation.id)
    assert await item_usage(sooner.id) == [(0, 10)]


async def test_task_when_the_last_session_is_used(db):
    # given "create a task when the last appointment in a pack is used" and a 3-session pack
    clinic = await build_clinic(create_task_on_pack_end=True)
    template = await add_template(clinic.owner, items=[(3, [clinic.massage])])
    pack = (await sell(clinic, template=template)).pack

    # when the first two sessions are used there is no task
    await _visit(clinic)
    await _visit(clinic)
    assert await Task.filter(business_id=clinic.business_id).count() == 0

    # when the last one is used
    await _visit(clinic)

    # then one PACK_USED_UP task for that pack and client, and a PACK_FULLY_USED event
    [task] = await Task.filter(business_id=clinic.business_id)
    assert (task.kind, task.pack_id, task.client_id, task.done_at) == (
        TaskKind.PACK_USED_UP,
        pack.id,
        clinic.client.id,
        None,
    )
    [event] = await events_of(clinic.business_id, EventType.PACK_FULLY_USED)
    assert event.pack_id == pack.id
