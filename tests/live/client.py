"""A small graphql-transport-ws client on the ``websockets`` library, as an integration writes it.

async with GraphQLWebSocket.connect(server.ws, token) as socket:
    await socket.subscribe("1", PACK_EVENTS, {"after": cursor})
    events = await socket.events("1", count=20)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import websockets

PACK_EVENTS = """
subscription PackEvents($after: String, $packId: ID, $types: [PackEventType!]) {
  packEvents(after: $after, packId: $packId, types: $types) {
    cursor type occurredAt
    actor { kind name }
    pack { id status version totals { used allowance } items { used allowance } }
  }
}
"""


class SubscriptionError(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0].get("message", "error"))
        self.errors = errors

    @property
    def code(self) -> str | None:
        return (self.errors[0].get("extensions") or {}).get("code")

    @property
    def extensions(self) -> dict[str, Any]:
        return self.errors[0].get("extensions") or {}


class GraphQLWebSocket:
    """One WebSocket; messages are sorted by operation id as they arrive."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.queues: dict[str, asyncio.Queue[tuple[float, dict[str, Any]]]] = {}
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, url: str, token: str | None, *, read: bool = True, **options: Any
    ) -> AsyncIterator[GraphQLWebSocket]:
        async with websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],
            open_timeout=10,
            # Tests stop reading on purpose; the library's keepalive would then close the socket.
            **{"ping_interval": None, **options},
        ) as connection:
            socket = cls(connection)
            await socket.init(token)
            if read:
                socket.start_reading()
            yield socket
            if socket._reader is not None:
                socket._reader.cancel()

    async def init(self, token: str | None) -> None:
        payload = {"token": token} if token is not None else {}
        await self.connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        message = json.loads(await asyncio.wait_for(self.connection.recv(), 10))
        assert message["type"] == "connection_ack", message

    def start_reading(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                received = time.perf_counter()
                message = json.loads(raw)
                if "id" in message:
                    self._queue(message["id"]).put_nowait((received, message))
        except websockets.ConnectionClosed:
            pass  # the test looks at close_code when it cares

    def _queue(self, operation_id: str) -> asyncio.Queue[tuple[float, dict[str, Any]]]:
        return self.queues.setdefault(operation_id, asyncio.Queue())

    async def subscribe(
        self, operation_id: str, query: str = PACK_EVENTS, variables: dict | None = None
    ) -> None:
        message = {
            "id": operation_id,
            "type": "subscribe",
            "payload": {"query": query, "variables": variables or {}},
        }
        await self.connection.send(json.dumps(message))

    async def complete(self, operation_id: str) -> None:
        await self.connection.send(json.dumps({"id": operation_id, "type": "complete"}))

    async def message(self, operation_id: str, within: float = 10) -> dict[str, Any]:
        return (await self.timed_message(operation_id, within))[1]

    async def timed_message(
        self, operation_id: str, within: float = 10
    ) -> tuple[float, dict[str, Any]]:
        return await asyncio.wait_for(self._queue(operation_id).get(), within)

    async def event(self, operation_id: str, within: float = 10) -> dict[str, Any]:
        """The next event of a subscription; SubscriptionError when it ends with an error."""
        message = await self.message(operation_id, within)
        return _event_of(message)

    async def events(self, operation_id: str, count: int, within: float = 10) -> list[dict]:
        return [await self.event(operation_id, within) for _ in range(count)]

    async def nothing_for(self, operation_id: str, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._queue(operation_id).get(), seconds)
        except TimeoutError:
            return True
        return False


def _event_of(message: dict[str, Any]) -> dict[str, Any]:
    if message["type"] == "next":
        payload = message["payload"]
        if payload.get("errors"):
            raise SubscriptionError(payload["errors"])
        return payload["data"]["packEvents"]
    if message["type"] == "error":
        raise SubscriptionError(message["payload"])
    raise SubscriptionError([{"message": f"subscription ended: {message}"}])


class Http:
    """GraphQL over HTTP against a running server."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=30)

    async def close(self) -> None:
        await self.client.aclose()

    async def ok(self, query: str, variables: dict | None = None, *, token: str) -> dict:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def add_note(self, pack_id: str, text: str, *, token: str) -> float:
        """Run ``addPackNote``; returns the time its response arrived."""
        data = await self.ok(
            "mutation($input: AddPackNoteInput!) { addPackNote(input: $input) "
            "{ userErrors { code message } } }",
            {"input": {"packId": pack_id, "text": text}},
            token=token,
        )
        assert data["addPackNote"]["userErrors"] == []
        return time.perf_counter()

    async def redeem(self, pack_id: str, service_id: str, *, token: str) -> dict:
        data = await self.ok(
            "mutation($input: RedeemSessionInput!) { redeemSession(input: $input) "
            "{ userErrors { code message } pack { id version totals { used } } } }",
            {"input": {"packId": pack_id, "serviceId": service_id}},
            token=token,
        )
        assert data["redeemSession"]["userErrors"] == []
        return data["redeemSession"]
