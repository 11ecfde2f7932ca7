"""Profile packgraph under one benchmark's load with py-spy: ``python -m bench.profile board``.

Starts ``packgraph serve`` on a fresh seeded database, drives it with the benchmark's load from a
separate process, records the server with ``py-spy record`` (collapsed stacks), and prints the
functions with the most samples, by own time and by total time (``--top``). The raw stacks stay
in ``--out`` for a flame graph (``speedscope`` or ``flamegraph.pl`` read them).

    python -m bench.profile board --backend postgres --seconds 15
    python -m bench.profile redeem --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import api
from bench.board import PAGE, board_body
from bench.harness import Config, http_load
from bench.redeem import redeem_bodies
from bench.servers import fresh_database, packgraph_server, run_cli, running


def summarise(stacks: Path, top: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in stacks.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        samples += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [f"{samples} samples", "", "own time:"]
    lines += [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "total time:"]
    lines += [f"{100 * n / samples:5.1f}%  {frame}" for frame, n in total.most_common(top)]
    return "\n".join(lines)


async def profile(args: argparse.Namespace) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    workdir = Path(tempfile.mkdtemp(prefix="packgraph-profile-"))
    config = Config.for_mode("quick", workdir, (args.backend,))
    async with fresh_database(args.backend, workdir) as database:
        run_cli(["seed-demo", "--clients", str(config.seed_clients)], database.env)
        server = packgraph_server(database, workdir)
        async with running(server):
            session = await api.login(server.base_url)
            if args.benchmark == "board":
                bodies = api.write_bodies(workdir / "bodies.jsonl", [board_body(PAGE)])
                expect = '"edges"'
            else:
                catalog = await api.demo_catalog(session)
                packs = await api.sell_large_packs(session, catalog, 16)
                bodies = api.write_bodies(
                    workdir / "bodies.jsonl", redeem_bodies(packs, catalog.service_ids[0])
                )
                expect = '"userErrors":[]'
            recorder = subprocess.Popen(  # noqa: ASYNC220 - returns once forked
                [
                    py_spy, "record", "--pid", str(server.pid), "--duration",
                    str(int(args.seconds)), "--format", "raw", "--rate", "200",
                    "--output", str(args.out), "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            result = await http_load(
                server.port,
                bodies,
                config,
                headers=(session.auth_header,),
                expect=expect,
                duration=args.seconds,
                warmup=0.5,
            )
            await asyncio.to_thread(recorder.wait)
            await session.client.aclose()
    print(f"{result['rps']:.1f} req/s while profiling")
    print(summarise(Path(args.out), args.top))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("benchmark", choices=["board", "redeem"])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--out", default="/tmp/packgraph-profile.txt")
    asyncio.run(profile(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
