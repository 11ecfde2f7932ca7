"""packEvents through a real server process and real WebSocket clients (SQLite), on each broadcast
backend: memory://, redis:// (a private redis-server) and postgres:// (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time

import pytest

from packgraph.models import Business
from packgraph.resolvers.events import event_cursor
from tests.api.support import gid, given_catalog, given_pack, make_tenant
from tests.databases import PG_ADMIN_DSN
from tests.live.client import PACK_EVENTS, GraphQLWebSocket, Http, SubscriptionError
from tests.live.services import RedisServer, Server
from tests.waiting import until

MAX_LAG_MS = 1000
SUBSCRIPTIONS = "packgraph_live_subscriptions"
CUT_OFF = "packgraph_live_subscribers_cut_off_total"


@pytest.fixture(scope="module", params=["memory", "redis", "postgres"])
def broadcast_url(request, tmp_path_factory):
    if request.param == "memory":
        yield "memory://"
    elif request.param == "redis":
        redis = RedisServer(tmp_path_factory.mktemp("redis"))
        redis.start()
        yield redis.url
        redis.stop()
    else:
        yield PG_ADMIN_DSN


@pytest.fixture(scope="module")
def server(module_sqlite_url, broadcast_url, tmp_path_factory):
    server = Server(
        database_url=module_sqlite_url,
        broadcast_url=broadcast_url,
        log_path=tmp_path_factory.mktemp("logs") / "server.log",
        live_buffer_size=64,
        live_max_lag_ms=MAX_LAG_MS,
        live_auth_check_ms=300,
        max_subscriptions=3,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def http(server):
    client = Http(server.http)
    yield client
    await client.close()


async def _clinic(name: str = "Clinic"):
    tenant = await make_tenant(name)
    catalog = await given_catalog(tenant)
    sale = await given_pack(tenant, catalog)
    return tenant, catalog, gid("Pack", sale.pack.id)


async def _latest_cursor(business_id: int) -> str:
    """The cursor of the business's last event. A subscription ``after`` it gets every later
    event (replayed, then live), however long it takes to reach the hub."""
    return event_cursor(business_id, (await Business.get(id=business_id)).event_seq)


async def test_a_redemption_reaches_every_subscriber_of_the_business_with_the_new_pack(
    orm_sqlite, server, http
):
    tenant, catalog, pack_id = await _clinic("Clinic A")
    other, _, other_pack_id = await _clinic("Clinic B")
    service_id = gid("Service", catalog.massage.id)
    after = {"after": await _latest_cursor(tenant.id)}
    async with (
        GraphQLWebSocket.connect(server.ws, tenant.owner_token) as owner,
        GraphQLWebSocket.connect(server.ws, tenant.staff_token) as staff,
        GraphQLWebSocket.connect(server.ws, tenant.integration_token) as integration,
        GraphQLWebSocket.connect(server.ws, other.owner_token) as stranger,
    ):
        for socket in (owner, staff, integration):
            await socket.subscribe("events", PACK_EVENTS, after)
        await stranger.subscribe("events", PACK_EVENTS, {"after": await _latest_cursor(other.id)})
        # The stranger's subscription is open once it has an event of its own business.
        await http.add_note(other_pack_id, "before", token=other.staff_token)
        assert (await stranger.event("events"))["pack"]["id"] == other_pack_id

        # Each redemption's event carries the pack as that redemption left it.
        results = []
        for _ in range(3):
            results.append(await http.redeem(pack_id, service_id, token=tenant.staff_token))
            for socket in (owner, staff, integration):
                event = await socket.event("events")
                assert event["type"] == "SESSION_REDEEMED"
                assert event["pack"]["id"] == pack_id
                assert event["pack"]["version"] == results[-1]["pack"]["version"]
                assert event["pack"]["totals"]["used"] == len(results)
                assert event["pack"]["items"] == [{"used": len(results), "allowance": 10}]
                assert event["actor"] == {"kind": "STAFF", "name": "Clinic A Staff"}
        # Back to back, events still arrive in order; a pack is never older than its event.
        for _ in range(3):
            results.append(await http.redeem(pack_id, service_id, token=tenant.staff_token))
        for socket in (owner, staff, integration):
            events = await socket.events("events", 3)
            versions = [event["pack"]["version"] for event in events]
            assert versions == sorted(versions)
            assert all(
                event["pack"]["version"] >= result["pack"]["version"]
                for event, result in zip(events, results[3:], strict=True)
            )
            assert events[-1]["pack"]["totals"]["used"] == 6
        # Nothing of Clinic A reached the stranger: its next event is its own business's.
        await http.add_note(other_pack_id, "after", token=other.staff_token)
        event = await stranger.event("events")
        assert (event["type"], event["pack"]["id"]) == ("NOTE_ADDED", other_pack_id)


async def test_reconnecting_with_the_last_cursor_gives_exactly_the_missed_events(
    orm_sqlite, server, http
):
    tenant, _, pack_id = await _clinic()
    async with GraphQLWebSocket.connect(server.ws, tenant.integration_token) as socket:
        await socket.subscribe("events", PACK_EVENTS, {"after": await _latest_cursor(tenant.id)})
        await http.add_note(pack_id, "before the drop", token=tenant.staff_token)
        last = await socket.event("events")
    for number in range(20):
        await http.add_note(pack_id, f"missed {number}", token=tenant.staff_token)
    query = PACK_EVENTS.replace("cursor type", "cursor type details")
    async with GraphQLWebSocket.connect(server.ws, tenant.integration_token) as socket:
        await socket.subscribe("events", query, {"after": last["cursor"]})
        missed = await socket.events("events", 20)
        assert [event["details"]["text"] for event in missed] == [
            f"missed {number}" for number in range(20)
        ]
        assert await socket.nothing_for("events", 0.5)
        await http.add_note(pack_id, "live again", token=tenant.staff_token)
        assert (await socket.event("events"))["details"]["text"] == "live again"


async def test_events_query_pages_through_the_same_stream(orm_sqlite, server, http):
    tenant, _, pack_id = await _clinic()
    for number in range(5):
        await http.add_note(pack_id, f"note {number}", token=tenant.staff_token)
    query = """query($after: String) { events(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { cursor type details } } } }"""
    seen, after = [], None
    while True:
        page = (await http.ok(query, {"after": after}, token=tenant.integration_token))["events"]
        assert page["totalCount"] == 6  # the sale and five notes
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [event["type"] for event in seen] == ["PACK_SOLD"] + ["NOTE_ADDED"] * 5
    # The subscription resumes from any cursor of the query.
    async with GraphQLWebSocket.connect(server.ws, tenant.integration_token) as socket:
        await socket.subscribe("events", PACK_EVENTS, {"after": seen[2]["cursor"]})
        replayed = await socket.events("events", 3)
        assert [event["cursor"] for event in replayed] == [event["cursor"] for event in seen[3:]]


async def test_filters_and_bad_arguments(orm_sqlite, server, http):
    tenant, catalog, pack_id = await _clinic()
    other, _, foreign_pack = await _clinic("Other")
    after = await _latest_cursor(tenant.id)
    async with GraphQLWebSocket.connect(server.ws, tenant.owner_token) as socket:
        await socket.subscribe(
            "notes", PACK_EVENTS, {"types": ["NOTE_ADDED"], "packId": pack_id, "after": after}
        )
        await socket.subscribe("bad-cursor", PACK_EVENTS, {"after": "not-a-cursor"})
        await socket.subscribe("foreign", PACK_EVENTS, {"packId": foreign_pack})
        with pytest.raises(SubscriptionError) as bad_cursor:
            await socket.event("bad-cursor")
        assert bad_cursor.value.code == "INVALID_CURSOR"
        with pytest.raises(SubscriptionError) as foreign:
            await socket.event("foreign")
        assert foreign.value.code == "NOT_FOUND"
        await http.redeem(pack_id, gid("Service", catalog.massage.id), token=tenant.staff_token)
        await http.add_note(pack_id, "only this", token=tenant.staff_token)
        event = await socket.event("notes")
        assert event["type"] == "NOTE_ADDED"
        assert await socket.nothing_for("notes", 0.3)


async def test_websocket_security_and_limits(orm_sqlite, server):
    import json

    import websockets

    tenant, _, _ = await _clinic()
    # A bad token is refused with 4403.
    async with websockets.connect(server.ws, subprotocols=["graphql-transport-ws"]) as raw:
        await raw.send(json.dumps({"type": "connection_init", "payload": {"token": "pgk_nope"}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(raw.recv(), 5)
        assert closed.value.rcvd.code == 4403
    # Subscribing before connection_ack is refused (4401).
    async with websockets.connect(server.ws, subprotocols=["graphql-transport-ws"]) as raw:
        await raw.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": PACK_EVENTS}})
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(raw.recv(), 5)
        assert closed.value.rcvd.code == 4401
    # Subscriptions per connection are bounded (3 on this server).
    async with GraphQLWebSocket.connect(server.ws, tenant.owner_token) as socket:
        for number in range(4):
            await socket.subscribe(str(number))
        message = await socket.message("3")
        assert message["type"] == "error"
        assert "limit" in message["payload"][0]["message"].lower()


async def test_revoking_a_key_or_deactivating_staff_ends_their_subscriptions(
    orm_sqlite, server, http
):
    from packgraph.domain.auth import deactivate_staff, revoke_api_key

    tenant, _, pack_id = await _clinic()
    after = {"after": await _latest_cursor(tenant.id)}
    async with (
        GraphQLWebSocket.connect(server.ws, tenant.integration_token) as integration,
        GraphQLWebSocket.connect(server.ws, tenant.staff_token) as staff,
        GraphQLWebSocket.connect(server.ws, tenant.owner_token) as owner,
    ):
        for socket in (integration, staff, owner):
            await socket.subscribe("events", PACK_EVENTS, after)
        # A subscription that delivered an event written after it was sent is open in the hub.
        await http.add_note(pack_id, "subscribed", token=tenant.owner_token)
        for socket in (integration, staff, owner):
            assert (await socket.event("events"))["type"] == "NOTE_ADDED"
        await revoke_api_key(actor=tenant.owner, api_key_id=tenant.integration.api_key_id)
        await deactivate_staff(actor=tenant.owner, staff_id=tenant.staff.staff_id)
        for socket in (integration, staff):
            with pytest.raises(SubscriptionError) as ended:
                await socket.event("events", within=5)
            assert ended.value.code == "UNAUTHENTICATED"
            # The connection itself is closed too: nothing else runs on the old credentials.
            await asyncio.wait_for(socket.connection.wait_closed(), 5)
            assert socket.connection.close_code == 4403
        await http.add_note(pack_id, "still live for the owner", token=tenant.owner_token)
        assert (await owner.event("events"))["type"] == "NOTE_ADDED"


DETAILED = PACK_EVENTS.replace("cursor type", "cursor type details")


async def _metric(http: Http, name: str) -> float:
    """The sum of the samples of ``name`` (all its labels) on the server's /metrics."""
    response = await http.client.get("/metrics")
    total = 0.0
    for line in response.text.splitlines():
        sample = line.split(" ", 1)[0]
        if sample == name or sample.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def _until_subscriptions(http: Http, count: int) -> None:
    """Until the server's hub holds exactly ``count`` subscriptions. This module's tests share
    the server and run one at a time: 0 means the earlier tests' subscriptions are gone."""

    async def held() -> bool:
        return await _metric(http, SUBSCRIPTIONS) == count

    await until(held, 30, f"the hub to hold {count} subscriptions")


async def _write_notes(tenant, pack_pk: int, count: int, size: int = 10) -> None:
    """``count`` NOTE_ADDED events straight into the outbox, in one transaction (fast). The text
    is random so WebSocket compression cannot shrink it."""
    import secrets

    from packgraph.domain.events import append_event
    from packgraph.domain.transaction import write_transaction
    from packgraph.models import EventType, Pack

    pack = await Pack.get(id=pack_pk)
    async with write_transaction(tenant.id) as connection:
        for number in range(count):
            await append_event(
                connection,
                actor=tenant.owner,
                type=EventType.NOTE_ADDED,
                pack_id=pack.id,
                client_id=pack.client_id,  # type: ignore[attr-defined]
                payload={"text": f"bulk {number} " + secrets.token_urlsafe(size)[:size]},
            )


async def test_a_subscriber_that_stops_reading_is_cut_off_and_can_resume(orm_sqlite, server, http):
    from tests.api.support import pk

    tenant, _, pack_id = await _clinic()
    cut_off_before = await _metric(http, CUT_OFF)
    max_lag = MAX_LAG_MS / 1000
    await _until_subscriptions(http, 0)
    # The slow client stops reading: once the socket buffers are full, the server's sends block.
    async with (
        GraphQLWebSocket.connect(server.ws, tenant.owner_token) as fast,
        GraphQLWebSocket.connect(
            server.ws, tenant.integration_token, read=False, max_queue=1, compression=None
        ) as slow,
    ):
        await fast.subscribe("events", DETAILED)
        await slow.subscribe("events", DETAILED)
        # Both are live before the first burst: the slow one must fall behind the live stream.
        await _until_subscriptions(http, 2)
        total = 0
        received: list[dict] = []

        async def tick(give_up: float) -> bool:
            """One more event, on which the hub checks how long each subscriber has been behind:
            True once the slow one is cut off (or ``give_up`` has passed)."""
            nonlocal total
            await http.add_note(pack_id, "tick", token=tenant.staff_token)
            total += 1
            received.append(await fast.event("events"))
            return await _metric(http, CUT_OFF) > cut_off_before or time.monotonic() > give_up

        while await _metric(http, CUT_OFF) == cut_off_before:
            assert total < 2000, "the slow subscriber was never cut off"
            # A burst, which the fast subscriber takes in full (catching up if it must)...
            await _write_notes(tenant, pk(pack_id), 100, size=60000)
            await http.add_note(pack_id, "wake up", token=tenant.staff_token)
            total += 101
            received += await fast.events("events", 101, within=30)
            # ... then events one at a time until the slow one, behind for longer than the limit,
            # is cut off. Not cut off within twice the limit: it is not behind yet, another burst.
            give_up = time.monotonic() + 2 * max_lag
            await until(functools.partial(tick, give_up), 3 * max_lag, "the cut-off", interval=0.1)
        # The fast subscriber got everything, in order.
        assert len({event["cursor"] for event in received}) == total
        # The slow one reads what it was sent, then the resume error with its cursor.
        slow.start_reading()
        got = []
        with pytest.raises(SubscriptionError) as ended:
            while True:
                got.append(await slow.event("events"))
        assert ended.value.code == "SUBSCRIBER_TOO_SLOW"
        cursor = ended.value.extensions["cursor"]
        assert cursor == (got[-1]["cursor"] if got else cursor)
    # Resuming from that cursor gives the rest: nothing lost, nothing twice.
    async with GraphQLWebSocket.connect(server.ws, tenant.integration_token) as resumed:
        await resumed.subscribe("events", DETAILED, {"after": cursor})
        rest = await resumed.events("events", total - len(got), within=20)
    assert [event["cursor"] for event in got + rest] == [event["cursor"] for event in received]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def test_two_hundred_subscribers_all_receive_fifty_events(orm_sqlite, server, http):
    tenant, _, pack_id = await _clinic()
    subscribers, events = 200, 50
    tokens = [tenant.owner_token, tenant.staff_token, tenant.integration_token]
    await _until_subscriptions(http, 0)
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for number in range(subscribers):
            socket = await stack.enter_async_context(
                GraphQLWebSocket.connect(server.ws, tokens[number % 3])
            )
            await socket.subscribe("events", DETAILED)
            sockets.append(socket)
        # Every subscription is live before the first event: its latency is a live delivery's.
        await _until_subscriptions(http, subscribers)
        texts: list[list[str]] = [[] for _ in sockets]
        from_response, from_request = [], []
        for number in range(events):
            sent = time.perf_counter()
            answered = await http.add_note(pack_id, f"event {number}", token=tenant.staff_token)
            # Each event reaches every subscriber before the next is written: its latency is
            # its own fan-out, not a wait behind the events before it.
            for socket, got in zip(sockets, texts, strict=True):
                received, message = await socket.timed_message("events", within=30)
                got.append(message["payload"]["data"]["packEvents"]["details"]["text"])
                from_response.append(received - answered)
                from_request.append(received - sent)
        for got in texts:
            assert got == [f"event {number}" for number in range(events)]
    print(
        f"\n{subscribers} subscribers x {events} events: delivery latency after the mutation's "
        f"response p50 {_percentile(from_response, 0.5) * 1000:.1f} ms, "
        f"p99 {_percentile(from_response, 0.99) * 1000:.1f} ms "
        f"(after its request: p50 {_percentile(from_request, 0.5) * 1000:.1f} ms, "
        f"p99 {_percentile(from_request, 0.99) * 1000:.1f} ms)"
    )
