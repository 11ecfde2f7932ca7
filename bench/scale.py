"""Row 5: the filtered board query at ~100,000 packs against ~1,000 packs, on PostgreSQL.

Two fresh databases are seeded with ``packgraph seed-demo --clients N`` (the product's own bulk
loader, which keeps the ledger invariants), analysed, and served by two ``packgraph serve``
processes. Each filter the dashboard offers is sent as the dashboard sends it (``PackBoard``:
50 cards, total count included), one request at a time; the ratio is the p50 latency at the large
size over the p50 at the small size, rounds interleaved.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import api
from bench.board import PAGE, board_body, interleaved
from bench.harness import Config, http_load
from bench.report import Row
from bench.servers import analyze, fresh_database, packgraph_server, run_cli, running
from bench.stats import Spread, percentile, ratios

TARGET_RATIO = 1.5


def filters() -> list[tuple[str, dict[str, Any]]]:
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    return [
        ("status ACTIVE", {"status": ["ACTIVE"]}),
        ("expiring within 30 days", {"status": ["ACTIVE"], "expiringBefore": soon}),
        ("payment UNPAID", {"paymentStatus": ["UNPAID"]}),
        ("balance due", {"hasBalanceDue": True}),
        ("search 'smith'", {"search": "smith"}),
    ]


async def pack_count(session: api.Session) -> int:
    data = await session.run("{ packs(first: 1) { totalCount } }")
    return int(data["packs"]["totalCount"])


async def run(config: Config) -> list[Row]:
    if "postgres" not in config.backends:
        return []
    small_clients, large_clients = config.scale_clients
    async with (
        fresh_database("postgres", config.workdir) as small,
        fresh_database("postgres", config.workdir) as large,
    ):
        # Both seeds at once: the large one is mostly PostgreSQL's work.
        await asyncio.gather(
            asyncio.to_thread(run_cli, ["seed-demo", "--clients", str(small_clients)], small.env),
            asyncio.to_thread(
                run_cli, ["seed-demo", "--clients", str(large_clients)], large.env, timeout=3600
            ),
        )
        await asyncio.gather(analyze(small), analyze(large))
        small_server = packgraph_server(small, config.workdir)
        large_server = packgraph_server(large, config.workdir)
        async with running(small_server, large_server):
            small_session = await api.login(small_server.base_url)
            large_session = await api.login(large_server.base_url)
            sizes = (await pack_count(small_session), await pack_count(large_session))
            rows = []
            chosen = filters()[:2] if config.mode == "smoke" else filters()
            for index, (label, condition) in enumerate(chosen):
                bodies = api.write_bodies(
                    config.workdir / f"scale-{index}.jsonl", [board_body(PAGE, condition)]
                )

                def measure(server, session, bodies=bodies):
                    async def p50() -> float:
                        result = await http_load(
                            server.port,
                            bodies,
                            config,
                            headers=(session.auth_header,),
                            expect='"edges"',
                            concurrency=1,
                            latencies=True,
                        )
                        return percentile(result["latencies_ms"], 0.5)

                    return p50

                large_p50, small_p50 = await interleaved(
                    config,
                    measure(large_server, large_session),
                    measure(small_server, small_session),
                )
                spread = Spread.of(ratios(large_p50, small_p50))
                rows.append(
                    Row(
                        number=f"5{'abcdefgh'[index]} (postgres)",
                        measure=f"board p50 at {sizes[1]:,} vs {sizes[0]:,} packs: {label}",
                        product=Spread.of(large_p50).format(1, " ms"),
                        baseline=Spread.of(small_p50).format(1, " ms"),
                        ratio=spread,
                        target=f"≤ {TARGET_RATIO}",
                        met=spread.median <= TARGET_RATIO,
                    )
                )
            await small_session.client.aclose()
            await large_session.client.aclose()
    return rows
