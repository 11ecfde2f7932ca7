"""Pack status rules (SPEC §1.2) and their maintenance by refresh_pack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packgraph.domain.pack_end import refresh_pack
from packgraph.domain.status import compute_status
from packgraph.domain.transaction import write_transaction
from packgraph.models import EventType, PackItem, PackStatus, Task, TaskKind
from tests.domain.builders import build_clinic, events_of, reload_pack, sell

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_cancelled_wins_over_everything():
    status = compute_status(
        cancelled_at=NOW, items=[(10, 10)], expires_at=NOW - timedelta(days=1), now=NOW
    )
    assert status == PackStatus.CANCELLED


def test_fully_used_wins_over_expired():
    status = compute_status(
        cancelled_at=None, items=[(10, 10), (5, 5)], expires_at=NOW - timedelta(days=1), now=NOW
    )
    assert status == PackStatus.FULLY_USED


def test_one_item_with_balance_keeps_the_pack_from_being_fully_used():
    status = compute_status(cancelled_at=None, items=[(10, 10), (4, 5)], expires_at=None, now=NOW)
    assert status == PackStatus.ACTIVE


def test_expired_when_expiry_is_now_or_earlier():
    assert (
        compute_status(cancelled_at=None, items=[(1, 10)], expires_at=NOW, now=NOW)
        == PackStatus.EXPIRED
    )
    assert (
        compute_status(
            cancelled_at=None, items=[(1, 10)], expires_at=NOW + timedelta(seconds=1), now=NOW
        )
        == PackStatus.ACTIVE
    )


async def test_refresh_pack_marks_fully_used_emits_event_and_raises_one_task(db):
    # given a 10-massage pack whose items were used up behind the status's back
    clinic = await build_clinic()
    sale = await sell(clinic)
    await PackItem.filter(pack_id=sale.pack.id).update(used=10)
    version = (await reload_pack(sale.pack.id)).version

    # when the status is refreshed
    async with write_transaction(clinic.business_id) as conn:
        pack = await refresh_pack(conn, pack_id=sale.pack.id, actor=clinic.staff)

    # then it is FULLY_USED, the version moved on, one event and one task exist
    assert pack.status == PackStatus.FULLY_USED
    stored = await reload_pack(sale.pack.id)
    assert stored.status == PackStatus.FULLY_USED and stored.version > version
    [event] = await events_of(clinic.business_id, EventType.PACK_FULLY_USED)
    assert event.pack_id == sale.pack.id and event.client_id == clinic.client.id
    assert event.payload["statusFrom"] == "ACTIVE" and event.payload["statusTo"] == "FULLY_USED"
    [task] = await Task.filter(business_id=clinic.business_id)
    assert task.kind == TaskKind.PACK_USED_UP and task.dedupe_key == f"used_up:{sale.pack.id}:1"

    # and refreshing again changes no status and emits nothing more
    async with write_transaction(clinic.business_id) as conn:
        await refresh_pack(conn, pack_id=sale.pack.id, actor=clinic.staff)
    assert len(await events_of(clinic.business_id, EventType.PACK_FULLY_USED)) == 1
    assert await Task.filter(business_id=clinic.business_id).count() == 1


async def test_reactivation_emits_nothing_from_refresh(db):
    # given a fully used pack
    clinic = await build_clinic()
    sale = await sell(clinic)
    await PackItem.filter(pack_id=sale.pack.id).update(used=10)
    async with write_transaction(clinic.business_id) as conn:
        await refresh_pack(conn, pack_id=sale.pack.id, actor=clinic.staff)
    before = len(await events_of(clinic.business_id))

    # when a unit comes back and the status is refreshed
    await PackItem.filter(pack_id=sale.pack.id).update(used=9)
    async with write_transaction(clinic.business_id) as conn:
        pack = await refresh_pack(conn, pack_id=sale.pack.id, actor=clinic.staff)

    # then it is ACTIVE again and refresh wrote no event (the causing operation reports it)
    assert pack.status == PackStatus.ACTIVE
    assert len(await events_of(clinic.business_id)) == before


async def test_no_task_when_the_setting_is_off(db):
    clinic = await build_clinic(create_task_on_pack_end=False)
    sale = await sell(clinic)
    await PackItem.filter(pack_id=sale.pack.id).update(used=10)
    async with write_transaction(clinic.business_id) as conn:
        await refresh_pack(conn, pack_id=sale.pack.id, actor=clinic.staff)
    assert await Task.filter(business_id=clinic.business_id).count() == 0
    assert len(await events_of(clinic.business_id, EventType.PACK_FULLY_USED)) == 1
