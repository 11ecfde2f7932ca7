"""Row 6 probe, run as its own process: a dashboard subscriber and a front desk checking clients in.

It opens the dashboard's ``packEvents`` subscription (graphql-transport-ws), then checks in the
given appointments one at a time over HTTP. For each check-in it records when the request was
sent, when its response arrived, and when the subscriber received the check-in's
``SESSION_REDEEMED`` event (recognised by the probe client's id). The first check-in only proves
the subscription is live and is not measured. Prints one JSON line.
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


async def probe(args: argparse.Namespace) -> dict:
    client_gid = gid("Client", args.client)
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    received = 0

    async with connect(
        f"ws://127.0.0.1:{args.port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_size=None,
        origin="http://127.0.0.1:8000",  # type: ignore[arg-type]
    ) as websocket:
        await websocket.send(
            json.dumps({"type": "connection_init", "payload": {"token": args.token}})
        )
        ack = json.loads(await websocket.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await websocket.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": PACK_EVENTS_SUBSCRIPTION}}
            )
        )

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
        http_reader, http_writer = await asyncio.open_connection("127.0.0.1", args.port)
        samples = []
        try:
            for index, appointment in enumerate(args.appointments):
                body = json.dumps(
                    {
                        "query": CHECK_IN_MUTATION,
                        "variables": {"input": {"appointmentId": gid("Appointment", appointment)}},
                    }
                ).encode()
                (request,) = build_requests(
                    "127.0.0.1",
                    args.port,
                    "/graphql",
                    [body],
                    [f"Authorization: Bearer {args.token}"],
                )
                sent = time.time()
                http_writer.write(request)
                status, response = await read_response(http_reader)
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
            http_writer.close()
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
