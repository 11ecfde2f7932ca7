"""Row 6 probe, run as its own process: a dashboard subscriber and a front desk checking clients in.

It opens the dashboard's ``packEvents`` subscription (graphql-transport-ws), then checks in the
given appointments one at a time over HTTP. For each check-in it records when the request was
sent, when its response arrived, and when the subscriber received the check-in's
``SESSION_REDEEMED`` event (recognised by the probe client's id). The subscription resumes
``after`` the probe client's latest event, so the first check-in arrives even when it commits
before the server has registered the subscriber (a subscription without ``after`` starts at the
moment it is registered, and graphql-transport-ws does not say when that is). The first check-in
only proves the subscription is live and is not measured. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect

from bench.api import CHECK_IN_MUTATION, PACK_EVENTS_SUBSCRIPTION, gid
from bench.http_load import build_requests, read_response

CLIENT_EVENTS = """
query ClientEvents($client: ID!, $after: String) {
  events(clientId: $client, after: $after, first: 100) { pageInfo { hasNextPage endCursor } }
}
"""


class Http:
    """One keep-alive HTTP/1.1 connection to the server, authenticated as the probe's user."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token

    async def __aenter__(self) -> Http:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()

    async def post(self, query: str, variables: dict) -> tuple[int, bytes]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        (request,) = build_requests(
            "127.0.0.1", self.port, "/graphql", [body], [f"Authorization: Bearer {self.token}"]
        )
        self.writer.write(request)
        return await read_response(self.reader)


async def latest_cursor(http: Http, client_gid: str) -> str | None:
    """The cursor of the client's latest event (None if it has none)."""
    cursor, after = None, None
    while True:
        status, response = await http.post(CLIENT_EVENTS, {"client": client_gid, "after": after})
        if status != 200:
            raise RuntimeError(f"events query failed: {status} {response[:300]!r}")
        page = json.loads(response)["data"]["events"]["pageInfo"]
        cursor = page["endCursor"] or cursor
        if not page["hasNextPage"]:
            return cursor
        after = page["endCursor"]


async def probe(args: argparse.Namespace) -> dict:
    client_gid = gid("Client", args.client)
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    received = 0

    async with (
        Http(args.port, args.token) as http,
        connect(
            f"ws://127.0.0.1:{args.port}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            max_size=None,
            origin="http://127.0.0.1:8000",  # type: ignore[arg-type]
        ) as websocket,
    ):
        await websocket.send(
            json.dumps({"type": "connection_init", "payload": {"token": args.token}})
        )
        ack = json.loads(await websocket.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        after = await latest_cursor(http, client_gid)
        subscribe = {"query": PACK_EVENTS_SUBSCRIPTION, "variables": {"after": after}}
        await websocket.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))

        async def read() -> None:
            nonlocal received
            async for message in websocket:
                at = time.time()
                data = json.loads(message)
                if data.get("type") == "ping":
                    await websocket.send(json.dumps({"type": "pong"}))
                    continue
                if data.get("type") != "next":
                    raise RuntimeError(f"subscription failed: {str(data)[:500]}")
                received += 1
                event = (data.get("payload") or {}).get("data", {}).get("packEvents") or {}
                pack = event.get("pack") or {}
                if (
                    event.get("type") == "SESSION_REDEEMED"
                    and (pack.get("client") or {}).get("id") == client_gid
                ):
                    arrivals.put_nowait(at)

        reader = asyncio.create_task(read())
        samples = []
        try:
            for index, appointment in enumerate(args.appointments):
                variables = {"input": {"appointmentId": gid("Appointment", appointment)}}
                sent = time.time()
                status, response = await http.post(CHECK_IN_MUTATION, variables)
                answered = time.time()
                if status != 200 or b'"userErrors":[]' not in response:
                    raise RuntimeError(f"check-in failed: {status} {response[:300]!r}")
                arrived = await asyncio.wait_for(arrivals.get(), timeout=30)
                if index > 0:
                    samples.append(
                        {
                            "from_response_ms": (arrived - answered) * 1000,
                            "from_request_ms": (arrived - sent) * 1000,
                            "response_ms": (answered - sent) * 1000,
                        }
                    )
                await asyncio.sleep(args.gap)
        finally:
            reader.cancel()
    return {"samples": samples, "events_received": received}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--client", type=int, required=True, help="the probe client's pk")
    parser.add_argument("--appointments", type=lambda text: [int(x) for x in text.split(",")])
    parser.add_argument("--gap", type=float, default=0.05)
    result = asyncio.run(probe(parser.parse_args(argv)))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
