"""Clients of several servers: GraphQL over HTTP, and an integration's subscriber that keeps its
last cursor and, when its server goes away, subscribes again on another with ``after`` set to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import websockets

EVENTS = """
subscription Events($after: String) {
  packEvents(after: $after) { cursor type pack { id } }
}
"""


class GraphQLHttp:
    """GraphQL over HTTP against one server; answers are returned as they are (userErrors too)."""

    def __init__(self, base_url: str, *, connections: int = 60) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=60,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=10),
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> GraphQLHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def run(self, query: str, variables: dict | None = None, *, token: str | None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def mutate(
        self, name: str, input: dict, selection: str = "", *, token: str | None
    ) -> dict:
        """The payload of mutation ``name`` (its ``userErrors`` included)."""
        input_type = name[0].upper() + name[1:] + "Input"
        query = (
            f"mutation Run($input: {input_type}!) {{ {name}(input: $input) {{ "
            f"userErrors {{ code field message }} {selection} }} }}"
        )
        return (await self.run(query, {"input": input}, token=token))[name]


class ResumingSubscriber:
    """``packEvents`` from ``after``, on the first of ``urls`` that answers.

    Every event's cursor is kept; when the connection drops (its server died), the subscriber
    moves to the next URL and subscribes again with ``after`` = the last cursor it received, as
    docs/integrations.md tells an integration to do. ``events`` is everything received, in order.
    """

    def __init__(self, name: str, urls: list[str], token: str, *, after: str | None) -> None:
        self.name = name
        self.urls = urls
        self.token = token
        self.cursor = after
        self.events: list[dict[str, Any]] = []
        self.moves = 0
        self.errors: list[Any] = []
        self.subscribed = asyncio.Event()
        self._index = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return self.urls[self._index]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"subscriber-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (OSError, TimeoutError, websockets.ConnectionClosed, websockets.InvalidStatus):
                pass
            # Gone (or never there): the next server, resuming from the last cursor.
            self._index = (self._index + 1) % len(self.urls)
            self.moves += 1
            await asyncio.sleep(0.1)

    async def _listen(self) -> None:
        async with websockets.connect(
            self.url, subprotocols=["graphql-transport-ws"], open_timeout=5, ping_interval=None
        ) as socket:
            init = {"type": "connection_init", "payload": {"token": self.token}}
            await socket.send(json.dumps(init))
            ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert ack["type"] == "connection_ack", ack
            subscribe = {
                "id": "events",
                "type": "subscribe",
                "payload": {"query": EVENTS, "variables": {"after": self.cursor}},
            }
            await socket.send(json.dumps(subscribe))
            self.subscribed.set()
            async for raw in socket:
                message = json.loads(raw)
                if message.get("type") != "next":
                    # An error (e.g. the server shutting down) ends this subscription: resume.
                    self.errors.append(message)
                    return
                payload = message["payload"]
                if payload.get("errors"):
                    self.errors.append(payload["errors"])
                    return
                event = payload["data"]["packEvents"]
                self.events.append(event)
                self.cursor = event["cursor"]

    def cursors(self) -> list[str]:
        return [event["cursor"] for event in self.events]
