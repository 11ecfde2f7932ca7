"""The hub in-process, on both databases with the in-memory broker: ordering, replay, limits."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from packgraph.domain.actor import Actor
from packgraph.domain.events import append_event, notifying
from packgraph.domain.transaction import write_transaction
from packgraph.live import hub as hub_metrics
from packgraph.live.feed import CredentialsRevoked, SubscriberTooSlow
from packgraph.live.hub import Hub
from packgraph.live.outbox import EventFilter
from packgraph.models import Business, EventType, Role
from packgraph.settings import Settings
from tests.waiting import until


async def _write(
    actor: Actor, count: int, type: EventType = EventType.NOTE_ADDED, *, hub: Hub | None = None
) -> None:
    """``count`` events, each in its own transaction, waking ``hub`` (as the app's requests do)."""
    for _ in range(count):
        with notifying(hub.notify) if hub else contextlib.nullcontext():
            async with write_transaction(actor.business_id) as connection:
                await append_event(connection, actor=actor, type=type)


async def _take(stream, count: int, within: float = 5.0) -> list:
    async def take() -> list:
        return [await anext(stream) for _ in range(count)]

    return await asyncio.wait_for(take(), within)


def _settings(**overrides) -> Settings:
    return Settings(database_url="unused", broadcast_url="memory://").with_overrides(**overrides)


async def test_live_events_arrive_in_order_and_only_for_their_business(db):
    clinic = await Business.create(name="Clinic")
    other = await Business.create(name="Other")
    actor = Actor(business_id=clinic.id, role=Role.OWNER)
    hub = Hub(_settings())
    await hub.start()
    try:
        mine = hub.stream(business_id=clinic.id)
        theirs = hub.stream(business_id=other.id)
        first = asyncio.ensure_future(anext(mine))
        foreign = asyncio.ensure_future(anext(theirs))
        await asyncio.sleep(0.05)
        await _write(actor, 5, hub=hub)
        received = [await asyncio.wait_for(first, 5)] + await _take(mine, 4)
        assert [event.seq for event in received] == [1, 2, 3, 4, 5]
        await asyncio.sleep(0.2)
        assert not foreign.done()
        foreign.cancel()
    finally:
        await hub.stop()


async def test_replay_then_live_without_gap_or_duplicate(db):
    clinic = await Business.create(name="Clinic")
    actor = Actor(business_id=clinic.id, role=Role.OWNER)
    await _write(actor, 30)
    hub = Hub(_settings())
    await hub.start()
    try:
        stream = hub.stream(business_id=clinic.id, after=10)
        writer = asyncio.create_task(_write(actor, 20, hub=hub))
        received = await _take(stream, 40)
        await writer
        assert [event.seq for event in received] == list(range(11, 51))
    finally:
        await hub.stop()


async def test_filters_select_types(db):
    clinic = await Business.create(name="Clinic")
    actor = Actor(business_id=clinic.id, role=Role.OWNER)
    await _write(actor, 3, EventType.NOTE_ADDED)
    await _write(actor, 2, EventType.PAYMENT_RECORDED)
    hub = Hub(_settings())
    await hub.start()
    try:
        stream = hub.stream(
            business_id=clinic.id,
            after=0,
            event_filter=EventFilter(types=frozenset({EventType.PAYMENT_RECORDED})),
        )
        received = await _take(stream, 2)
        assert [event.seq for event in received] == [4, 5]
        await _write(actor, 1, EventType.NOTE_ADDED, hub=hub)
        await _write(actor, 1, EventType.PAYMENT_RECORDED, hub=hub)
        assert [event.seq for event in await _take(stream, 1)] == [7]
    finally:
        await hub.stop()


async def test_a_burst_larger_than_the_buffer_is_caught_up_from_the_outbox(db):
    clinic = await Business.create(name="Clinic")
    actor = Actor(business_id=clinic.id, role=Role.OWNER)
    hub = Hub(_settings(live_buffer_size=5))
    await hub.start()
    try:
        stream = hub.stream(business_id=clinic.id)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        with notifying(hub.notify):
            async with write_transaction(clinic.id) as connection:
                for _ in range(300):  # more than a page, the buffer and the recent events
                    await append_event(connection, actor=actor, type=EventType.NOTE_ADDED)
        received = [await asyncio.wait_for(first, 5)] + await _take(stream, 299)
        assert [event.seq for event in received] == list(range(1, 301))
        await _write(actor, 2, hub=hub)
        assert [event.seq for event in await _take(stream, 2)] == [301, 302]
    finally:
        await hub.stop()


async def test_a_subscriber_that_stays_behind_is_cut_off_and_others_are_not(db):
    clinic = await Business.create(name="Clinic")
    actor = Actor(business_id=clinic.id, role=Role.OWNER)
    hub = Hub(_settings(live_buffer_size=5, live_max_lag_ms=200))
    await hub.start()
    try:
        slow = hub.stream(business_id=clinic.id)
        fast = hub.stream(business_id=clinic.id)
        slow_first = asyncio.ensure_future(anext(slow))
        fast_first = asyncio.ensure_future(anext(fast))
        await asyncio.sleep(0.05)
        await _write(actor, 1, hub=hub)
        received = [await asyncio.wait_for(fast_first, 5)]
        assert (await slow_first).seq == 1
        # The slow one does not read for longer than the lag limit. The fast one reads each
        # round of 4 before the next: it never fills its buffer of 5, so it is never behind,
        # however slowly a loaded machine writes (a round of 6 would make it catch up, and a
        # catch-up longer than the limit would cut it off too).
        for _ in range(5):
            await _write(actor, 4, hub=hub)
            received += await _take(fast, 4)
            await asyncio.sleep(0.1)
        assert [event.seq for event in received] == list(range(1, 22))
        with pytest.raises(SubscriberTooSlow) as ended:
            await _take(slow, 20)
        assert ended.value.last_seq == 1
        assert hub.subscription_count() == 1
    finally:
        await hub.stop()


async def test_revoked_credentials_end_the_subscription(db):
    clinic = await Business.create(name="Clinic")
    valid = {"good"}

    async def authenticate(token: str) -> Actor | None:
        return Actor(business_id=clinic.id, role=Role.INTEGRATION) if token in valid else None

    hub = Hub(_settings(), authenticator=authenticate)
    await hub.start()
    try:
        stream = hub.stream(business_id=clinic.id, credential="good")
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        assert await hub.check_credentials_once() == 0
        valid.clear()
        assert await hub.check_credentials_once() == 1
        try:
            await asyncio.wait_for(pending, 2)
        except CredentialsRevoked:
            pass
        else:
            raise AssertionError("the stream went on")
    finally:
        await hub.stop()


async def test_events_committed_without_a_wakeup_are_found_by_the_poll(db):
    clinic = await Business.create(name="Clinic")
    actor = Actor(business_id=clinic.id, role=Role.OWNER)
    hub = Hub(_settings(live_safety_poll_ms=100))
    await hub.start()
    try:
        stream = hub.stream(business_id=clinic.id)
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        await _write(actor, 1)  # without the hub's notifier: the wake-up is lost
        assert (await asyncio.wait_for(pending, 3)).seq == 1
    finally:
        await hub.stop()


async def test_metrics_show_how_full_the_subscription_buffers_are(db):
    clinic = await Business.create(name="Clinic")
    actor = Actor(business_id=clinic.id, role=Role.OWNER)
    hub = Hub(_settings(live_buffer_size=10))
    await hub.start()
    try:
        # given a subscriber that takes one event, then stops reading, and one that reads on
        # (both live before the writes: one that starts later replays, and stays "catching up"
        # until it asks for the event after the replay)
        idle = hub.stream(business_id=clinic.id, after=0)
        reader = hub.stream(business_id=clinic.id, after=0)
        first = asyncio.ensure_future(anext(idle))
        first_read = asyncio.ensure_future(anext(reader))
        await until(lambda: hub.subscription_count() == 2, 5, "the subscriptions")
        # when four events are written
        await _write(actor, 4, hub=hub)
        assert (await asyncio.wait_for(first, 5)).seq == 1
        assert (await asyncio.wait_for(first_read, 5)).seq == 1
        assert [event.seq for event in await _take(reader, 3)] == [2, 3, 4]
        # then the three it has not read are what the process buffers
        assert hub_metrics.BUFFERED.value() == 3
        assert hub_metrics.BUFFER_DEPTH_MAX.value() == 3
        assert hub_metrics.CATCHING_UP.value() == 0
        assert hub_metrics.SUBSCRIPTIONS.value() == 2
        # and reading them empties the buffer
        assert [event.seq for event in await _take(idle, 3)] == [2, 3, 4]
        assert hub_metrics.BUFFERED.value() == 0
    finally:
        await hub.stop()
