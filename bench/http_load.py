"""A small HTTP/1.1 load generator, run as its own process (``python -m bench.http_load``).

It keeps ``--concurrency`` keep-alive connections busy, cycling through the request bodies of
``--bodies`` (one JSON document per line, POSTed), for ``--warmup`` seconds unmeasured and then
``--duration`` seconds measured, and prints one JSON line: requests completed in the measured
window, failures (a status other than 200, or a body without ``--expect``), and the latency of
every measured request when ``--latencies`` is given.

Deliberately minimal (raw asyncio streams, uvloop when present): the client must cost far less
CPU than the servers it measures, on a machine with two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time


def build_requests(host: str, port: int, path: str, bodies: list[bytes], headers: list[str]):
    head = [f"Host: {host}:{port}", "Content-Type: application/json", *headers]
    requests = []
    for body in bodies:
        lines = [f"POST {path} HTTP/1.1", *head, f"Content-Length: {len(body)}", "", ""]
        requests.append("\r\n".join(lines).encode() + body)
    return requests


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if length is not None:
        return status, await reader.readexactly(length)
    if not chunked:
        return status, b""
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def run(args: argparse.Namespace, bodies: list[bytes]) -> dict:
    requests = build_requests(args.host, args.port, args.path, bodies, args.header or [])
    cycle = itertools.cycle(requests)
    expect = args.expect.encode() if args.expect else None
    clock = time.perf_counter
    start = clock()
    measure_from = start + args.warmup
    stop_at = measure_from + args.duration
    done = 0
    failed = 0
    latencies: list[float] = []
    first_failure: str | None = None

    async def worker() -> None:
        nonlocal done, failed, first_failure
        reader, writer = await asyncio.open_connection(args.host, args.port)
        try:
            while True:
                sent = clock()
                if sent >= stop_at:
                    return
                writer.write(next(cycle))
                status, body = await read_response(reader)
                finished = clock()
                ok = status == 200 and (expect is None or expect in body)
                if not ok and first_failure is None:
                    first_failure = f"{status} {body[:300]!r}"
                if measure_from <= finished < stop_at:
                    if ok:
                        done += 1
                        if args.latencies:
                            latencies.append((finished - sent) * 1000)
                    else:
                        failed += 1
                if args.sequential_gap:
                    await asyncio.sleep(args.sequential_gap)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return {
        "requests": done,
        "failed": failed,
        "seconds": args.duration,
        "rps": done / args.duration,
        "first_failure": first_failure,
        "latencies_ms": latencies if args.latencies else None,
        "finished_at": time.time(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/graphql")
    parser.add_argument("--bodies", required=True, help="file: one JSON request body per line")
    parser.add_argument("--header", action="append", help="extra header, e.g. 'Authorization: …'")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--expect", default="", help="bytes every good response body contains")
    parser.add_argument("--latencies", action="store_true")
    parser.add_argument("--sequential-gap", type=float, default=0.0)
    args = parser.parse_args(argv)
    with open(args.bodies, "rb") as file:
        bodies = [line.strip() for line in file if line.strip()]
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(args, bodies))
    else:
        result = uvloop.run(run(args, bodies))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
