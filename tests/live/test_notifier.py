"""Each app wakes its own hub: two apps in one process neither share nor clear each other's
after-commit notifier (issue 13)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette

from packgraph.app import create_app
from tests.api.support import (
    ADDRESS,
    Api,
    gid,
    given_catalog,
    given_pack,
    make_tenant,
    settings_for,
)
from tests.waiting import until

# Long enough that only a wake-up, never the hub's safety poll, can deliver within the test.
NO_POLL = {"broadcast_url": "memory://", "live_safety_poll_ms": 600_000}
ADD_NOTE = """
    mutation Note($input: AddPackNoteInput!) { addPackNote(input: $input) { userErrors { code } } }
"""


@contextlib.asynccontextmanager
async def started(app: Starlette) -> AsyncIterator[Api]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=ADDRESS)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client)


async def test_each_app_wakes_its_own_hub_and_keeps_it_when_another_app_stops(sqlite_url):
    # given two apps in this process on one database (the second one started last), each hub
    # with a subscriber of the same business; their memory:// brokers are separate
    first_app = create_app(settings_for(sqlite_url, **NO_POLL))
    second_app = create_app(settings_for(sqlite_url, **NO_POLL))
    first_hub, second_hub = first_app.state.hub, second_app.state.hub
    async with started(first_app) as first, started(second_app) as second:
        tenant = await make_tenant()
        sale = await given_pack(tenant, await given_catalog(tenant))
        note = {"input": {"packId": gid("Pack", sale.pack.id), "text": "prefers mornings"}}
        first_events = first_hub.stream(business_id=tenant.id)
        second_events = second_hub.stream(business_id=tenant.id)
        first_next = asyncio.ensure_future(anext(first_events))
        second_next = asyncio.ensure_future(anext(second_events))
        await until(
            lambda: first_hub.subscription_count() == second_hub.subscription_count() == 1,
            5,
            "both subscriptions",
        )

        # when a note is added through the first app
        await first.ok(ADD_NOTE, note, token=tenant.staff_token)

        # then the first app's hub is woken at once, and the second app's hub is not
        assert (await asyncio.wait_for(first_next, 5)).type == "NOTE_ADDED"
        await asyncio.sleep(0.3)
        assert not second_next.done()

        # when a note is added through the second app, its own hub is woken
        await second.ok(ADD_NOTE, note, token=tenant.staff_token)
        assert (await asyncio.wait_for(second_next, 5)).type == "NOTE_ADDED"

        # and when the second app's hub stops, the first app's writes still wake the first hub
        await second_hub.stop()
        later = asyncio.ensure_future(anext(first_events))
        await first.ok(ADD_NOTE, note, token=tenant.staff_token)
        first_seen = [await asyncio.wait_for(later, 5)]
        first_seen.append(await asyncio.wait_for(anext(first_events), 5))
        assert [event.type for event in first_seen] == ["NOTE_ADDED", "NOTE_ADDED"]
        await first_events.aclose()
