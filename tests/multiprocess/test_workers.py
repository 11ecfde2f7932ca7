"""``packgraph serve --workers 2`` on PostgreSQL + Redis: the workers share one port, so a client
does not choose its worker. Which worker holds each connection is read from /proc, to prove that
subscribers on either worker get the events of mutations served by either, and that the expiry
job, running in every worker, expires and reminds each pack exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import pytest
from tortoise import Tortoise

from packgraph.domain.clock import utcnow
from packgraph.models import Business, Event, EventType, Pack, PackStatus, Task, TaskKind
from packgraph.resolvers.events import event_cursor
from tests.api.support import gid, given_catalog, given_pack, make_tenant
from tests.databases import init_orm
from tests.live.client import PACK_EVENTS, GraphQLWebSocket
from tests.multiprocess.cluster import PackgraphServer
from tests.waiting import until

ADD_NOTE = """
mutation Note($input: AddPackNoteInput!) { addPackNote(input: $input) { userErrors { code } } }
"""
DUE_PACKS = 6
REMINDED_PACKS = 4
# Due a few seconds after they are sold: by then both workers run the job every second.
DUE_IN = timedelta(seconds=8)


@pytest.fixture(scope="module")
def expiring(database) -> dict[str, list[int]]:
    """Packs of one business that fall due while the server runs, and packs to remind."""

    async def sell() -> dict[str, list[int]]:
        await init_orm(database.url)
        try:
            tenant = await make_tenant("Expiry")
            given = await given_catalog(tenant)
            due = [
                (await given_pack(tenant, given, expires_at=utcnow() + DUE_IN)).pack.id
                for _ in range(DUE_PACKS)
            ]
            soon = [
                (await given_pack(tenant, given, expires_at=utcnow() + timedelta(days=5))).pack.id
                for _ in range(REMINDED_PACKS)
            ]
            return {"due": due, "soon": soon}
        finally:
            await Tortoise.close_connections()

    return asyncio.run(sell())


@pytest.fixture(scope="module")
def server(database, redis, expiring, tmp_path_factory):
    workers = PackgraphServer(
        "workers",
        database.url,
        broadcast_url=redis.url,
        workdir=tmp_path_factory.mktemp("workers"),
        workers=2,
        expiry_interval_seconds=1,
    )
    try:
        workers.launch()
        workers.wait_ready()
        yield workers
    finally:
        workers.stop()


async def _sockets_on_both_workers(stack, server: PackgraphServer, token: str, wanted: int):
    """Open WebSockets through the shared port until each of the two workers holds ``wanted``
    (a worker still starting takes none); returns them by worker pid."""
    by_worker: dict[int, list[GraphQLWebSocket]] = {}

    async def spread_one_more() -> bool:
        own = contextlib.AsyncExitStack()
        socket = await own.enter_async_context(GraphQLWebSocket.connect(server.ws, token))
        pid = server.owner_of(socket.connection.local_address[1])
        assert pid is not None, "no process holds the connection"
        if len(by_worker.setdefault(pid, [])) < wanted:
            by_worker[pid].append(socket)
            stack.push_async_callback(own.aclose)
        else:
            await own.aclose()
        return len(by_worker) == 2 and all(len(group) == wanted for group in by_worker.values())

    await until(spread_one_more, 30, f"{wanted} connections held by each of both workers")
    return by_worker


async def test_subscribers_on_both_workers_get_the_events_of_mutations_on_either(orm, server):
    tenant = await make_tenant("Workers")
    given = await given_catalog(tenant)
    pack_id = gid("Pack", (await given_pack(tenant, given)).pack.id)
    start = (await Business.get(id=tenant.id)).event_seq
    async with contextlib.AsyncExitStack() as stack:
        by_worker = await _sockets_on_both_workers(stack, server, tenant.staff_token, 2)
        sockets = [socket for group in by_worker.values() for socket in group]
        for socket in sockets:
            await socket.subscribe("events", PACK_EVENTS, {"after": event_cursor(tenant.id, start)})
        writers = [group[0] for group in by_worker.values()]
        for number in range(6):
            # Over the WebSocket, so the worker that serves the mutation is known.
            writer = writers[number % 2]
            await writer.subscribe(
                f"note{number}", ADD_NOTE, {"input": {"packId": pack_id, "text": f"n{number}"}}
            )
            answer = await writer.message(f"note{number}")
            assert answer["type"] == "next", answer
            assert answer["payload"]["data"]["addPackNote"]["userErrors"] == [], answer

        seqs = await (
            Event.filter(business_id=tenant.id, seq__gt=start)
            .order_by("seq")
            .values_list("seq", flat=True)
        )
        expected = [event_cursor(tenant.id, seq) for seq in seqs]
        assert len(expected) == 6
        for socket in sockets:
            received = await socket.events("events", 6, 15)
            assert [event["cursor"] for event in received] == expected
            assert {event["type"] for event in received} == {"NOTE_ADDED"}
            assert await socket.nothing_for("events", 0.2)


async def _metrics_of_each_worker(server: PackgraphServer) -> dict[int, str]:
    """``/metrics`` of every worker, each read over a connection the worker is known to hold."""
    pages: dict[int, str] = {}
    held = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            held.append(writer)
            port = writer.get_extra_info("sockname")[1]
            # Until a worker accepted it, the connection waits in the listen queue, held by none.
            await until(lambda port=port: server.owner_of(port) is not None, 10, "an accept")
            pid = server.owner_of(port)
            if pid in pages:
                continue
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            await writer.drain()
            pages[pid] = (await asyncio.wait_for(reader.read(), 10)).decode()
            if len(pages) == 2:
                return pages
    finally:
        for writer in held:
            writer.close()
    raise AssertionError(f"could not reach both workers: {list(pages)}")


def _counter(page: str, sample: str) -> float:
    for line in page.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def _expiry_runs(pages: dict[int, str]) -> dict[int, float]:
    """Successful expiry runs so far, by worker pid."""
    return {
        pid: _counter(page, 'packgraph_expiry_runs_total{outcome="ok"}')
        for pid, page in pages.items()
    }


async def test_both_workers_run_the_expiry_job_and_each_pack_expires_once(orm, server, expiring):
    due, soon = expiring["due"], expiring["soon"]

    async def processed() -> bool:
        expired = await Pack.filter(id__in=due, status=PackStatus.EXPIRED).count()
        reminded = await Pack.filter(id__in=soon, expiry_reminder_sent_at__isnull=False).count()
        return expired == len(due) and reminded == len(soon)

    await until(processed, 60, "the due packs to expire and the reminders to go out")
    # Both workers go on running the job: two more runs each (one at least started after the
    # packs were processed) must find nothing left to do.
    runs_then = _expiry_runs(await _metrics_of_each_worker(server))

    async def two_more_runs_each() -> bool:
        runs_now = _expiry_runs(await _metrics_of_each_worker(server))
        return runs_now.keys() == runs_then.keys() and all(
            runs_now[pid] >= runs_then[pid] + 2 for pid in runs_then
        )

    await until(two_more_runs_each, 30, "two more expiry runs in each worker", interval=0.5)
    for pack_id in due:
        events = Event.filter(pack_id=pack_id, type=EventType.PACK_EXPIRED)
        assert await events.count() == 1, pack_id
        assert await Task.filter(pack_id=pack_id, kind=TaskKind.PACK_EXPIRED).count() == 1
    for pack_id in soon:
        events = Event.filter(pack_id=pack_id, type=EventType.PACK_EXPIRING_SOON)
        assert await events.count() == 1, pack_id
        assert await Pack.filter(id=pack_id, status=PackStatus.ACTIVE).exists()
    assert "Traceback" not in server.log()
