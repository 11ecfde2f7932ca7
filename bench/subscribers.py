"""Row 4 subscribers, run as their own process: ``--count`` WebSocket clients that record arrivals.

``--mode graphql`` opens the dashboard's ``packEvents`` subscription on packgraph
(graphql-transport-ws, token in ``connection_init``); ``--mode plain`` just connects to the
baseline's ``/ws``. Once every socket is open it prints ``{"connected": n}``; then for every
``collect`` line on stdin it waits until each socket has received its next message and prints
the wall-clock arrival time of that message on every socket (and the text of one of them, so the
baseline can send the very same payload). ``quit`` closes everything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from websockets.asyncio.client import ClientConnection, connect

from bench.api import PACK_EVENTS_SUBSCRIPTION

CONNECT_AT_ONCE = 50


class Subscriber:
    __slots__ = ("arrivals", "last_text", "changed", "taken")

    def __init__(self, changed: asyncio.Event) -> None:
        self.arrivals: list[float] = []
        self.taken = 0
        self.last_text = ""
        self.changed = changed


async def open_socket(args: argparse.Namespace) -> ClientConnection:
    if args.mode == "plain":
        return await connect(f"ws://127.0.0.1:{args.port}/ws", max_size=None, open_timeout=120)
    websocket = await connect(
        f"ws://127.0.0.1:{args.port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_size=None,
        open_timeout=120,
        origin="http://127.0.0.1:8000",  # type: ignore[arg-type]
    )
    await websocket.send(json.dumps({"type": "connection_init", "payload": {"token": args.token}}))
    ack = json.loads(await asyncio.wait_for(websocket.recv(), 120))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    await websocket.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": PACK_EVENTS_SUBSCRIPTION}})
    )
    return websocket


async def listen(websocket: ClientConnection, subscriber: Subscriber) -> None:
    async for message in websocket:
        at = time.time()
        text = message if isinstance(message, str) else message.decode()
        if '"type":"ping"' in text:
            await websocket.send('{"type":"pong"}')
            continue
        subscriber.arrivals.append(at)
        subscriber.last_text = text
        subscriber.changed.set()


async def main_async(args: argparse.Namespace) -> None:
    changed = asyncio.Event()
    subscribers = [Subscriber(changed) for _ in range(args.count)]
    sockets: list[ClientConnection] = []
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def open_one(index: int) -> None:
        async with gate:
            websocket = await open_socket(args)
        sockets.append(websocket)
        asyncio.create_task(listen(websocket, subscribers[index]))

    await asyncio.gather(*(open_one(index) for index in range(args.count)))
    emit({"connected": len(sockets)})
    while True:
        line = (await asyncio.to_thread(sys.stdin.readline)).strip()
        if not line or line == "quit":
            break
        deadline = time.monotonic() + args.timeout
        while any(len(s.arrivals) <= s.taken for s in subscribers) and time.monotonic() < deadline:
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), 1.0)
            except TimeoutError:
                pass
        times: list[float | None] = []
        for subscriber in subscribers:
            if len(subscriber.arrivals) > subscriber.taken:
                times.append(subscriber.arrivals[subscriber.taken])
            else:
                times.append(None)
            # A late message of this round must not count for the next one.
            subscriber.taken += 1
        emit({"times": times, "sample": subscribers[0].last_text})
    for websocket in sockets:
        await websocket.close()


def emit(data: dict) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--mode", choices=["graphql", "plain"], required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_async(args))
    else:
        uvloop.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
