"""Rows 3 and 6: ``redeemSession`` throughput, and check-in to dashboard latency.

Row 3: ``redeemSession`` over HTTP against ``packgraph serve`` (load spread over 16 packs of the
demo business) and the raw driver loop of :mod:`bench.raw_writes` on 16 other packs of the same
database, rounds interleaved; on SQLite and PostgreSQL.

Row 6: :mod:`bench.checkin_probe` checks appointments in one by one and times the event at a
dashboard subscriber from the mutation's response, first on an idle server, then while row 3's
load runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import api
from bench.board import interleaved
from bench.harness import Config, http_load, raw_writes, run_json_process
from bench.report import Row
from bench.servers import Database, fresh_database, packgraph_server, run_cli, running
from bench.stats import Spread, percentile, ratios

TARGET_RATIO = 0.3
PACKS_PER_SIDE = 16
IDLE_P99_MS = 100.0
LOADED_P99_MS = 1000.0


def redeem_bodies(packs: list[dict[str, Any]], service_id: int) -> list[dict[str, Any]]:
    return [
        {
            "query": api.REDEEM_MUTATION,
            "variables": {
                "input": {
                    "packId": api.gid("Pack", pack["pack_id"]),
                    "serviceId": api.gid("Service", service_id),
                }
            },
            "operationName": "Redeem",
        }
        for pack in packs
    ]


async def redeem_throughput(
    config: Config, database: Database, server, session: api.Session, catalog: api.DemoCatalog
) -> tuple[Row, Any]:
    ours_packs = await api.sell_large_packs(session, catalog, PACKS_PER_SIDE)
    raw_packs = await api.sell_large_packs(session, catalog, PACKS_PER_SIDE)
    bodies = api.write_bodies(
        config.workdir / "redeem.jsonl", redeem_bodies(ours_packs, catalog.service_ids[0])
    )
    items = config.workdir / "raw-items.json"
    items.write_text(
        json.dumps(
            [
                {**pack, "business_id": catalog.business_id, "staff_id": catalog.staff_id}
                for pack in raw_packs
            ]
        )
    )

    async def measure_product() -> float:
        result = await http_load(
            server.port, bodies, config, headers=(session.auth_header,), expect='"userErrors":[]'
        )
        return result["rps"]

    async def measure_baseline() -> float:
        return (await raw_writes(database.url, items, config))["rps"]

    ours, theirs = await interleaved(config, measure_product, measure_baseline)
    spread = Spread.of(ratios(ours, theirs))
    row = Row(
        number=f"3 ({database.backend})",
        measure="redeemSession req/s over HTTP",
        product=Spread.of(ours).format(0),
        baseline=Spread.of(theirs).format(0) + " tx/s",
        ratio=spread,
        target=f"≥ {TARGET_RATIO}",
        met=spread.median >= TARGET_RATIO,
    )
    return row, bodies


async def checkin_latency(
    config: Config,
    database: Database,
    server,
    session: api.Session,
    catalog: api.DemoCatalog,
    load_bodies,
) -> list[Row]:
    client = await session.mutate("createClient", {"name": "Probe Client"}, "client { id }")
    client_id = api.pk(client["client"]["id"])
    probe_catalog = api.DemoCatalog(
        catalog.business_id, catalog.staff_id, catalog.service_ids, [client_id]
    )
    # Check-in only deducts from packs bought on or before the visit's day in the business's
    # time zone, and the appointments start half an hour ago: sold "now", the pack would not
    # cover them for the half hour after the business's midnight (13:00 UTC in Sydney).
    await api.sell_large_packs(
        session, probe_catalog, 1, purchased_at=datetime.now(UTC) - timedelta(days=2)
    )
    count = config.latency_samples + 1
    appointments = await api.book_appointments(session, probe_catalog, client_id, 2 * count)

    async def run_probe(ids: list[int]) -> dict[str, Any]:
        return await run_json_process(
            [
                sys.executable,
                "-m",
                "bench.checkin_probe",
                "--port",
                str(server.port),
                "--token",
                session.token,
                "--client",
                str(client_id),
                "--appointments",
                ",".join(map(str, ids)),
            ]
        )

    idle = await run_probe(appointments[:count])
    load = asyncio.create_task(
        http_load(
            server.port,
            load_bodies,
            config,
            headers=(session.auth_header,),
            expect='"userErrors":[]',
            duration=600,
            warmup=0,
        )
    )
    await asyncio.sleep(config.warmup)
    try:
        loaded = await run_probe(appointments[count:])
    finally:
        load.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await load
    rows = []
    for label, result, limit in (
        ("idle", idle, IDLE_P99_MS),
        ("under load 3", loaded, LOADED_P99_MS),
    ):
        latencies = [max(sample["from_response_ms"], 0.0) for sample in result["samples"]]
        early = sum(1 for sample in result["samples"] if sample["from_response_ms"] < 0)
        from_request = [sample["from_request_ms"] for sample in result["samples"]]
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        rows.append(
            Row(
                number=f"6 ({database.backend}, {label})",
                measure="check-in response → event at a dashboard subscriber, p50 / p99 ms",
                product=f"p50 {p50:.1f} / p99 {p99:.1f} ms",
                baseline="—",
                ratio=None,
                target=f"p99 < {limit:.0f} ms",
                met=p99 < limit,
                notes=[
                    f"{database.backend} {label}: {len(latencies)} check-ins; {early} events "
                    "arrived before the response (counted as 0 ms); from the request: "
                    f"p50 {percentile(from_request, 0.5):.1f} / "
                    f"p99 {percentile(from_request, 0.99):.1f} ms; "
                    f"{result['events_received']} events received by the subscriber"
                ],
            )
        )
    return rows


async def run(config: Config) -> list[Row]:
    rows: list[Row] = []
    for backend in config.backends:
        async with fresh_database(backend, config.workdir) as database:
            run_cli(["seed-demo", "--clients", str(config.seed_clients)], database.env)
            server = packgraph_server(database, config.workdir)
            async with running(server):
                session = await api.login(server.base_url)
                catalog = await api.demo_catalog(session)
                row, bodies = await redeem_throughput(config, database, server, session, catalog)
                rows.append(row)
                rows += await checkin_latency(config, database, server, session, catalog, bodies)
                await session.client.aclose()
    return rows
