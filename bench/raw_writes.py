"""Baseline of row 3: a redemption's writes through the raw driver, one transaction each.

Each transaction does what a redemption must write at least: the conditional UPDATE of the item
(``used + 1 <= allowance``, its row count decides), the ledger INSERT, the business's next event
``seq`` (UPDATE ... RETURNING, which keeps the outbox gapless) and the outbox INSERT. PostgreSQL
runs ``--concurrency`` connections like the HTTP load does; SQLite (one writer at a time) runs one
connection with the product's pragmas. Prints one JSON line like :mod:`bench.http_load`.

    python -m bench.raw_writes --url URL --items items.json --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sqlite3
import sys
import time
from datetime import UTC, datetime

LEDGER_SQL = (
    "INSERT INTO ledger_entry (business_id, pack_id, item_id, kind, quantity, session_number, "
    "staff_id, reason, created_at) VALUES ({}) RETURNING id"
)
SEQ_SQL = "UPDATE business SET event_seq = event_seq + 1 WHERE id = {} RETURNING event_seq"
EVENT_SQL = (
    "INSERT INTO event (business_id, seq, type, pack_id, client_id, actor, actor_name, entry_id, "
    "payload, created_at) VALUES ({})"
)
ITEM_SQL = "UPDATE pack_item SET used = used + 1 WHERE id = {} AND used + 1 <= allowance"


def payload(item: dict, used: int) -> str:
    return json.dumps(
        {"itemId": item["item_id"], "quantity": 1, "used": used, "sessionNumber": used},
        separators=(",", ":"),
    )


async def postgres_loop(args: argparse.Namespace, items: list[dict]) -> int:
    import asyncpg

    dsn = args.url.split("?", 1)[0].replace("postgres://", "postgresql://", 1)
    marks = ", ".join(f"${n}" for n in range(1, 10))
    ledger = LEDGER_SQL.format(marks)
    event = EVENT_SQL.format(", ".join(f"${n}" for n in range(1, 9)) + ", $9::jsonb, $10")
    cycle = itertools.cycle(items)
    clock = time.perf_counter
    measure_from = clock() + args.warmup
    stop_at = measure_from + args.duration
    done = 0

    async def worker() -> None:
        nonlocal done
        connection = await asyncpg.connect(dsn)
        try:
            while clock() < stop_at:
                item = next(cycle)
                now = datetime.now(UTC)
                async with connection.transaction():
                    status = await connection.execute(ITEM_SQL.format("$1"), item["item_id"])
                    if status != "UPDATE 1":
                        raise RuntimeError(f"item {item['item_id']} used up")
                    entry_id = await connection.fetchval(
                        ledger,
                        item["business_id"],
                        item["pack_id"],
                        item["item_id"],
                        "REDEMPTION",
                        1,
                        None,
                        item["staff_id"],
                        "",
                        now,
                    )
                    seq = await connection.fetchval(SEQ_SQL.format("$1"), item["business_id"])
                    await connection.execute(
                        event,
                        item["business_id"],
                        seq,
                        "SESSION_REDEEMED",
                        item["pack_id"],
                        item["client_id"],
                        f"staff:{item['staff_id']}",
                        "Bench",
                        entry_id,
                        payload(item, 0),
                        now,
                    )
                if measure_from <= clock() < stop_at:
                    done += 1
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return done


def sqlite_loop(args: argparse.Namespace, items: list[dict]) -> int:
    connection = sqlite3.connect(args.url.removeprefix("sqlite://"), isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=15000"):
        connection.execute(f"PRAGMA {pragma}")
    ledger = LEDGER_SQL.format(", ".join("?" * 9))
    event = EVENT_SQL.format(", ".join("?" * 10))
    cycle = itertools.cycle(items)
    measure_from = time.monotonic() + args.warmup
    stop_at = measure_from + args.duration
    done = 0
    while time.monotonic() < stop_at:
        item = next(cycle)
        now = datetime.now(UTC).isoformat()
        connection.execute("BEGIN IMMEDIATE")
        try:
            if connection.execute(ITEM_SQL.format("?"), (item["item_id"],)).rowcount != 1:
                raise RuntimeError(f"item {item['item_id']} used up")
            entry_id = connection.execute(
                ledger,
                (
                    item["business_id"],
                    item["pack_id"],
                    item["item_id"],
                    "REDEMPTION",
                    1,
                    None,
                    item["staff_id"],
                    "",
                    now,
                ),
            ).fetchone()[0]
            seq = connection.execute(SEQ_SQL.format("?"), (item["business_id"],)).fetchone()[0]
            connection.execute(
                event,
                (
                    item["business_id"],
                    seq,
                    "SESSION_REDEEMED",
                    item["pack_id"],
                    item["client_id"],
                    f"staff:{item['staff_id']}",
                    "Bench",
                    entry_id,
                    payload(item, 0),
                    now,
                ),
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        if measure_from <= time.monotonic() < stop_at:
            done += 1
    connection.close()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--items", required=True, help="JSON list of item/pack/client/business")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    with open(args.items) as file:
        items = json.load(file)
    if args.url.startswith("sqlite://"):
        done = sqlite_loop(args, items)
    else:
        done = asyncio.run(postgres_loop(args, items))
    sys.stdout.write(
        json.dumps(
            {"requests": done, "failed": 0, "seconds": args.duration, "rps": done / args.duration}
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
