"""The after-commit wake-up: sent only for transactions that wrote an event, to the notifier bound
where the code runs (SPEC principle 5; issue 13)."""

from __future__ import annotations

import asyncio

import pytest

from packgraph.domain.catalog import create_client
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.events import append_event, notifying
from packgraph.domain.notes import add_pack_note
from packgraph.domain.transaction import write_transaction
from packgraph.models import Event, EventType
from tests.domain.builders import build_clinic, sell


class Recorder:
    """A notifier that records the business ids it was woken for, and what was committed then."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.committed_events: list[int] = []

    async def __call__(self, business_id: int) -> None:
        self.calls.append(business_id)
        # Read on another connection than the writer's: the event must be committed already.
        self.committed_events.append(await Event.filter(business_id=business_id).count())


async def test_a_transaction_without_an_event_wakes_nobody(db):
    # given a clinic and a bound notifier
    clinic = await build_clinic()
    recorder = Recorder()
    with notifying(recorder):
        # when a transaction writes rows but no event, and an operation writes no event either
        async with write_transaction(clinic.business_id) as conn:
            await Event.filter(business_id=clinic.business_id).using_db(conn).count()
        await create_client(actor=clinic.staff, name="No Event")
    # then nobody is woken
    assert recorder.calls == []


async def test_a_transaction_with_events_wakes_once_after_commit(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    before = await Event.filter(business_id=clinic.business_id).count()
    recorder = Recorder()
    with notifying(recorder):
        # when one transaction writes two events, and an operation writes one
        async with write_transaction(clinic.business_id) as conn:
            await append_event(conn, actor=clinic.staff, type=EventType.NOTE_ADDED)
            await append_event(conn, actor=clinic.staff, type=EventType.NOTE_ADDED)
        await add_pack_note(actor=clinic.staff, pack_id=sale.pack.id, text="prefers mornings")
    # then each transaction woke the business once, when its events were visible to others
    assert recorder.calls == [clinic.business_id, clinic.business_id]
    assert recorder.committed_events == [before + 2, before + 3]


async def test_a_rolled_back_transaction_wakes_nobody(db):
    clinic = await build_clinic()
    recorder = Recorder()
    with notifying(recorder):
        with pytest.raises(DomainError):
            async with write_transaction(clinic.business_id) as conn:
                await append_event(conn, actor=clinic.staff, type=EventType.NOTE_ADDED)
                raise DomainError(ErrorCode.INVALID_INPUT, "changed my mind")
        with pytest.raises(DomainError):
            await add_pack_note(actor=clinic.staff, pack_id=999_999, text="no such pack")
    assert recorder.calls == []


async def test_writes_outside_a_notifier_wake_nobody_and_do_not_fail(db):
    clinic = await build_clinic()
    async with write_transaction(clinic.business_id) as conn:
        await append_event(conn, actor=clinic.staff, type=EventType.NOTE_ADDED)
    notes = Event.filter(business_id=clinic.business_id, type=EventType.NOTE_ADDED)
    assert await notes.count() == 1


async def test_concurrent_code_under_two_notifiers_wakes_only_its_own(db):
    # given two clinics, each written to by its own task under its own notifier (two apps)
    first, second = await build_clinic("First"), await build_clinic("Second")
    first_hub, second_hub = Recorder(), Recorder()
    both_bound = asyncio.Barrier(2)

    async def write_under(recorder: Recorder, clinic, count: int) -> None:
        with notifying(recorder):
            await both_bound.wait()
            for _ in range(count):
                async with write_transaction(clinic.business_id) as conn:
                    await append_event(conn, actor=clinic.staff, type=EventType.NOTE_ADDED)
                await asyncio.sleep(0)

    # when both write at the same time, one of them finishing (unbinding) first
    await asyncio.gather(write_under(first_hub, first, 3), write_under(second_hub, second, 1))

    # then each notifier heard of its own writes only, and none was lost to the other's exit
    assert first_hub.calls == [first.business_id] * 3
    assert second_hub.calls == [second.business_id]
