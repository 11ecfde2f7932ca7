"""Exactness under concurrency: ``0 <= used <= allowance`` is decided by the database.

50 callers race for a 10-session pack: exactly 10 win, the other 40 get a clear DomainError,
the ledger holds 10 entries and the outbox 10 SESSION_REDEEMED events. In one process (SQLite
and PostgreSQL) and, on PostgreSQL, from two OS processes, each with its own connection pool.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

from tortoise import Tortoise

from packgraph.domain.appointments import check_in_appointment, create_appointment
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.domain.redemptions import redeem_session
from packgraph.models import EventType, LedgerEntry, PackStatus
from tests.databases import init_orm
from tests.domain.builders import (
    assert_ledger_consistent,
    build_clinic,
    events_of,
    item_usage,
    reload_pack,
    sell_sessions,
)

CALLERS = 50
ALLOWANCE = 10
# Once the 10th unit is gone the pack is FULLY_USED, so a late caller may be told either.
REFUSALS = {ErrorCode.INSUFFICIENT_BALANCE.value, ErrorCode.PACK_NOT_ACTIVE.value}


async def _attempt(actor, pack_id: int, service_id: int) -> str:
    try:
        await redeem_session(actor=actor, pack_id=pack_id, service_id=service_id)
    except DomainError as error:
        return error.code.value
    return "OK"


async def _assert_exactly_ten(clinic, pack_id: int, outcomes: Counter) -> None:
    assert outcomes["OK"] == ALLOWANCE, outcomes
    assert sum(outcomes.values()) == CALLERS
    assert set(outcomes) - {"OK"} <= REFUSALS, outcomes
    assert await item_usage(pack_id) == [(ALLOWANCE, ALLOWANCE)]
    entries = await LedgerEntry.filter(pack_id=pack_id).order_by("session_number")
    assert [entry.session_number for entry in entries] == list(range(1, ALLOWANCE + 1))
    events = await events_of(clinic.business_id, EventType.SESSION_REDEEMED)
    assert sorted(event.entry_id for event in events) == sorted(entry.id for entry in entries)
    assert len(await events_of(clinic.business_id, EventType.PACK_FULLY_USED)) == 1
    # seq has no gaps even though 40 transactions rolled back after they started
    seqs = [event.seq for event in await events_of(clinic.business_id)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert (await reload_pack(pack_id)).status == PackStatus.FULLY_USED
    await assert_ledger_consistent(pack_id)


async def test_fifty_concurrent_redemptions_of_a_ten_session_pack(db):
    # given a 10-session pack
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, ALLOWANCE)

    # when 50 callers redeem at once
    results = await asyncio.gather(
        *(_attempt(clinic.staff, pack.id, clinic.massage.id) for _ in range(CALLERS))
    )

    # then exactly 10 succeed, the rest are refused with a clear error
    await _assert_exactly_ten(clinic, pack.id, Counter(results))


async def test_concurrent_retries_with_one_key_deduct_once(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, ALLOWANCE)
    results = await asyncio.gather(
        *(
            redeem_session(
                actor=clinic.staff,
                pack_id=pack.id,
                service_id=clinic.massage.id,
                idempotency_key="same-visit",
            )
            for _ in range(8)
        )
    )
    assert len({result.entry.id for result in results}) == 1
    assert sum(not result.replayed for result in results) == 1
    assert await item_usage(pack.id) == [(1, ALLOWANCE)]
    assert len(await events_of(clinic.business_id, EventType.SESSION_REDEEMED)) == 1


async def test_concurrent_check_ins_of_one_appointment_charge_once(db):
    clinic = await build_clinic()
    pack = await sell_sessions(clinic, ALLOWANCE)
    from datetime import UTC, datetime

    appointment = (
        await create_appointment(
            actor=clinic.staff,
            client_id=clinic.client.id,
            service_id=clinic.massage.id,
            starts_at=datetime.now(UTC),
        )
    ).appointment

    async def check_in() -> str:
        try:
            await check_in_appointment(actor=clinic.staff, appointment_id=appointment.id)
        except DomainError as error:
            return error.code.value
        return "OK"

    outcomes = Counter(await asyncio.gather(*(check_in() for _ in range(6))))
    assert outcomes == Counter({"OK": 1, "INVALID_STATE": 5})
    assert await item_usage(pack.id) == [(1, ALLOWANCE)]


# --- two OS processes on PostgreSQL -------------------------------------------------------------

_WORKER = r"""
import asyncio, json, sys
from collections import Counter
from tortoise import Tortoise
from packgraph.db import tortoise_config
from packgraph.domain.actor import Actor
from packgraph.domain.errors import DomainError
from packgraph.domain.redemptions import redeem_session
from packgraph.models import Role

async def main(url, business_id, staff_id, pack_id, service_id, callers):
    await Tortoise.init(config=tortoise_config(url, pool_min=1, pool_max=8))
    actor = Actor(business_id=business_id, role=Role.STAFF, staff_id=staff_id, name="worker")

    async def attempt():
        try:
            await redeem_session(actor=actor, pack_id=pack_id, service_id=service_id)
        except DomainError as error:
            return error.code.value
        return "OK"

    # Open the pool, report ready, then wait for the test's "go" so both processes race.
    await Tortoise.get_connection("default").execute_query("SELECT 1")
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    results = await asyncio.gather(*(attempt() for _ in range(callers)))
    await Tortoise.close_connections()
    print(json.dumps(Counter(results)))

args = json.loads(sys.argv[1])
asyncio.run(main(**args))
"""


async def test_fifty_redemptions_from_two_processes_on_postgres(postgres_url):
    # given a 10-session pack in a PostgreSQL database
    await init_orm(postgres_url)
    try:
        clinic = await build_clinic()
        pack = await sell_sessions(clinic, ALLOWANCE)

        # when two OS processes, each with its own pool, redeem 25 times each at the same moment
        workers = []
        for _ in range(2):
            arguments = {
                "url": postgres_url,
                "business_id": clinic.business_id,
                "staff_id": clinic.staff.staff_id,
                "pack_id": pack.id,
                "service_id": clinic.massage.id,
                "callers": CALLERS // 2,
            }
            workers.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    _WORKER,
                    json.dumps(arguments),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            )
        for worker in workers:
            ready = await asyncio.wait_for(worker.stdout.readline(), timeout=60)
            assert ready.strip() == b"READY", (await worker.stderr.read()).decode()[-2000:]
        for worker in workers:
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        outcomes: Counter = Counter()
        per_process = []
        for worker in workers:
            stdout, stderr = await asyncio.wait_for(worker.communicate(), timeout=60)
            assert worker.returncode == 0, stderr.decode()[-2000:]
            counts = Counter(json.loads(stdout.decode().strip().splitlines()[-1]))
            per_process.append(counts)
            outcomes += counts

        # then exactly 10 succeeded across both processes
        assert all(sum(counts.values()) == CALLERS // 2 for counts in per_process)
        await _assert_exactly_ten(clinic, pack.id, outcomes)
    finally:
        await Tortoise.close_connections()
