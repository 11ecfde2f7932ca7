"""Pack notes (any staff role) and system tasks: raised once per dedupe key, completed by staff."""

from __future__ import annotations

import asyncio

import pytest

from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.notes import MAX_NOTE_LENGTH, add_pack_note
from packgraph.domain.tasks import complete_task, raise_task
from packgraph.domain.transaction import write_transaction
from packgraph.models import EventType, PackNote, Task, TaskKind
from tests.domain.builders import build_clinic, events_of, reload_pack, sell, snapshot_counts

# --- notes --------------------------------------------------------------------------------------


async def test_staff_adds_a_note_with_author_and_an_event(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack

    result = await add_pack_note(
        actor=clinic.staff, pack_id=pack.id, text="  agreed to pay 5k Ft per visit  "
    )

    note = await PackNote.get(id=result.note.id)
    assert note.text == "agreed to pay 5k Ft per visit"
    assert note.staff_id == clinic.staff.staff_id
    assert note.pack_id == pack.id
    assert note.created_at is not None
    [event] = await events_of(clinic.business_id, EventType.NOTE_ADDED)
    assert event.pack_id == pack.id
    assert event.client_id == clinic.client.id
    assert event.actor == clinic.staff.label
    assert event.payload == {"noteId": note.id, "text": "agreed to pay 5k Ft per visit"}
    assert (await reload_pack(pack.id)).version > pack.version


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_NOTE_LENGTH + 1)])
async def test_empty_or_overlong_note_is_refused(db, text):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    before = await snapshot_counts(clinic.business_id)

    with pytest.raises(DomainError) as error:
        await add_pack_note(actor=clinic.manager, pack_id=pack.id, text=text)

    assert error.value.code == ErrorCode.INVALID_INPUT
    assert error.value.field == "text"
    assert await snapshot_counts(clinic.business_id) == before
    assert await PackNote.all().count() == 0


async def test_integration_cannot_add_a_note(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack

    with pytest.raises(DomainError) as error:
        await add_pack_note(actor=clinic.integration, pack_id=pack.id, text="hello")

    assert error.value.code == ErrorCode.PERMISSION_DENIED


async def test_note_on_another_business_pack_is_not_found(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    foreign_pack = (await sell(other)).pack

    for pack_id in (foreign_pack.id, 999_999):
        with pytest.raises(DomainError) as error:
            await add_pack_note(actor=clinic.owner, pack_id=pack_id, text="hello")
        assert error.value.code == ErrorCode.NOT_FOUND
    assert await PackNote.all().count() == 0


# --- tasks --------------------------------------------------------------------------------------


async def _raise(clinic, pack, key: str) -> bool:
    async with write_transaction(clinic.business_id) as conn:
        return await raise_task(
            conn,
            business_id=clinic.business_id,
            kind=TaskKind.PACK_EXPIRED,
            pack_id=pack.id,
            client_id=pack.client_id,
            dedupe_key=key,
        )


async def test_raising_a_task_twice_with_one_dedupe_key_creates_one_task(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack

    first = await _raise(clinic, pack, "expired:1")
    second = await _raise(clinic, pack, "expired:1")
    third = await _raise(clinic, pack, "expired:2")

    assert (first, second, third) == (True, False, True)
    assert await Task.filter(business_id=clinic.business_id).count() == 2


async def test_the_same_dedupe_key_in_another_business_is_another_task(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    pack = (await sell(clinic)).pack
    other_pack = (await sell(other)).pack

    assert await _raise(clinic, pack, "k")
    assert await _raise(other, other_pack, "k")


async def test_a_duplicate_task_does_not_break_the_surrounding_transaction(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await _raise(clinic, pack, "k")

    async with write_transaction(clinic.business_id) as conn:
        created = await raise_task(
            conn,
            business_id=clinic.business_id,
            kind=TaskKind.PACK_EXPIRED,
            pack_id=pack.id,
            client_id=pack.client_id,
            dedupe_key="k",
        )
        # The transaction is still usable after the ignored insert (PostgreSQL would abort it
        # after a failed INSERT).
        await PackNote.create(
            business_id=clinic.business_id, pack_id=pack.id, text="after", using_db=conn
        )

    assert created is False
    assert await PackNote.filter(text="after").count() == 1


async def test_concurrent_raises_of_one_key_create_one_task(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack

    results = await asyncio.gather(*(_raise(clinic, pack, "race") for _ in range(8)))

    assert sorted(results) == [False] * 7 + [True]
    assert await Task.filter(business_id=clinic.business_id, dedupe_key="race").count() == 1


async def test_staff_completes_a_task_and_completing_again_is_harmless(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await _raise(clinic, pack, "k")
    task = await Task.get(business_id=clinic.business_id)
    events_before = await snapshot_counts(clinic.business_id)

    first = await complete_task(actor=clinic.staff, task_id=task.id)
    again = await complete_task(actor=clinic.manager, task_id=task.id)

    assert first.completed is True
    assert first.task.done_at is not None
    assert first.task.done_by_id == clinic.staff.staff_id
    assert again.completed is False
    assert again.task.done_at == first.task.done_at
    assert again.task.done_by_id == clinic.staff.staff_id
    # Tasks have no event type: completing one writes no outbox row.
    assert (await snapshot_counts(clinic.business_id))["event_seq"] == events_before["event_seq"]


async def test_completing_another_business_task_is_not_found(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    other_pack = (await sell(other)).pack
    await _raise(other, other_pack, "k")
    task = await Task.get(business_id=other.business_id)

    for task_id in (task.id, 999_999):
        with pytest.raises(DomainError) as error:
            await complete_task(actor=clinic.owner, task_id=task_id)
        assert error.value.code == ErrorCode.NOT_FOUND
    assert (await Task.get(id=task.id)).done_at is None


async def test_integration_cannot_complete_a_task(db):
    clinic = await build_clinic()
    pack = (await sell(clinic)).pack
    await _raise(clinic, pack, "k")
    task = await Task.get(business_id=clinic.business_id)

    with pytest.raises(DomainError) as error:
        await complete_task(actor=clinic.integration, task_id=task.id)

    assert error.value.code == ErrorCode.PERMISSION_DENIED
    assert (await Task.get(id=task.id)).done_at is None
