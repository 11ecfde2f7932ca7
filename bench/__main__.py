"""``python -m bench [--quick | --smoke] [--only 1,3] [--backends sqlite,postgres]``

Runs the benchmarks, prints the table and writes ``bench/results/<date>.md`` (``<date>-quick.md``
or ``<date>-smoke.md`` for the shorter modes).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import re
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Config
from bench.report import Row, machine_description, render_table, write_results
from bench.servers import postgres_reachable, raise_open_files_limit

# Row numbers -> the module that measures them (a module may measure several rows).
BENCHMARKS = {
    "1": "bench.board",
    "2": "bench.board",
    "3": "bench.redeem",
    "6": "bench.redeem",
    "5": "bench.scale",
    "4": "bench.fanout",
}


async def run_all(config: Config, only: set[str]) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    extra: list[str] = []
    modules = list(dict.fromkeys(BENCHMARKS[number] for number in BENCHMARKS if number in only))
    for name in modules:
        module = importlib.import_module(name)
        print(f"-- {name} …", file=sys.stderr, flush=True)
        try:
            produced = await module.run(config)
        except Exception:
            text = traceback.format_exc()
            print(text, file=sys.stderr)
            numbers = ", ".join(n for n, m in BENCHMARKS.items() if m == name and n in only)
            rows.append(
                Row(numbers, f"{name} failed", "error", "—", None, "—", False,
                    [text.strip().splitlines()[-1]])
            )  # fmt: skip
            continue
        produced = [row for row in produced if re.match(r"\d+", row.number)[0] in only]
        rows += produced
        extra += getattr(module, "EXTRA_NOTES", [])
        if produced:
            print(render_table(produced), file=sys.stderr, flush=True)
    rows.sort(key=lambda row: row.number)
    return rows, extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="shorter rounds and smaller sizes")
    mode.add_argument("--smoke", action="store_true", help="seconds: proves the harness works")
    parser.add_argument("--only", default="1,2,3,4,5,6", help="rows to run, e.g. 1,2")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    args = parser.parse_args(argv)
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    backends = tuple(b for b in args.backends.split(",") if b)
    if "postgres" in backends and not postgres_reachable():
        print("PostgreSQL is unreachable: running SQLite only", file=sys.stderr)
        backends = tuple(b for b in backends if b != "postgres")
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    limit = raise_open_files_limit()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="packgraph-bench-") as workdir:
        config = Config.for_mode(name, Path(workdir), backends)
        rows, extra = asyncio.run(run_all(config, only))
    table = render_table(rows)
    print("\n".join(machine_description()))
    print()
    print(table)
    if not args.no_write:
        path = write_results(
            rows,
            mode=name,
            settings=[*config.describe(), f"- open files limit: {limit}"],
            started=started,
            extra=extra,
        )
        print(f"\nwritten to {path}")
    return 0 if all(row.product != "error" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
