"""Redeeming, allocating, unallocating, moving and deleting (SPEC §1.1, §1.4, §1.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from packgraph.domain.catalog import TemplateItemSpec
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.invoices import add_service_line
from packgraph.domain.redemptions import (
    allocate_invoice_line,
    delete_pack,
    move_allocations,
    redeem_session,
    unallocate_invoice_line,
)
from packgraph.domain.selling import CustomPackSpec, sell_pack
from packgraph.models import (
    Client,
    EventType,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    Metric,
    Pack,
    PackStatus,
    PaymentStatus,
)
from tests.domain.builders import (
    add_client,
    add_template,
    assert_ledger_consistent,
    build_clinic,
    event_types,
    events_of,
    item_usage,
    reload_pack,
    sell,
    sell_sessions,
    snapshot_counts,
)


async def _redeem(clinic, pack_id, service=None, **kwargs):
    return await redeem_session(
        actor=clinic.staff, pack_id=pack_id, service_id=(service or clinic.massage).id, **kwargs
    )


# --- redeem_session -----------------------------------------------------------------------------


async def test_walk_in_redemption_charges_an_allocated_line_and_numbers_the_session(db):
    # given a 10-massage pack with a $12 session price
    clinic = await build_clinic()
    template = await add_template(clinic.owner, items=[(10, [clinic.massage])], session_price=12_00)
    pack = (await sell(clinic, template=template)).pack

    # when three walk-in massages are redeemed
    results = [await _redeem(clinic, pack.id) for _ in range(3)]

    # then 3/10 are used, the sessions are numbered 1..3 on entries and lines
    assert await item_usage(pack.id) == [(3, 10)]
    assert [r.entry.session_number for r in results] == [1, 2, 3]
    assert [r.line.session_number for r in results] == [1, 2, 3]
    last = results[-1]
    assert (last.line.pack_id, last.line.unit_price, last.line.amount) == (pack.id, 12_00, 12_00)
    assert last.entry.staff_id == clinic.staff.staff_id and last.entry.quantity == 1
    # and the lines go on the client's invoice for today
    assert len({r.invoice.id for r in results}) == 1
    # and one SESSION_REDEEMED event per redemption, naming its entry
    events = await events_of(clinic.business_id, EventType.SESSION_REDEEMED)
    assert [e.entry_id for e in events] == [r.entry.id for r in results]
    assert events[-1].payload["sessionNumber"] == 3 and events[-1].payload["used"] == 3
    assert last.pack.version > pack.version
    await assert_ledger_consistent(pack.id)


async def test_last_session_makes_the_pack_fully_used(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 2)
    await _redeem(clinic, pack.id)
    result = await _redeem(clinic, pack.id)
    assert result.pack.status == PackStatus.FULLY_USED
    redeemed = (await events_of(clinic.business_id, EventType.SESSION_REDEEMED))[-1]
    assert redeemed.payload["statusFrom"] == "ACTIVE"
    assert redeemed.payload["statusTo"] == "FULLY_USED"
    assert (await event_types(clinic.business_id))[-2:] == ["SESSION_REDEEMED", "PACK_FULLY_USED"]
    with pytest.raises(DomainError) as error:
        await _redeem(clinic, pack.id)
    assert error.value.code == ErrorCode.PACK_NOT_ACTIVE


async def test_minutes_pack_uses_the_service_duration(db):
    # given "10 hours of therapy"
    clinic = await build_clinic()
    template = await add_template(
        clinic.owner,
        name="10 hours",
        metric=Metric.MINUTES,
        items=[(600, [clinic.massage, clinic.physio])],
    )
    pack = (await sell(clinic, template=template)).pack

    # when a 45-minute physio is redeemed twice (once with quantity 2)
    first = await _redeem(clinic, pack.id, clinic.physio)
    second = await _redeem(clinic, pack.id, clinic.physio, quantity=2)

    # then 135 minutes are used; sessions counted by redemptions
    assert await item_usage(pack.id) == [(135, 600)]
    assert (first.entry.quantity, second.entry.quantity) == (45, 90)
    assert (first.entry.session_number, second.entry.session_number) == (1, 2)


async def test_money_pack_uses_the_service_price(db):
    clinic = await build_clinic()
    template = await add_template(
        clinic.owner,
        name="$500 credit",
        metric=Metric.MONEY,
        price=500_00,
        items=[(500_00, [clinic.massage, clinic.physio, clinic.long_massage])],
    )
    pack = (await sell(clinic, template=template)).pack
    await _redeem(clinic, pack.id, clinic.long_massage)
    await _redeem(clinic, pack.id, clinic.physio)
    assert await item_usage(pack.id) == [(200_00, 500_00)]
    # $300 left: two $120 massages fit; a third is covered for the $60 left, the rest charged
    await _redeem(clinic, pack.id, clinic.long_massage, quantity=2)
    last = await _redeem(clinic, pack.id, clinic.long_massage)
    assert (last.line.units, last.line.amount) == (60_00, 60_00)
    assert await item_usage(pack.id) == [(500_00, 500_00)]
    # used up: nothing is left to cover anything
    with pytest.raises(DomainError) as error:
        await _redeem(clinic, pack.id, clinic.long_massage)
    assert error.value.code == ErrorCode.PACK_NOT_ACTIVE


async def test_two_items_each_take_their_own_service(db):
    clinic = await build_clinic()
    sale = await sell_pack(
        actor=clinic.staff,
        client_id=clinic.client.id,
        custom=CustomPackSpec(
            name="1 physio + 1 massage",
            metric=Metric.SESSIONS,
            price=100_00,
            items=[
                TemplateItemSpec(allowance=1, service_ids=[clinic.physio.id]),
                TemplateItemSpec(allowance=1, service_ids=[clinic.massage.id]),
            ],
        ),
    )
    await _redeem(clinic, sale.pack.id, clinic.physio)
    assert await item_usage(sale.pack.id) == [(1, 1), (0, 1)]
    with pytest.raises(DomainError) as error:
        await _redeem(clinic, sale.pack.id, clinic.physio)
    assert error.value.code == ErrorCode.INSUFFICIENT_BALANCE
    result = await _redeem(clinic, sale.pack.id, clinic.massage)
    assert result.pack.status == PackStatus.FULLY_USED


async def _expire_silently(pack_id: int) -> None:
    """The pack's date has passed but the expiry job has not run yet: still ACTIVE."""
    await Pack.filter(id=pack_id).update(expires_at=datetime.now(UTC) - timedelta(minutes=1))


async def _cancel_directly(pack_id: int) -> None:
    await Pack.filter(id=pack_id).update(
        status=PackStatus.CANCELLED, cancelled_at=datetime.now(UTC)
    )


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("expired_but_active", ErrorCode.PACK_NOT_ACTIVE),
        ("cancelled", ErrorCode.PACK_NOT_ACTIVE),
        ("ineligible_service", ErrorCode.SERVICE_NOT_IN_PACK),
        ("too_many", ErrorCode.INSUFFICIENT_BALANCE),
        ("zero_quantity", ErrorCode.INVALID_INPUT),
        ("negative_quantity", ErrorCode.INVALID_INPUT),
        ("unpaid_with_payment_required", ErrorCode.PACK_NOT_PAID),
        ("integration", ErrorCode.PERMISSION_DENIED),
        ("unknown_pack", ErrorCode.NOT_FOUND),
        ("deleted_pack", ErrorCode.NOT_FOUND),
    ],
)
async def test_refused_redemptions_write_nothing_and_emit_nothing(db, given, code):
    # given a 2-massage pack
    clinic = await build_clinic(redemption_requires_full_payment=given.startswith("unpaid"))
    pack = await sell_sessions(clinic, 2)
    kwargs = {"actor": clinic.staff, "pack_id": pack.id, "service_id": clinic.massage.id}
    if given == "expired_but_active":
        await _expire_silently(pack.id)
    elif given == "cancelled":
        await _cancel_directly(pack.id)
    elif given == "ineligible_service":
        kwargs["service_id"] = clinic.long_massage.id
    elif given == "too_many":
        kwargs["quantity"] = 3
    elif given == "zero_quantity":
        kwargs["quantity"] = 0
    elif given == "negative_quantity":
        kwargs["quantity"] = -1
    elif given == "integration":
        kwargs["actor"] = clinic.integration
    elif given == "unknown_pack":
        kwargs["pack_id"] = 999_999
    elif given == "deleted_pack":
        await Pack.filter(id=pack.id).update(deleted_at=datetime.now(UTC))
    before = await snapshot_counts(clinic.business_id)

    # when redeeming
    with pytest.raises(DomainError) as error:
        await redeem_session(**kwargs)

    # then the clear error, and nothing written: no entry, no line, no event, no version bump
    assert error.value.code == code
    assert await snapshot_counts(clinic.business_id) == before


async def test_other_business_pack_is_not_found_with_the_same_message(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    foreign = (await sell(other)).pack
    messages = []
    for pack_id in (foreign.id, 999_999):
        with pytest.raises(DomainError) as error:
            await _redeem(clinic, pack_id)
        assert error.value.code == ErrorCode.NOT_FOUND
        messages.append(error.value.message)
    assert messages[0] == messages[1]
    assert await item_usage(foreign.id) == [(0, 10)]


async def test_paid_pack_redeems_when_payment_is_required(db):
    clinic = await build_clinic(redemption_requires_full_payment=True)
    pack = await sell_sessions(clinic, 2)
    await Pack.filter(id=pack.id).update(
        payment_status=PaymentStatus.PAID, amount_paid=pack.final_price
    )
    result = await _redeem(clinic, pack.id)
    assert result.entry.session_number == 1


# --- idempotency --------------------------------------------------------------------------------


async def test_retry_with_the_same_key_returns_the_first_result_and_deducts_nothing(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 5)
    first = await _redeem(clinic, pack.id, idempotency_key="visit-42")
    before = await snapshot_counts(clinic.business_id)
    again = await _redeem(clinic, pack.id, idempotency_key="visit-42")
    assert again.replayed and (again.entry.id, again.line.id, again.invoice.id) == (
        first.entry.id,
        first.line.id,
        first.invoice.id,
    )
    assert await snapshot_counts(clinic.business_id) == before
    assert await item_usage(pack.id) == [(1, 5)]


async def test_same_key_for_another_request_is_refused(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 5)
    await _redeem(clinic, pack.id, idempotency_key="k")
    line = (
        await add_service_line(
            actor=clinic.staff, client_id=clinic.client.id, service_id=clinic.massage.id
        )
    ).line
    before = await snapshot_counts(clinic.business_id)
    for call in (
        _redeem(clinic, pack.id, quantity=2, idempotency_key="k"),
        allocate_invoice_line(
            actor=clinic.staff, line_id=line.id, pack_id=pack.id, idempotency_key="k"
        ),
    ):
        with pytest.raises(DomainError) as error:
            await call
        assert error.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert await snapshot_counts(clinic.business_id) == before


async def test_a_failed_first_attempt_does_not_burn_the_key(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 1)
    with pytest.raises(DomainError):
        await _redeem(clinic, pack.id, quantity=2, idempotency_key="k")
    result = await _redeem(clinic, pack.id, quantity=2 - 1, idempotency_key="k2")
    assert result.entry.session_number == 1


async def test_same_keys_are_separate_per_business(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    await _redeem(clinic, (await sell_sessions(clinic, 2)).id, idempotency_key="k")
    result = await _redeem(other, (await sell_sessions(other, 2)).id, idempotency_key="k")
    assert not result.replayed


# --- allocate / unallocate ----------------------------------------------------------------------


async def _service_line(clinic, service=None, client=None, **kwargs):
    return (
        await add_service_line(
            actor=clinic.staff,
            client_id=(client or clinic.client).id,
            service_id=(service or clinic.massage).id,
            **kwargs,
        )
    ).line


async def test_allocating_a_line_deducts_and_reprices_it(db):
    # given a massage charged at $90 and a pack bought the same day
    clinic = await build_clinic()
    line = await _service_line(clinic)
    template = await add_template(clinic.owner, items=[(10, [clinic.massage])], session_price=5_00)
    pack = (await sell(clinic, template=template)).pack
    assert line.amount == 90_00

    # when the line is allocated to the pack
    result = await allocate_invoice_line(actor=clinic.staff, line_id=line.id, pack_id=pack.id)

    # then it is session 1, charged the session price, not retrospective
    stored = await InvoiceLine.get(id=line.id)
    assert (stored.pack_id, stored.session_number, stored.amount, stored.retrospective) == (
        pack.id,
        1,
        5_00,
        False,
    )
    assert result.entry.invoice_line_id == line.id
    [event] = await events_of(clinic.business_id, EventType.SESSION_REDEEMED)
    assert event.entry_id == result.entry.id and event.payload["lineId"] == line.id


async def test_allocating_an_allocated_line_is_refused(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 5)
    line = (await _redeem(clinic, pack.id)).line
    before = await snapshot_counts(clinic.business_id)
    with pytest.raises(DomainError) as error:
        await allocate_invoice_line(actor=clinic.staff, line_id=line.id, pack_id=pack.id)
    assert error.value.code == ErrorCode.ALREADY_ALLOCATED
    assert await snapshot_counts(clinic.business_id) == before


async def test_pack_of_another_client_cannot_take_the_line(db):
    clinic = await build_clinic()
    bo = await add_client(clinic.owner, "Bo")
    line = await _service_line(clinic, client=bo)
    pack = await sell_sessions(clinic, 5)
    with pytest.raises(DomainError) as error:
        await allocate_invoice_line(actor=clinic.staff, line_id=line.id, pack_id=pack.id)
    assert error.value.code == ErrorCode.INVALID_INPUT
    assert await item_usage(pack.id) == [(0, 5)]


async def test_unallocating_gives_the_unit_back_and_reactivates_a_fully_used_pack(db):
    # given a 1-session pack used by a walk-in
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 1)
    redeemed = await _redeem(clinic, pack.id)
    assert redeemed.pack.status == PackStatus.FULLY_USED

    # when the pack is removed from the line (the red X)
    result = await unallocate_invoice_line(actor=clinic.staff, line_id=redeemed.line.id)

    # then a REVERSAL entry gives the unit back, the pack is ACTIVE, the line costs $90 again
    assert result.entry.kind == LedgerKind.REVERSAL and result.entry.quantity == -1
    assert result.entry.reverses_id == redeemed.entry.id
    assert result.pack.status == PackStatus.ACTIVE
    assert await item_usage(pack.id) == [(0, 1)]
    line = await InvoiceLine.get(id=redeemed.line.id)
    assert (line.pack_id, line.session_number, line.amount) == (None, None, 90_00)
    [event] = await events_of(clinic.business_id, EventType.REDEMPTION_REVERSED)
    assert event.entry_id == result.entry.id
    assert (event.payload["statusFrom"], event.payload["statusTo"]) == ("FULLY_USED", "ACTIVE")
    # nothing was deleted from the ledger
    assert await LedgerEntry.filter(pack_id=pack.id).count() == 2
    await assert_ledger_consistent(pack.id)

    # and a second unallocation is refused
    with pytest.raises(DomainError) as error:
        await unallocate_invoice_line(actor=clinic.staff, line_id=redeemed.line.id)
    assert error.value.code == ErrorCode.NOT_ALLOCATED


# --- move_allocations ---------------------------------------------------------------------------


async def test_move_allocations_moves_every_line_in_one_step(db):
    # given three visits allocated to the wrong pack
    clinic = await build_clinic()
    wrong = await sell_sessions(clinic, 5)
    right = await sell_sessions(clinic, 10)
    lines = [(await _redeem(clinic, wrong.id)).line for _ in range(3)]

    # when they are moved
    result = await move_allocations(actor=clinic.staff, from_pack_id=wrong.id, to_pack_id=right.id)

    # then the wrong pack is back to 0, the right one has sessions 1..3 on the same lines
    assert await item_usage(wrong.id) == [(0, 5)]
    assert await item_usage(right.id) == [(3, 10)]
    stored = await InvoiceLine.filter(id__in=[line.id for line in lines]).order_by("id")
    assert [(line.pack_id, line.session_number) for line in stored] == [
        (right.id, 1),
        (right.id, 2),
        (right.id, 3),
    ]
    assert {entry.kind for entry in result.entries} == {LedgerKind.REVERSAL, LedgerKind.REDEMPTION}
    moved = await events_of(clinic.business_id, EventType.ALLOCATIONS_MOVED)
    assert [event.pack_id for event in moved] == [wrong.id, right.id]
    assert moved[0].payload["lineIds"] == [line.id for line in lines]
    await assert_ledger_consistent(wrong.id)
    await assert_ledger_consistent(right.id)


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("too_small", ErrorCode.INSUFFICIENT_BALANCE),
        ("other_service", ErrorCode.SERVICE_NOT_IN_PACK),
        ("cancelled", ErrorCode.PACK_NOT_ACTIVE),
    ],
)
async def test_move_allocations_fails_whole(db, target, code):
    # given two visits on one pack
    clinic = await build_clinic()
    source = await sell_sessions(clinic, 5)
    for _ in range(2):
        await _redeem(clinic, source.id)
    if target == "too_small":
        destination = await sell_sessions(clinic, 1)
    elif target == "other_service":
        destination = await sell_sessions(clinic, 5, services=[clinic.physio])
    else:
        destination = await sell_sessions(clinic, 5)
        await _cancel_directly(destination.id)
    before = await snapshot_counts(clinic.business_id)

    # when moving to a pack that cannot take them all
    with pytest.raises(DomainError) as error:
        await move_allocations(
            actor=clinic.staff, from_pack_id=source.id, to_pack_id=destination.id
        )

    # then nothing moved at all
    assert error.value.code == code
    assert await snapshot_counts(clinic.business_id) == before
    assert await item_usage(source.id) == [(2, 5)]


# --- delete_pack --------------------------------------------------------------------------------


async def test_delete_pack_is_refused_while_lines_are_allocated_naming_the_invoices(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 5)
    first = await _redeem(clinic, pack.id)
    before = await snapshot_counts(clinic.business_id)
    with pytest.raises(DomainError) as error:
        await delete_pack(actor=clinic.manager, pack_id=pack.id)
    assert error.value.code == ErrorCode.PACK_HAS_INVOICES
    assert first.invoice.number in error.value.message
    assert await snapshot_counts(clinic.business_id) == before


async def test_delete_pack_soft_deletes_and_emits(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 5)
    await Client.filter(id=clinic.client.id).update(preferred_pack_id=pack.id)
    result = await delete_pack(actor=clinic.owner, pack_id=pack.id)
    assert result.pack.deleted_at is not None
    assert (await reload_pack(pack.id)).deleted_at is not None
    assert (await Client.get(id=clinic.client.id)).preferred_pack_id is None
    [event] = await events_of(clinic.business_id, EventType.PACK_DELETED)
    assert event.pack_id == pack.id
    with pytest.raises(DomainError) as error:
        await delete_pack(actor=clinic.owner, pack_id=pack.id)
    assert error.value.code == ErrorCode.NOT_FOUND


async def test_staff_cannot_delete_packs(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 5)
    with pytest.raises(DomainError) as error:
        await delete_pack(actor=clinic.staff, pack_id=pack.id)
    assert error.value.code == ErrorCode.PERMISSION_DENIED


async def test_giving_a_unit_back_to_a_used_up_pack_past_its_date_expires_it(db):
    # given a 1-session pack, used up, whose expiry date has since passed
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 1, expires_at=datetime.now(UTC) + timedelta(hours=1))
    redeemed = await _redeem(clinic, pack.id)
    await _expire_silently(pack.id)

    # when the unit is given back
    result = await unallocate_invoice_line(actor=clinic.staff, line_id=redeemed.line.id)

    # then the pack is EXPIRED (not ACTIVE), reported like the expiry job would report it
    assert result.pack.status == PackStatus.EXPIRED
    assert (await event_types(clinic.business_id))[-2:] == ["REDEMPTION_REVERSED", "PACK_EXPIRED"]
    reversed_ = (await events_of(clinic.business_id, EventType.REDEMPTION_REVERSED))[0]
    assert (reversed_.payload["statusFrom"], reversed_.payload["statusTo"]) == (
        "FULLY_USED",
        "EXPIRED",
    )
    await assert_ledger_consistent(pack.id)


async def test_allocation_retry_with_the_same_key_replays(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, 5)
    line = await _service_line(clinic)
    first = await allocate_invoice_line(
        actor=clinic.staff, line_id=line.id, pack_id=pack.id, idempotency_key="alloc-1"
    )
    before = await snapshot_counts(clinic.business_id)
    again = await allocate_invoice_line(
        actor=clinic.staff, line_id=line.id, pack_id=pack.id, idempotency_key="alloc-1"
    )
    assert again.replayed and again.entry.id == first.entry.id
    assert await snapshot_counts(clinic.business_id) == before
