"""Before/after of a product change, measured side by side: ``python -m bench.compare BEFORE``.

``BEFORE`` is a directory holding another copy of the ``packgraph`` package (for example the
working tree with a change taken out). Two ``packgraph serve`` processes run on the same fresh
database, one importing ``BEFORE`` and one the checkout, plus the benchmark's baseline; rounds
rotate between the three, so the after/before ratio is measured in one run, under the same noise.
Covers row 1 (board req/s) and row 3 (redeemSession req/s).

    python -m bench.compare /tmp/before --rows 1,3 --backends sqlite,postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from bench import api
from bench.board import PAGE, board_body
from bench.harness import Config, http_load, raw_writes
from bench.redeem import PACKS_PER_SIDE, redeem_bodies
from bench.servers import (
    Database,
    fresh_database,
    packgraph_server,
    postgres_reachable,
    raise_open_files_limit,
    run_cli,
    running,
    uvicorn_server,
)
from bench.stats import Spread, ratios


async def compare_board(config: Config, database: Database, before_src: Path) -> str:
    before = packgraph_server(database, config.workdir)
    before.env["PYTHONPATH"] = str(before_src)
    after = packgraph_server(database, config.workdir)
    baseline = uvicorn_server("baseline", "bench.baseline_app:create_app", database, config.workdir)
    async with running(before, after, baseline):
        session = await api.login(after.base_url)
        catalog = await api.demo_catalog(session)
        bodies = api.write_bodies(config.workdir / "board.jsonl", [board_body(PAGE)])
        base_bodies = api.write_bodies(
            config.workdir / "board-baseline.jsonl",
            [{"business": catalog.business_id, "first": PAGE}],
        )

        async def product(server) -> float:
            result = await http_load(
                server.port, bodies, config, headers=(session.auth_header,), expect='"edges"'
            )
            return result["rps"]

        async def plain() -> float:
            return (
                await http_load(baseline.port, base_bodies, config, path="/board", expect='"edges"')
            )["rps"]

        figures = await rotate(config, [lambda: product(before), lambda: product(after), plain])
        await session.client.aclose()
    return report("1 board req/s", database.backend, *figures)


async def compare_redeem(config: Config, database: Database, before_src: Path) -> str:
    before = packgraph_server(database, config.workdir)
    before.env["PYTHONPATH"] = str(before_src)
    after = packgraph_server(database, config.workdir)
    async with running(before, after):
        session = await api.login(after.base_url)
        catalog = await api.demo_catalog(session)
        before_packs = await api.sell_large_packs(session, catalog, PACKS_PER_SIDE)
        after_packs = await api.sell_large_packs(session, catalog, PACKS_PER_SIDE)
        raw_packs = await api.sell_large_packs(session, catalog, PACKS_PER_SIDE)
        service = catalog.service_ids[0]
        before_bodies = api.write_bodies(
            config.workdir / "r-before.jsonl", redeem_bodies(before_packs, service)
        )
        after_bodies = api.write_bodies(
            config.workdir / "r-after.jsonl", redeem_bodies(after_packs, service)
        )
        items = config.workdir / "raw-items.json"
        items.write_text(
            json.dumps(
                [
                    {**p, "business_id": catalog.business_id, "staff_id": catalog.staff_id}
                    for p in raw_packs
                ]
            )
        )

        async def product(server, bodies) -> float:
            result = await http_load(
                server.port,
                bodies,
                config,
                headers=(session.auth_header,),
                expect='"userErrors":[]',
            )
            return result["rps"]

        async def raw() -> float:
            return (await raw_writes(database.url, items, config))["rps"]

        figures = await rotate(
            config,
            [lambda: product(before, before_bodies), lambda: product(after, after_bodies), raw],
        )
        await session.client.aclose()
    return report("3 redeemSession req/s", database.backend, *figures)


async def rotate(config: Config, sides) -> list[list[float]]:
    """A warm-up of every side, then ``rounds`` rounds, each starting with another side."""
    for side in sides:
        await side()
    results: list[list[float]] = [[] for _ in sides]
    for index in range(config.rounds):
        for offset in range(len(sides)):
            position = (index + offset) % len(sides)
            results[position].append(await sides[position]())
    return results


def report(label: str, backend: str, before, after, baseline) -> str:
    return (
        f"| {label} ({backend}) | {Spread.of(before).format(0)} | {Spread.of(after).format(0)} "
        f"| {Spread.of(ratios(after, before)).format(2, '×')} "
        f"| {Spread.of(ratios(before, baseline)).format(2, '×')} "
        f"| {Spread.of(ratios(after, baseline)).format(2, '×')} |"
    )


async def main_async(args: argparse.Namespace) -> None:
    backends = args.backends
    rows = set(args.rows.split(","))
    lines = [
        "| benchmark | before | after | after / before | before / baseline | after / baseline |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="packgraph-compare-") as workdir:
        config = Config.for_mode(args.mode, Path(workdir), backends)
        for backend in backends:
            async with fresh_database(backend, config.workdir) as database:
                run_cli(["seed-demo", "--clients", str(config.seed_clients)], database.env)
                if "1" in rows:
                    lines.append(await compare_board(config, database, Path(args.before)))
                    print(lines[-1], file=sys.stderr, flush=True)
                if "3" in rows:
                    lines.append(await compare_redeem(config, database, Path(args.before)))
                    print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("before", help="directory containing the 'before' packgraph package")
    parser.add_argument("--rows", default="1,3")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--mode", default="quick", choices=["smoke", "quick", "full"])
    args = parser.parse_args(argv)
    backends = tuple(b for b in args.backends.split(",") if b)
    if "postgres" in backends and not postgres_reachable():
        backends = tuple(b for b in backends if b != "postgres")
    args.backends = backends
    raise_open_files_limit()
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
