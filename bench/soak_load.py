"""The soak's workload against one running packgraph (issue 24): what a busy clinic does all day.

- **Long-lived subscribers**: the dashboard's ``PackEvents`` subscription, each resuming from a
  recent cursor of its own, signed in as the demo's staff, manager or owner in turn: three
  execution groups on the server (a result is shared by the subscribers of one role, whatever
  their cursor). Events of a business have a gapless ``seq`` and these subscribers take every
  type, so each must receive ``seq``, ``seq + 1``, ...: anything lost, duplicated or out of
  order is counted.
- **Churn**: short sessions that connect, subscribe (half of them resuming with ``after``), read a
  few events, then complete and close, or drop the TCP connection without a goodbye. A resumed
  session must receive exactly the events after its cursor.
- **Writers**: ``redeemSession`` and ``sellPack`` (with idempotency keys), ``recordPayment`` and
  ``addPackNote``, each writer pausing ``think`` seconds between operations.
- **Readers**: the dashboard's board query (50 cards), pausing ``think`` seconds.

Latencies are kept as ``(time, seconds)`` pairs so the runner can cut them into windows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.api import BOARD_QUERY, PACK_EVENTS_SUBSCRIPTION, DemoCatalog, Session, gid
from packgraph.resolvers.events import CURSOR_TAG, event_cursor
from packgraph.resolvers.ids import decode_cursor

REDEEM = """
mutation Redeem($input: RedeemSessionInput!) {
  redeemSession(input: $input) { userErrors { code message } pack { id version } }
}
"""
SELL = """
mutation Sell($input: SellPackInput!) {
  sellPack(input: $input) { userErrors { code message } pack { id finalPrice } }
}
"""
PAY = """
mutation Pay($input: RecordPaymentInput!) {
  recordPayment(input: $input) { userErrors { code message } }
}
"""
NOTE = """
mutation Note($input: AddPackNoteInput!) {
  addPackNote(input: $input) { userErrors { code message } }
}
"""
EVENTS_PAGE = """
query Events($after: String) {
  events(after: $after, first: 100) { pageInfo { hasNextPage endCursor } edges { cursor } }
}
"""
SALE_PRICE = 100_00
INSTALMENT = 25_00


def cursor_seq(cursor: str) -> int:
    """The ``seq`` behind an event cursor (opaque to integrations; the soak checks gaps with it)."""
    values = decode_cursor(cursor, CURSOR_TAG)
    assert values is not None
    return int(values[1])


@dataclass
class Tally:
    """What the workload did and saw; the runner reads it while the soak runs."""

    writes: list[tuple[float, float]] = field(default_factory=list)
    reads: list[tuple[float, float]] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    churn_sessions: int = 0
    churn_resumed: int = 0
    churn_dropped: int = 0
    latest_seq: int = 0

    def error(self, text: str) -> None:
        if len(self.errors) < 50:
            self.errors.append(text)
        else:
            self.errors[-1] = f"... and more ({text})"


class Subscriber:
    """One long-lived dashboard subscription, checked event by event."""

    def __init__(self, index: int, after_seq: int, token: str) -> None:
        self.index = index
        self.after_seq = after_seq
        self.token = token
        self.last_seq = after_seq
        self.received = 0
        self.problems: list[str] = []
        self.caught_up = asyncio.Event()
        self.target = 0

    def take(self, seq: int) -> None:
        if seq != self.last_seq + 1:
            kind = "duplicate or out of order" if seq <= self.last_seq else "gap"
            if len(self.problems) < 5:
                self.problems.append(f"{kind}: {self.last_seq} then {seq}")
        self.last_seq = max(self.last_seq, seq)
        self.received += 1
        if self.target and self.last_seq >= self.target:
            self.caught_up.set()


async def open_graphql_socket(ws_url: str, token: str) -> ClientConnection:
    websocket = await connect(
        ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_size=None,
        open_timeout=60,
        ping_interval=None,
    )
    await websocket.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    ack = json.loads(await asyncio.wait_for(websocket.recv(), 60))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    return websocket


async def subscribe(websocket: ClientConnection, operation_id: str, after: str | None) -> None:
    payload = {"query": PACK_EVENTS_SUBSCRIPTION, "variables": {"after": after}}
    await websocket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))


def event_seq(text: str | bytes) -> int:
    """The ``seq`` of a ``next`` message; anything else (an error, a completion) raises."""
    message = json.loads(text)
    if message.get("type") != "next" or message["payload"].get("errors"):
        raise RuntimeError(f"not an event: {str(message)[:300]}")
    return cursor_seq(message["payload"]["data"]["packEvents"]["cursor"])


@dataclass
class Workload:
    base_url: str
    session: Session
    catalog: DemoCatalog
    redeemable: list[dict[str, Any]]
    think: float
    tally: Tally = field(default_factory=Tally)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"

    @property
    def business_id(self) -> int:
        return self.catalog.business_id

    # -- subscribers ---------------------------------------------------------------------------

    async def recent_seqs(self, count: int) -> list[int]:
        """The ``seq`` of the business's last ``count`` events (the cursors subscribers resume
        from)."""
        seqs: list[int] = []
        after: str | None = None
        while True:
            page = (await self.session.run(EVENTS_PAGE, {"after": after}))["events"]
            seqs = (seqs + [cursor_seq(edge["cursor"]) for edge in page["edges"]])[-count:]
            if not page["pageInfo"]["hasNextPage"]:
                return seqs
            after = page["pageInfo"]["endCursor"]

    async def run_subscriber(self, subscriber: Subscriber, ready: asyncio.Event) -> None:
        websocket = await open_graphql_socket(self.ws_url, subscriber.token)
        try:
            await subscribe(websocket, "1", event_cursor(self.business_id, subscriber.after_seq))
            ready.set()
            async for text in websocket:
                seq = event_seq(text)
                subscriber.take(seq)
                if subscriber.index == 0:
                    self.tally.latest_seq = max(self.tally.latest_seq, seq)
        except ConnectionClosed as closed:
            if not self.stopping.is_set():
                subscriber.problems.append(f"socket closed: {closed}")
        except Exception as error:  # noqa: BLE001 - recorded as the subscriber's failure
            subscriber.problems.append(f"{type(error).__name__}: {error}")
            ready.set()
        finally:
            await websocket.close()

    # -- churn ---------------------------------------------------------------------------------

    async def churn(self, rng: random.Random) -> None:
        while not self.stopping.is_set():
            try:
                await self._churn_session(rng)
            except Exception as error:  # noqa: BLE001
                self.tally.error(f"churn: {type(error).__name__}: {error}")
            await asyncio.sleep(rng.uniform(0.05, 0.3))

    async def _churn_session(self, rng: random.Random) -> None:
        resume = self.tally.latest_seq > 20 and rng.random() < 0.5
        after_seq = self.tally.latest_seq - rng.randint(0, 20) if resume else None
        wanted = rng.randint(1, 5)
        websocket = await open_graphql_socket(self.ws_url, self.session.token)
        drop = rng.random() < 0.4
        try:
            after = event_cursor(self.business_id, after_seq) if after_seq is not None else None
            await subscribe(websocket, "1", after)
            seqs = [event_seq(await asyncio.wait_for(websocket.recv(), 30)) for _ in range(wanted)]
            first = after_seq + 1 if after_seq is not None else seqs[0]
            if seqs != list(range(first, first + wanted)):
                self.tally.error(f"churn session after {after_seq} received {seqs}")
            self.tally.churn_sessions += 1
            self.tally.churn_resumed += after_seq is not None
            if not drop:
                await websocket.send(json.dumps({"id": "1", "type": "complete"}))
        finally:
            if drop:
                # Gone without a close frame, as a phone losing its network.
                self.tally.churn_dropped += 1
                websocket.transport.abort()
            else:
                await websocket.close()

    # -- writers and readers ---------------------------------------------------------------------

    async def timed(
        self, kind: str, query: str, variables: dict[str, Any], session: Session | None = None
    ) -> Any:
        started = time.perf_counter()
        try:
            data = await (session or self.session).run(query, variables)
        except Exception as error:  # noqa: BLE001
            self.tally.error(f"{kind}: {type(error).__name__}: {str(error)[:300]}")
            return None
        elapsed = time.perf_counter() - started
        self.tally.operations[kind] = self.tally.operations.get(kind, 0) + 1
        (self.tally.reads if kind == "board" else self.tally.writes).append((time.time(), elapsed))
        payload = next(iter(data.values()))
        if isinstance(payload, dict) and payload.get("userErrors"):
            self.tally.error(f"{kind}: {payload['userErrors']}")
            return None
        return payload

    async def writer(self, rng: random.Random) -> None:
        unpaid: list[tuple[str, int]] = []  # (pack id, still due) of this writer's sales
        while not self.stopping.is_set():
            roll = rng.random()
            if roll < 0.45:
                await self._redeem(rng)
            elif roll < 0.7:
                await self._note(rng)
            elif roll < 0.85 and unpaid:
                pack_id, due = unpaid.pop(0)
                payment = {"input": {"packId": pack_id, "amount": INSTALMENT, "method": "CARD"}}
                await self.timed("recordPayment", PAY, payment)
                if due > INSTALMENT:
                    unpaid.append((pack_id, due - INSTALMENT))
            else:
                sold = await self._sell(rng)
                if sold is not None:
                    unpaid.append((sold, SALE_PRICE))
            await asyncio.sleep(self.think * rng.uniform(0.5, 1.5))

    async def _redeem(self, rng: random.Random) -> None:
        pack = rng.choice(self.redeemable)
        service = rng.choice(self.catalog.service_ids)
        variables = {
            "input": {
                "packId": gid("Pack", pack["pack_id"]),
                "serviceId": gid("Service", service),
                "idempotencyKey": uuid.uuid4().hex,
            }
        }
        await self.timed("redeemSession", REDEEM, variables)

    async def _note(self, rng: random.Random) -> None:
        pack = rng.choice(self.redeemable)
        text = f"Soak note {uuid.uuid4().hex[:8]}: client asked about next week's times."
        variables = {"input": {"packId": gid("Pack", pack["pack_id"]), "text": text}}
        await self.timed("addPackNote", NOTE, variables)

    async def _sell(self, rng: random.Random) -> str | None:
        client = rng.choice(self.catalog.client_ids)
        variables = {
            "input": {
                "clientId": gid("Client", client),
                "idempotencyKey": uuid.uuid4().hex,
                "custom": {
                    "name": "Soak 5 sessions",
                    "metric": "SESSIONS",
                    "price": SALE_PRICE,
                    "items": [
                        {
                            "allowance": 5,
                            "serviceIds": [gid("Service", s) for s in self.catalog.service_ids],
                        }
                    ],
                },
            }
        }
        payload = await self.timed("sellPack", SELL, variables)
        return payload["pack"]["id"] if payload else None

    async def reader(self, rng: random.Random) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as client:
            board = Session(client, self.session.token)
            variables = {"filter": {"status": "ACTIVE"}, "first": 50}
            while not self.stopping.is_set():
                await self.timed("board", BOARD_QUERY, variables, board)
                await asyncio.sleep(self.think * rng.uniform(0.5, 1.5))


async def last_event_seq(workload: Workload, known: int) -> int:
    """The business's last ``seq``, paging ``events`` from ``known``."""
    seq = known
    while True:
        page = (
            await workload.session.run(
                EVENTS_PAGE, {"after": event_cursor(workload.business_id, seq)}
            )
        )["events"]
        if page["edges"]:
            seq = cursor_seq(page["edges"][-1]["cursor"])
        if not page["pageInfo"]["hasNextPage"]:
            return seq


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
