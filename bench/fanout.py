"""Row 4: one event delivered to 1,000 and 5,000 ``packEvents`` subscribers on one server process.

Subscribers are :mod:`bench.subscribers` processes (up to 1,250 sockets each). packgraph's side:
the dashboard's ``PackEvents`` subscription; each round one ``redeemSession`` commits one
``SESSION_REDEEMED`` event, and latency runs from the event's ``occurredAt`` (stamped inside the
committing transaction, so a little before the commit) to its arrival at each socket. The
baseline: :mod:`bench.baseline_app`'s plain WebSocket fan-out, sent the very text packgraph sent,
timed from the moment it was handed the text. Rounds alternate between the two.

Memory per subscriber: the server process's resident memory once N more subscribers are connected
and an event has reached them, minus what it was before they connected, over N.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import time
from datetime import datetime

import httpx

from bench import api
from bench.harness import Config
from bench.redeem import redeem_bodies
from bench.report import Row
from bench.servers import (
    REPO_ROOT,
    ServerProcess,
    child_env,
    fresh_database,
    packgraph_server,
    run_cli,
    running,
    uvicorn_server,
)
from bench.stats import Spread, percentile, ratios

PER_PROCESS = 1250
WARM_SUBSCRIBERS = 10
TARGET_P99_RATIO = 1.5
TARGET_KIB = 25.0


class SubscriberGroup:
    """Some subscriber processes against one server."""

    def __init__(self, server: ServerProcess, mode: str, token: str = "") -> None:
        self.server = server
        self.mode = mode
        self.token = token
        self.processes: list[asyncio.subprocess.Process] = []
        self.count = 0

    async def add(self, count: int) -> None:
        sizes = [PER_PROCESS] * (count // PER_PROCESS)
        if count % PER_PROCESS:
            sizes.append(count % PER_PROCESS)
        started = []
        for size in sizes:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.subscribers", "--port", str(self.server.port),
                "--count", str(size), "--mode", self.mode, "--token", self.token,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env=child_env(), cwd=REPO_ROOT, limit=2**26,
            )  # fmt: skip
            started.append(process)
        for process in started:
            line = await asyncio.wait_for(process.stdout.readline(), 600)  # type: ignore[union-attr]
            if not line:
                raise RuntimeError("a subscriber process failed to connect")
            assert json.loads(line)["connected"] > 0
        self.processes += started
        self.count += count
        await self._wait_registered()

    async def _wait_registered(self) -> None:
        """Until the server says every subscription is registered (sockets open is not enough)."""
        async with httpx.AsyncClient(base_url=self.server.base_url, timeout=10) as client:
            for _ in range(1200):
                if self.mode == "plain":
                    registered = (await client.get("/clients")).json()["clients"]
                else:
                    registered = _gauge(
                        (await client.get("/metrics")).text, "packgraph_live_subscriptions"
                    )
                if registered >= self.count:
                    return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"only {registered} of {self.count} subscriptions registered")

    async def collect(self) -> tuple[list[float | None], str]:
        """Arrival times of the next message at every socket, and one message's text."""
        for process in self.processes:
            process.stdin.write(b"collect\n")  # type: ignore[union-attr]
        times: list[float | None] = []
        sample = ""
        for process in self.processes:
            line = await asyncio.wait_for(process.stdout.readline(), 900)  # type: ignore[union-attr]
            data = json.loads(line)
            times += data["times"]
            sample = sample or data["sample"]
        return times, sample

    async def close(self) -> None:
        for process in self.processes:
            with contextlib.suppress(Exception):
                process.stdin.write(b"quit\n")  # type: ignore[union-attr]
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


def _gauge(text: str, name: str) -> int:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def _latencies(times: list[float | None], start: float) -> tuple[list[float], int]:
    arrived = [(t - start) * 1000 for t in times if t is not None]
    return arrived, len(times) - len(arrived)


async def settle(config: Config) -> None:
    """Let the servers finish their sends and free what a round used before the next one."""
    await asyncio.sleep(0.1 if config.mode == "smoke" else 1.0)


async def run_level(
    config: Config,
    count: int,
    product: tuple[ServerProcess, SubscriberGroup],
    baseline: tuple[ServerProcess, SubscriberGroup],
    trigger,
) -> tuple[list[Row], str]:
    (ours_server, ours), (theirs_server, theirs) = product, baseline
    added = count - (ours.count - WARM_SUBSCRIBERS)
    memory_before = (ours_server.rss_kib(), theirs_server.rss_kib())
    await asyncio.gather(ours.add(added), theirs.add(added))
    ours_p50, ours_p99, theirs_p50, theirs_p99, missing = [], [], [], [], 0
    payload = ""
    async with httpx.AsyncClient(base_url=theirs_server.base_url, timeout=60) as client:

        async def product_round() -> None:
            nonlocal payload, missing
            await trigger()
            times, sample = await ours.collect()
            payload = sample
            occurred = json.loads(sample)["payload"]["data"]["packEvents"]["occurredAt"]
            values, lost = _latencies(times, datetime.fromisoformat(occurred).timestamp())
            missing += lost
            ours_p50.append(percentile(values, 0.5))
            ours_p99.append(percentile(values, 0.99) if not lost else math.inf)

        async def baseline_round() -> None:
            nonlocal missing
            sent = (await client.post("/publish", content=payload)).json()["sentAt"]
            times, _ = await theirs.collect()
            values, lost = _latencies(times, sent)
            missing += lost
            theirs_p50.append(percentile(values, 0.5))
            theirs_p99.append(percentile(values, 0.99) if not lost else math.inf)

        # The first product round also captures the payload the baseline then sends.
        await product_round()
        await settle(config)
        memory_after = (ours_server.rss_kib(), theirs_server.rss_kib())
        await baseline_round()
        for index in range(config.fanout_rounds):
            await settle(config)
            if index % 2:
                await product_round()
                await baseline_round()
            else:
                await baseline_round()
                await product_round()
        # Drop the warm-up pair (first product round, first baseline round).
        del ours_p50[0], ours_p99[0], theirs_p50[0], theirs_p99[0]
    per_subscriber = [
        (after - before) / added for after, before in zip(memory_after, memory_before, strict=True)
    ]
    p99_ratio = Spread.of(ratios(ours_p99, theirs_p99))
    total = count
    rows = [
        Row(
            number=f"4 ({total:,} subscribers)",
            measure="one event to every subscriber: p99 latency from commit",
            product=Spread.of(ours_p99).format(0, " ms"),
            baseline=Spread.of(theirs_p99).format(0, " ms"),
            ratio=p99_ratio,
            target=f"p99 ≤ {TARGET_P99_RATIO}× baseline",
            met=p99_ratio.median <= TARGET_P99_RATIO and not missing,
            notes=[
                f"{total:,} subscribers: p50 {Spread.of(ours_p50).format(0, ' ms')} vs baseline "
                f"{Spread.of(theirs_p50).format(0, ' ms')}; p50 ratio "
                f"{Spread.of(ratios(ours_p50, theirs_p50)).format(2, '×')}; "
                f"{missing} deliveries missing"
            ],
        ),
        Row(
            number=f"4 ({total:,} subscribers, memory)",
            measure="server memory per subscriber (RSS growth / subscribers added)",
            product=f"{per_subscriber[0]:.1f} KiB",
            baseline=f"{per_subscriber[1]:.1f} KiB",
            ratio=Spread.of([per_subscriber[0] / per_subscriber[1]])
            if per_subscriber[1] > 0
            else None,
            target=f"≤ {TARGET_KIB:.0f} KiB",
            met=per_subscriber[0] <= TARGET_KIB,
        ),
    ]
    return rows, payload


async def run(config: Config) -> list[Row]:
    backend = "postgres" if "postgres" in config.backends else config.backends[0]
    rows: list[Row] = []
    async with fresh_database(backend, config.workdir) as database:
        run_cli(["seed-demo", "--clients", str(config.seed_clients)], database.env)
        product = packgraph_server(database, config.workdir)
        baseline = uvicorn_server(
            "baseline-ws", "bench.baseline_app:create_app", database, config.workdir
        )
        async with running(product, baseline):
            session = await api.login(product.base_url)
            catalog = await api.demo_catalog(session)
            (pack,) = await api.sell_large_packs(session, catalog, 1)
            body = redeem_bodies([pack], catalog.service_ids[0])[0]

            async def trigger() -> None:
                response = await session.client.post(
                    "/graphql", json=body, headers={"Authorization": f"Bearer {session.token}"}
                )
                assert '"userErrors":[]' in response.text, response.text

            ours = SubscriberGroup(product, "graphql", session.token)
            theirs = SubscriberGroup(baseline, "plain")
            try:
                # Warm both servers' code paths with a few subscribers that stay connected.
                await asyncio.gather(ours.add(WARM_SUBSCRIBERS), theirs.add(WARM_SUBSCRIBERS))
                await trigger()
                _, payload = await ours.collect()
                await httpx.AsyncClient(base_url=baseline.base_url).post(
                    "/publish", content=payload
                )
                await theirs.collect()
                await settle(config)
                for count in config.subscriber_counts:
                    started = time.monotonic()
                    level_rows, _ = await run_level(
                        config, count, (product, ours), (baseline, theirs), trigger
                    )
                    level_rows[1].notes.append(
                        f"{count:,} subscribers: the level (connecting included) took "
                        f"{time.monotonic() - started:.0f} s"
                    )
                    rows += level_rows
            finally:
                await ours.close()
                await theirs.close()
                await session.client.aclose()
    return rows
