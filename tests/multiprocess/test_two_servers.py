"""Two separately started ``packgraph serve`` processes on one PostgreSQL database (migrated once
by ``packgraph migrate``), waking each other through Redis (or PostgreSQL LISTEN/NOTIFY), with
clients spread over both and no balancer in front: nothing may depend on a process's memory.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from packgraph.domain import auth, catalog
from packgraph.models import (
    Business,
    Event,
    EventType,
    LedgerEntry,
    LedgerKind,
    Metric,
    Pack,
    PackItem,
    PackStatus,
)
from packgraph.resolvers.events import event_cursor
from tests.api.support import gid, given_catalog, given_pack, make_tenant
from tests.multiprocess.clients import GraphQLHttp, ResumingSubscriber
from tests.multiprocess.cluster import PackgraphServer, start_all
from tests.waiting import until

LOGIN_MAX_ATTEMPTS = 4


@pytest.fixture(scope="module")
def servers(database, redis, tmp_path_factory):
    """Servers a and b, started on their own, sharing the database and a Redis broker."""
    workdir = tmp_path_factory.mktemp("servers")
    pair = [
        PackgraphServer(
            name,
            database.url,
            broadcast_url=redis.url,
            workdir=workdir,
            login_max_attempts=LOGIN_MAX_ATTEMPTS,
        )
        for name in "ab"
    ]
    try:
        start_all(*pair)
        yield pair
    finally:
        for server in pair:
            server.stop()


@pytest.fixture(scope="module")
def listen_notify_servers(database, tmp_path_factory):
    """Servers c and d, woken through PostgreSQL LISTEN/NOTIFY: no Redis at all."""
    workdir = tmp_path_factory.mktemp("listen-notify")
    pair = [
        PackgraphServer(name, database.url, broadcast_url=database.url, workdir=workdir)
        for name in "cd"
    ]
    try:
        start_all(*pair)
        yield pair
    finally:
        for server in pair:
            server.stop()


async def _latest_seq(business_id: int) -> int:
    """The business's last event: subscribing after it gives everything new."""
    return (await Business.get(id=business_id)).event_seq


async def _outbox_cursors(business_id: int, after_seq: int) -> list[str]:
    """The cursors of the outbox rows after ``after_seq``, in ``seq`` order: the truth."""
    seqs = await (
        Event.filter(business_id=business_id, seq__gt=after_seq)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    return [event_cursor(business_id, seq) for seq in seqs]


# --- the tests ----------------------------------------------------------------------------------


def test_the_database_was_migrated_by_one_packgraph_migrate(database):
    assert "applied models.0001_initial" in database.migrate_output
    assert "applied models.0003_board_indexes" in database.migrate_output


async def test_100_concurrent_redemptions_through_two_servers_redeem_exactly_the_10_sessions(
    orm, servers
):
    tenant = await make_tenant("Race")
    given = await given_catalog(tenant)
    sale = await given_pack(tenant, given)
    variables = {"packId": gid("Pack", sale.pack.id), "serviceId": gid("Service", given.massage.id)}

    async with GraphQLHttp(servers[0].http) as first, GraphQLHttp(servers[1].http) as second:
        payloads = await asyncio.gather(
            *(
                (first, second)[number % 2].mutate(
                    "redeemSession",
                    variables,
                    "pack { id } entry { sessionNumber }",
                    token=tenant.staff_token,
                )
                for number in range(100)
            )
        )

    redeemed = [payload for payload in payloads if not payload["userErrors"]]
    refused = [payload for payload in payloads if payload["userErrors"]]
    assert len(redeemed) == 10
    assert sorted(payload["entry"]["sessionNumber"] for payload in redeemed) == list(range(1, 11))
    assert len(refused) == 90
    for payload in refused:
        (error,) = payload["userErrors"]
        # Before the last session is gone the balance is short; after it the pack is used up.
        assert error["code"] in {"INSUFFICIENT_BALANCE", "PACK_NOT_ACTIVE"}, error
        assert error["message"]
        assert payload["pack"] is None and payload["entry"] is None

    entries = await LedgerEntry.filter(pack_id=sale.pack.id, kind=LedgerKind.REDEMPTION)
    assert len(entries) == 10
    item = await PackItem.get(pack_id=sale.pack.id)
    assert (item.used, item.allowance) == (10, 10)
    assert (await Pack.get(id=sale.pack.id)).status == PackStatus.FULLY_USED
    events = Event.filter(business_id=tenant.id, pack_id=sale.pack.id)
    assert await events.filter(type=EventType.SESSION_REDEEMED).count() == 10
    assert await events.filter(type=EventType.PACK_FULLY_USED).count() == 1
    assert sorted(entry.id for entry in entries) == sorted(
        await events.filter(type=EventType.SESSION_REDEEMED).values_list("entry_id", flat=True)
    )


async def _events_from_both_servers_reach_all_subscribers_in_one_order(pair) -> None:
    tenant = await make_tenant("Chain")
    given = await given_catalog(tenant)
    pack_id = gid("Pack", (await given_pack(tenant, given)).pack.id)
    start = await _latest_seq(tenant.id)
    after = event_cursor(tenant.id, start)
    subscribers = [
        ResumingSubscriber(f"{server.name}{number}", [server.ws], tenant.owner_token, after=after)
        for server in pair
        for number in range(2)
    ]
    for subscriber in subscribers:
        subscriber.start()
    try:
        await until(
            lambda: all(sub.subscribed.is_set() for sub in subscribers), 15, "subscriptions"
        )

        async def notes(server: PackgraphServer, count: int) -> None:
            async with GraphQLHttp(server.http) as client:
                for number in range(count):
                    payload = await client.mutate(
                        "addPackNote",
                        {"packId": pack_id, "text": f"{server.name}{number}"},
                        token=tenant.staff_token,
                    )
                    assert payload["userErrors"] == []

        # Both servers write at the same time: their events interleave in the outbox.
        await asyncio.gather(notes(pair[0], 15), notes(pair[1], 15))
        expected = await _outbox_cursors(tenant.id, start)
        assert len(expected) == 30
        await until(
            lambda: all(len(sub.events) >= 30 for sub in subscribers), 30, "30 events everywhere"
        )
        await asyncio.sleep(0.3)  # nothing more may come
        for subscriber in subscribers:
            assert subscriber.cursors() == expected, subscriber.name
            assert {event["type"] for event in subscriber.events} == {"NOTE_ADDED"}
            assert subscriber.moves == 0 and subscriber.errors == []
    finally:
        for subscriber in subscribers:
            await subscriber.stop()


async def test_events_from_either_server_reach_subscribers_of_both_in_the_same_order(orm, servers):
    await _events_from_both_servers_reach_all_subscribers_in_one_order(servers)


async def test_the_same_with_postgres_listen_notify_instead_of_redis(orm, listen_notify_servers):
    await _events_from_both_servers_reach_all_subscribers_in_one_order(listen_notify_servers)


async def test_a_server_killed_mid_stream_loses_nothing_for_clients_that_move(
    orm, database, redis, servers, tmp_path
):
    """SIGKILL one server while redemptions go on: the other keeps serving; its clients
    resubscribe on the survivor from their last cursor and miss or repeat nothing."""
    survivor = servers[1]
    victim = PackgraphServer("victim", database.url, broadcast_url=redis.url, workdir=tmp_path)
    tenant = await make_tenant("Crash")
    given = await given_catalog(tenant)
    hundred = await catalog.create_pack_template(
        actor=tenant.owner,
        name="100 massages",
        metric=Metric.SESSIONS,
        price=5000_00,
        items=[catalog.TemplateItemSpec(allowance=100, service_ids=[given.massage.id])],
    )
    sale = await given_pack(tenant, given, template_id=hundred.id)
    variables = {"packId": gid("Pack", sale.pack.id), "serviceId": gid("Service", given.massage.id)}
    start = await _latest_seq(tenant.id)
    after = event_cursor(tenant.id, start)
    total = 40
    subscribers: list[ResumingSubscriber] = []
    try:
        await asyncio.to_thread(start_all, victim)
        on_victim = [
            ResumingSubscriber(
                f"v{n}", [victim.ws, survivor.ws], tenant.integration_token, after=after
            )
            for n in range(3)
        ]
        on_survivor = [
            ResumingSubscriber(f"s{n}", [survivor.ws], tenant.integration_token, after=after)
            for n in range(2)
        ]
        subscribers += on_victim + on_survivor
        for subscriber in subscribers:
            subscriber.start()
        await until(lambda: all(sub.subscribed.is_set() for sub in subscribers), 15, "subscribed")

        async with GraphQLHttp(victim.http) as to_victim, GraphQLHttp(survivor.http) as to_survivor:
            done = {"victim": 0, "survivor": 0}
            retried: list[str] = []

            async def redeem(client: GraphQLHttp, key: str) -> dict:
                return await client.mutate(
                    "redeemSession",
                    {**variables, "idempotencyKey": key},
                    "entry { id }",
                    token=tenant.staff_token,
                )

            async def drive(name: str, client: GraphQLHttp) -> None:
                """A front desk sending redemptions one after another through ``client``."""
                for number in range(total // 2):
                    key = f"{name}-{number}-{uuid.uuid4().hex[:6]}"
                    try:
                        payload = await redeem(client, key)
                    except httpx.TransportError:
                        # The balancer's job: the request goes to the other server with the
                        # same idempotency key, so a redemption that did commit before the
                        # crash is not made twice; and so do the requests after it.
                        retried.append(key)
                        client = to_survivor
                        payload = await redeem(client, key)
                    assert payload["userErrors"] == [], payload
                    done[name] += 1
                    await asyncio.sleep(0.02)

            async def crash() -> None:
                # Mid-stream: redemptions are in flight on both servers and the victim's
                # subscribers are receiving their events.
                await until(lambda: done["victim"] >= 6, 30, "traffic on the victim")
                await until(lambda: all(len(sub.events) >= 3 for sub in on_victim), 15, "events")
                victim.kill()

            await asyncio.gather(
                drive("victim", to_victim), drive("survivor", to_survivor), crash()
            )
            assert retried, "no request reached the dead server"
            # The survivor kept serving throughout.
            assert (await to_survivor.client.get("/readyz")).status_code == 200

        expected = await _outbox_cursors(tenant.id, start)
        redemptions = await Event.filter(
            business_id=tenant.id, type=EventType.SESSION_REDEEMED
        ).count()
        assert redemptions == total  # every redemption exactly once, retries included
        assert len(expected) == total
        await until(
            lambda: all(len(sub.events) >= len(expected) for sub in subscribers),
            30,
            "every event on every subscriber",
        )
        await asyncio.sleep(0.3)
        for subscriber in subscribers:
            assert subscriber.cursors() == expected, subscriber.name
        for subscriber in on_victim:
            assert subscriber.moves >= 1 and subscriber.url == survivor.ws, subscriber.name
        assert (await PackItem.get(pack_id=sale.pack.id)).used == total
    finally:
        for subscriber in subscribers:
            await subscriber.stop()
        victim.kill()


async def test_failed_logins_spread_over_both_servers_share_one_limit(orm, servers):
    tenant = await make_tenant("Guarded")
    email = f"guarded-{uuid.uuid4().hex[:8]}@example.test"
    await auth.create_staff(
        business_id=tenant.id, name="Guarded", email=email, role="STAFF", password="right horse"
    )
    query = "userErrors { code message } token"
    async with GraphQLHttp(servers[0].http) as first, GraphQLHttp(servers[1].http) as second:
        clients = (first, second)
        for number in range(LOGIN_MAX_ATTEMPTS):
            payload = await clients[number % 2].mutate(
                "login", {"email": email, "password": f"wrong {number}"}, query, token=None
            )
            assert [error["code"] for error in payload["userErrors"]] == ["INVALID_CREDENTIALS"]
        # Each server saw only half of the failures, yet both refuse even the right password.
        for client in clients:
            payload = await client.mutate(
                "login", {"email": email, "password": "right horse"}, query, token=None
            )
            assert [error["code"] for error in payload["userErrors"]] == ["RATE_LIMITED"]
            assert payload["token"] is None
