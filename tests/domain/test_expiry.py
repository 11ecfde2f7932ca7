"""Expiry processing (SPEC §1.7): due packs expire exactly once even with racing runners, tasks,
reminders once per expiry date, and auto-renew on expiry."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from packgraph.domain.adjustments import cancel_pack, change_pack_expiry, correct_pack_balance
from packgraph.domain.expiry import ExpiryReport, process_expiries
from packgraph.domain.redemptions import delete_pack
from packgraph.models import (
    AutoRenew,
    Event,
    EventType,
    Pack,
    PackItem,
    PackStatus,
    Task,
    TaskKind,
)
from tests.databases import init_orm
from tests.domain.builders import (
    Clinic,
    add_template,
    build_clinic,
    events_of,
    reload_pack,
    sell,
    sell_sessions,
)


def _now() -> datetime:
    return datetime.now(UTC)


async def test_a_due_pack_expires_with_an_event_and_a_task(db):
    clinic = await build_clinic()
    expires_at = _now() + timedelta(days=1)
    pack = (await sell(clinic, expires_at=expires_at)).pack
    later = (await sell(clinic, expires_at=_now() + timedelta(days=30))).pack
    never = (await sell(clinic)).pack

    report = await process_expiries(now=_now() + timedelta(days=2))

    assert report.expired == (pack.id,)
    after = await reload_pack(pack.id)
    assert after.status == PackStatus.EXPIRED
    assert after.version > pack.version
    assert (await reload_pack(later.id)).status == PackStatus.ACTIVE
    assert (await reload_pack(never.id)).status == PackStatus.ACTIVE
    [event] = await events_of(clinic.business_id, EventType.PACK_EXPIRED)
    assert event.pack_id == pack.id and event.client_id == clinic.client.id
    assert event.actor == "system"
    assert event.payload["statusFrom"] == "ACTIVE" and event.payload["statusTo"] == "EXPIRED"
    assert event.payload["expiresAt"] == expires_at.isoformat()
    [task] = await Task.filter(business_id=clinic.business_id, kind=TaskKind.PACK_EXPIRED)
    assert (task.pack_id, task.client_id, task.done_at) == (pack.id, clinic.client.id, None)


async def test_running_twice_expires_once(db):
    clinic = await build_clinic()
    pack = (await sell(clinic, expires_at=_now() + timedelta(days=1))).pack
    run_at = _now() + timedelta(days=2)

    first = await process_expiries(now=run_at)
    second = await process_expiries(now=run_at + timedelta(hours=1))

    assert first.expired == (pack.id,) and second.expired == ()
    assert len(await events_of(clinic.business_id, EventType.PACK_EXPIRED)) == 1
    assert await Task.filter(kind=TaskKind.PACK_EXPIRED).count() == 1


async def test_no_tasks_when_the_business_turned_them_off(db):
    clinic = await build_clinic(create_task_on_pack_end=False)
    await sell(clinic, expires_at=_now() + timedelta(days=1))
    await sell(clinic, expires_at=_now() + timedelta(days=5))

    report = await process_expiries(now=_now() + timedelta(days=2))

    assert len(report.expired) == 1 and len(report.reminded) == 1
    assert await Task.all().count() == 0


async def test_fully_used_cancelled_and_deleted_packs_are_left_alone(db):
    clinic = await build_clinic()
    soon = _now() + timedelta(days=1)
    used_up = await sell_sessions(clinic, 1, expires_at=soon)
    item = await PackItem.get(pack_id=used_up.id)
    await correct_pack_balance(
        actor=clinic.owner, pack_id=used_up.id, item_id=item.id, delta=-1, reason="used"
    )
    cancelled = (await sell(clinic, expires_at=soon)).pack
    await cancel_pack(actor=clinic.owner, pack_id=cancelled.id, reason="r")
    deleted = (await sell(clinic, expires_at=soon)).pack
    await delete_pack(actor=clinic.owner, pack_id=deleted.id)
    events_before = await Event.filter(business_id=clinic.business_id).count()

    report = await process_expiries(now=_now() + timedelta(days=2))

    assert report == ExpiryReport()
    assert await Event.filter(business_id=clinic.business_id).count() == events_before
    assert (await reload_pack(used_up.id)).status == PackStatus.FULLY_USED
    assert (await reload_pack(cancelled.id)).status == PackStatus.CANCELLED


async def test_a_reminder_is_sent_once_per_expiry_date(db):
    clinic = await build_clinic(reminder_days=14)
    expires_at = _now() + timedelta(days=20)
    pack = (await sell(clinic, expires_at=expires_at)).pack

    too_early = await process_expiries(now=_now() + timedelta(days=5))  # 15 days before
    first = await process_expiries(now=_now() + timedelta(days=7))  # 13 days before
    again = await process_expiries(now=_now() + timedelta(days=10))

    assert too_early.reminded == () and again.reminded == ()
    assert first.reminded == (pack.id,)
    [event] = await events_of(clinic.business_id, EventType.PACK_EXPIRING_SOON)
    assert event.pack_id == pack.id
    assert event.payload == {"expiresAt": expires_at.isoformat(), "reminderDays": 14}
    after = await reload_pack(pack.id)
    assert after.expiry_reminder_for == expires_at and after.expiry_reminder_sent_at is not None
    [task] = await Task.filter(kind=TaskKind.PACK_EXPIRING_SOON)
    assert task.pack_id == pack.id


async def test_a_new_expiry_date_gets_a_new_reminder(db):
    clinic = await build_clinic(reminder_days=14)
    pack = (await sell(clinic, expires_at=_now() + timedelta(days=10))).pack
    await process_expiries()
    new_date = _now() + timedelta(days=12)
    await change_pack_expiry(actor=clinic.owner, pack_id=pack.id, expires_at=new_date)

    report = await process_expiries()

    assert report.reminded == (pack.id,)
    reminders = await events_of(clinic.business_id, EventType.PACK_EXPIRING_SOON)
    assert [e.payload["expiresAt"] for e in reminders][-1] == new_date.isoformat()
    assert len(reminders) == 2
    assert await Task.filter(kind=TaskKind.PACK_EXPIRING_SOON).count() == 2


async def test_reminder_days_zero_sends_no_reminders(db):
    clinic = await build_clinic(reminder_days=0)
    await sell(clinic, expires_at=_now() + timedelta(hours=5))

    assert (await process_expiries()).reminded == ()


async def test_an_on_expiry_template_renews_the_pack_once(db):
    clinic = await build_clinic()
    template = await add_template(
        clinic.owner, name="Monthly", items=[(4, [clinic.massage])], auto_renew=AutoRenew.ON_EXPIRY
    )
    pack = (await sell(clinic, template=template, expires_at=_now() + timedelta(days=1))).pack
    plain = (await sell(clinic, expires_at=_now() + timedelta(days=1))).pack

    report = await process_expiries(now=_now() + timedelta(days=2))

    assert set(report.expired) == {pack.id, plain.id}
    [renewed_id] = report.renewed
    renewed = await Pack.get(id=renewed_id)
    assert (renewed.client_id, renewed.template_id) == (clinic.client.id, template.id)
    assert renewed.status == PackStatus.ACTIVE
    [sold] = [
        e
        for e in await events_of(clinic.business_id, EventType.PACK_SOLD)
        if e.pack_id == renewed.id
    ]
    assert sold.payload["renewedFromPackId"] == pack.id


async def test_a_restored_pack_that_expires_again_gets_a_new_event_and_task_but_no_renewal(db):
    clinic = await build_clinic()
    template = await add_template(
        clinic.owner, name="Monthly", items=[(4, [clinic.massage])], auto_renew=AutoRenew.ON_EXPIRY
    )
    pack = (await sell(clinic, template=template, expires_at=_now() + timedelta(days=1))).pack
    await process_expiries(now=_now() + timedelta(days=2))
    await change_pack_expiry(
        actor=clinic.owner,
        pack_id=pack.id,
        expires_at=_now() + timedelta(days=3),
        reason="owed",
    )

    report = await process_expiries(now=_now() + timedelta(days=4))

    assert report.expired == (pack.id,) and report.renewed == ()
    expired = await events_of(clinic.business_id, EventType.PACK_EXPIRED)
    assert [e.payload["times"] for e in expired] == [1, 2]
    assert await Task.filter(pack_id=pack.id, kind=TaskKind.PACK_EXPIRED).count() == 2
    assert await Pack.filter(template_id=template.id).count() == 2


async def test_processing_one_business_leaves_the_others(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    mine = (await sell(clinic, expires_at=_now() + timedelta(days=1))).pack
    theirs = (await sell(other, expires_at=_now() + timedelta(days=1))).pack

    report = await process_expiries(now=_now() + timedelta(days=2), business_id=clinic.business_id)

    assert report.expired == (mine.id,)
    assert (await reload_pack(theirs.id)).status == PackStatus.ACTIVE


async def test_a_failing_pack_is_rolled_back_and_left_for_the_next_run(db, monkeypatch):
    clinic = await build_clinic()
    template = await add_template(
        clinic.owner, name="Monthly", items=[(4, [clinic.massage])], auto_renew=AutoRenew.ON_EXPIRY
    )
    failing = (await sell(clinic, template=template, expires_at=_now() + timedelta(days=1))).pack
    plain = (await sell(clinic, expires_at=_now() + timedelta(days=1))).pack

    async def broken_renew(conn, *, pack, actor):
        raise RuntimeError("renewal broke")

    monkeypatch.setattr("packgraph.domain.pack_end.renew_pack", broken_renew)
    report = await process_expiries(now=_now() + timedelta(days=2))

    assert report.expired == (plain.id,) and report.failed == (failing.id,)
    assert (await reload_pack(failing.id)).status == PackStatus.ACTIVE
    assert await Event.filter(pack_id=failing.id, type=EventType.PACK_EXPIRED).count() == 0
    assert await Task.filter(pack_id=failing.id).count() == 0

    monkeypatch.undo()
    retry = await process_expiries(now=_now() + timedelta(days=2))
    assert retry.expired == (failing.id,) and len(retry.renewed) == 1


# --- racing runners -----------------------------------------------------------------------------


@dataclass
class RaceSetup:
    clinic: Clinic
    expiring: list[int]
    reminding: list[int]
    renewing: int
    template_id: int


async def _race_setup() -> RaceSetup:
    clinic = await build_clinic(reminder_days=14)
    template = await add_template(
        clinic.owner, name="Monthly", items=[(4, [clinic.massage])], auto_renew=AutoRenew.ON_EXPIRY
    )
    soon, later = _now() + timedelta(days=1), _now() + timedelta(days=10)
    expiring = [(await sell(clinic, expires_at=soon)).pack.id for _ in range(8)]
    renewing = (await sell(clinic, template=template, expires_at=soon)).pack.id
    reminding = [(await sell(clinic, expires_at=later)).pack.id for _ in range(4)]
    return RaceSetup(clinic, expiring + [renewing], reminding, renewing, template.id)


async def _assert_race_outcome(setup: RaceSetup, reports: list[dict]) -> None:
    business_id = setup.clinic.business_id
    expired = [pack_id for report in reports for pack_id in report["expired"]]
    reminded = [pack_id for report in reports for pack_id in report["reminded"]]
    renewed = [pack_id for report in reports for pack_id in report["renewed"]]
    # Between them the runners did everything, and nothing twice.
    assert sorted(expired) == sorted(setup.expiring)
    assert sorted(reminded) == sorted(setup.reminding)
    assert len(renewed) == 1
    for pack_id in setup.expiring:
        assert (await reload_pack(pack_id)).status == PackStatus.EXPIRED
        assert await Event.filter(pack_id=pack_id, type=EventType.PACK_EXPIRED).count() == 1
        assert await Task.filter(pack_id=pack_id, kind=TaskKind.PACK_EXPIRED).count() == 1
    for pack_id in setup.reminding:
        assert await Event.filter(pack_id=pack_id, type=EventType.PACK_EXPIRING_SOON).count() == 1
        assert await Task.filter(pack_id=pack_id, kind=TaskKind.PACK_EXPIRING_SOON).count() == 1
    assert await Pack.filter(template_id=setup.template_id).count() == 2
    renewals = [
        e
        for e in await events_of(business_id, EventType.PACK_SOLD)
        if e.payload.get("renewedFromPackId") == setup.renewing
    ]
    assert len(renewals) == 1
    seqs = await Event.filter(business_id=business_id).order_by("seq").values_list("seq", flat=True)
    assert list(seqs) == list(range(1, len(seqs) + 1))


async def test_two_runners_racing_in_one_process_expire_each_pack_once(db):
    setup = await _race_setup()
    run_at = _now() + timedelta(days=2)

    reports = await asyncio.gather(process_expiries(now=run_at), process_expiries(now=run_at))

    await _assert_race_outcome(
        setup,
        [{"expired": r.expired, "reminded": r.reminded, "renewed": r.renewed} for r in reports],
    )


RUNNER = """
import asyncio, json, sys, time
from datetime import datetime
from tortoise import Tortoise
from packgraph.db import tortoise_config
from packgraph.domain.expiry import process_expiries

async def main(url, now, start_at):
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        report = await process_expiries(now=datetime.fromisoformat(now))
    finally:
        await Tortoise.close_connections()
    print(json.dumps({"expired": report.expired, "reminded": report.reminded,
                      "renewed": report.renewed}))

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
"""


async def _run_process(url: str, now: datetime, start_at: float) -> dict:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUNNER,
        url,
        now.isoformat(),
        str(start_at),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout.decode().strip().splitlines()[-1])


async def _race_two_processes(url: str) -> None:
    await init_orm(url)
    try:
        setup = await _race_setup()
        run_at = _now() + timedelta(days=2)
        # Both processes start processing at the same moment, after their start-up.
        start_at = time.time() + 4
        reports = await asyncio.gather(
            _run_process(url, run_at, start_at), _run_process(url, run_at, start_at)
        )
        await _assert_race_outcome(setup, reports)
    finally:
        await Tortoise.close_connections()


async def test_two_runner_processes_racing_on_postgres_expire_each_pack_once(postgres_url):
    await _race_two_processes(postgres_url)


async def test_two_runner_processes_racing_on_sqlite_expire_each_pack_once(sqlite_url):
    await _race_two_processes(sqlite_url)
