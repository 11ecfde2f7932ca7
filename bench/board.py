"""Rows 1 and 2: the board query over HTTP, and the SQL statements one board page costs.

Row 1: the dashboard's ``PackBoard`` query (50 pack cards with client, items, item services,
payment figures, total count) against ``packgraph serve``, and the same rows from a plain
Starlette endpoint (:mod:`bench.baseline_app`) on the same database; requests/s, rounds
interleaved. Row 2: the statements a page of 5 and a page of 50 send (instrumented server).
"""

from __future__ import annotations

from typing import Any

import httpx

from bench import api
from bench.harness import Config, http_load
from bench.report import Row
from bench.servers import (
    Database,
    fresh_database,
    packgraph_server,
    run_cli,
    running,
    uvicorn_server,
)
from bench.stats import Spread, ratios

PAGE = 50
TARGET_RATIO = 0.5


def board_body(first: int, filter: dict[str, Any] | None = None, order_by: str | None = None):
    variables: dict[str, Any] = {"first": first}
    if filter is not None:
        variables["filter"] = filter
    if order_by is not None:
        variables["orderBy"] = order_by
    return {"query": api.BOARD_QUERY, "variables": variables, "operationName": "PackBoard"}


async def _same_rows(session: api.Session, baseline_url: str, business_id: int) -> None:
    """The baseline must return the rows packgraph returns, or the ratio means nothing."""
    ours = await session.run(api.BOARD_QUERY, {"first": PAGE})
    async with httpx.AsyncClient(base_url=baseline_url) as client:
        theirs = (await client.post("/board", json={"business": business_id, "first": PAGE})).json()
    ours_ids = [edge["node"]["id"] for edge in ours["packs"]["edges"]]
    theirs_ids = [edge["node"]["id"] for edge in theirs["data"]["packs"]["edges"]]
    if ours_ids != theirs_ids or not ours_ids:
        raise AssertionError(f"baseline rows differ: {ours_ids[:5]} vs {theirs_ids[:5]}")
    if ours["packs"]["edges"][0]["node"] != theirs["data"]["packs"]["edges"][0]["node"]:
        raise AssertionError(
            f"baseline card differs:\n{ours['packs']['edges'][0]['node']}\n"
            f"{theirs['data']['packs']['edges'][0]['node']}"
        )


async def board_throughput(config: Config, database: Database) -> Row:
    workdir = config.workdir
    product = packgraph_server(database, workdir)
    baseline = uvicorn_server("baseline", "bench.baseline_app:create_app", database, workdir)
    async with running(product, baseline):
        session = await api.login(product.base_url)
        catalog = await api.demo_catalog(session)
        await _same_rows(session, baseline.base_url, catalog.business_id)
        product_bodies = api.write_bodies(workdir / "board.jsonl", [board_body(PAGE)])
        baseline_bodies = api.write_bodies(
            workdir / "board-baseline.jsonl", [{"business": catalog.business_id, "first": PAGE}]
        )

        async def measure_product() -> float:
            result = await http_load(
                product.port,
                product_bodies,
                config,
                headers=(session.auth_header,),
                expect='"edges"',
            )
            return result["rps"]

        async def measure_baseline() -> float:
            result = await http_load(
                baseline.port, baseline_bodies, config, path="/board", expect='"edges"'
            )
            return result["rps"]

        ours, theirs = await interleaved(config, measure_product, measure_baseline)
        await session.client.aclose()
    spread = Spread.of(ratios(ours, theirs))
    return Row(
        number=f"1 ({database.backend})",
        measure="board query, 50 cards, req/s over HTTP",
        product=Spread.of(ours).format(0),
        baseline=Spread.of(theirs).format(0),
        ratio=spread,
        target=f"≥ {TARGET_RATIO}",
        met=spread.median >= TARGET_RATIO,
    )


async def interleaved(config: Config, first, second) -> tuple[list[float], list[float]]:
    """A warm-up of each side, then ``rounds`` pairs, alternating which side goes first."""
    if config.mode != "smoke":
        await first()
        await second()
    ours: list[float] = []
    theirs: list[float] = []
    for index in range(config.rounds):
        if index % 2 == 0:
            ours.append(await first())
            theirs.append(await second())
        else:
            theirs.append(await second())
            ours.append(await first())
    return ours, theirs


async def board_statements(config: Config, database: Database) -> Row:
    server = uvicorn_server("counted", "bench.counted_app:create_app", database, config.workdir)
    counts: dict[int, int] = {}
    async with running(server):
        session = await api.login(server.base_url)
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            for size in (5, PAGE, 5, PAGE):
                await session.run(api.BOARD_QUERY, {"first": size})  # warm (first-use reads)
                await client.get("/__bench/statements")
                data = await session.run(api.BOARD_QUERY, {"first": size})
                assert len(data["packs"]["edges"]) == size
                taken = (await client.get("/__bench/statements")).json()
                counts[size] = taken["count"]
        await session.client.aclose()
    return Row(
        number=f"2 ({database.backend})",
        measure="SQL statements per board page (incl. authentication), 5 vs 50 cards",
        product=f"{counts[5]} vs {counts[PAGE]}",
        baseline="—",
        ratio=Spread.of([counts[PAGE] / counts[5]]),
        target="equal (1.00×)",
        met=counts[5] == counts[PAGE],
    )


async def run(config: Config) -> list[Row]:
    rows = []
    for backend in config.backends:
        async with fresh_database(backend, config.workdir) as database:
            run_cli(["seed-demo", "--clients", str(config.seed_clients)], database.env)
            rows.append(await board_throughput(config, database))
            rows.append(await board_statements(config, database))
    return rows
