"""The database itself enforces the invariants the rules rely on, on both backends."""

from __future__ import annotations

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from packgraph.domain.actor import Actor
from packgraph.domain.events import append_event
from packgraph.domain.transaction import write_transaction
from packgraph.models import Business, Client, EventType, Invoice, Metric, Pack, PackItem, Role
from packgraph.models.packs import IdempotencyRecord


async def _pack() -> tuple[Business, PackItem]:
    business = await Business.create(name="Clinic")
    client = await Client.create(business=business, name="Ana")
    pack = await Pack.create(
        business=business,
        client=client,
        name="10 massages",
        metric=Metric.SESSIONS,
        price=100_00,
        final_price=100_00,
        purchased_at="2026-01-01T00:00:00+00:00",
    )
    item = await PackItem.create(business=business, pack=pack, allowance=10)
    return business, item


async def test_used_cannot_exceed_allowance(db):
    _, item = await _pack()
    with pytest.raises(IntegrityError):
        await PackItem.filter(id=item.id).update(used=11)


async def test_used_cannot_go_negative(db):
    _, item = await _pack()
    with pytest.raises(IntegrityError):
        await PackItem.filter(id=item.id).update(used=F("used") - 1)


async def test_invoice_number_unique_per_business(db):
    business, _ = await _pack()
    other = await Business.create(name="Other")
    client = await Client.get(business=business)
    other_client = await Client.create(business=other, name="Bo")
    await Invoice.create(business=business, client=client, number="INV-1", issued_on="2026-01-01")
    await Invoice.create(
        business=other, client=other_client, number="INV-1", issued_on="2026-01-01"
    )
    with pytest.raises(IntegrityError):
        await Invoice.create(
            business=business, client=client, number="INV-1", issued_on="2026-01-02"
        )


async def test_idempotency_key_unique_per_business(db):
    business, _ = await _pack()
    await IdempotencyRecord.create(business=business, key="k1", operation="redeem", result={})
    with pytest.raises(IntegrityError):
        await IdempotencyRecord.create(business=business, key="k1", operation="redeem", result={})


async def test_event_seq_is_gapless_per_business(db):
    business, item = await _pack()
    other = await Business.create(name="Other")
    actor = Actor(business_id=business.id, role=Role.OWNER, staff_id=None, name="t")
    other_actor = Actor(business_id=other.id, role=Role.OWNER)
    seqs = []
    for current in (actor, other_actor, actor, actor):
        async with write_transaction(current.business_id) as connection:
            event = await append_event(
                connection, actor=current, type=EventType.NOTE_ADDED, pack_id=None
            )
            seqs.append((current.business_id, event.seq))
    assert seqs == [(business.id, 1), (other.id, 1), (business.id, 2), (business.id, 3)]


async def test_rolled_back_transaction_writes_no_event(db):
    business, _ = await _pack()
    actor = Actor(business_id=business.id, role=Role.OWNER)
    with pytest.raises(RuntimeError):
        async with write_transaction(business.id) as connection:
            await append_event(connection, actor=actor, type=EventType.NOTE_ADDED)
            raise RuntimeError("boom")
    from packgraph.models import Event

    assert await Event.filter(business_id=business.id).count() == 0
    assert (await Business.get(id=business.id)).event_seq == 0
