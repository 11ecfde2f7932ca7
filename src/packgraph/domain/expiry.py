"""Expiry processing: due packs move to EXPIRED exactly once, reminders once per expiry date.

Run by the server's periodic job and by ``packgraph expire-packs``, possibly by several processes at
the same moment. Nothing here relies on being the only runner: each transition is a conditional
UPDATE (``... WHERE status = 'ACTIVE' AND expires_at <= now``) whose affected-row count decides
which runner made it, and only that runner emits the event, raises the task and auto-renews. Each
pack is handled in its own short transaction, so one runner never holds the (single, on SQLite)
write connection for long and a failure affects one pack only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q

from packgraph.domain.actor import Actor
from packgraph.domain.clock import utcnow
from packgraph.domain.events import append_event
from packgraph.domain.pack_end import apply_pack_end
from packgraph.domain.status import StatusChange, changed_now
from packgraph.domain.tasks import raise_task
from packgraph.domain.transaction import write_transaction
from packgraph.models import Business, EventType, Pack, PackStatus, TaskKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpiryReport:
    """What this runner did (a racing runner reports the rest): pack ids expired and reminded,
    the ids of the packs created by auto-renew, and the pack ids whose transaction failed
    (logged, rolled back, retried by the next run)."""

    expired: tuple[int, ...] = ()
    reminded: tuple[int, ...] = ()
    renewed: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()


async def process_expiries(
    *, now: datetime | None = None, business_id: int | None = None
) -> ExpiryReport:
    """Expire due ACTIVE packs and send PACK_EXPIRING_SOON reminders, for every business (or one).

    A pack expires when ``expires_at <= now``: PACK_EXPIRED, a PACK_EXPIRED task when the business
    has ``create_task_on_pack_end``, and a new pack when its template auto-renews ON_EXPIRY. A
    reminder is sent once per expiry date, ``reminder_days`` (business setting; 0 disables) before
    it, with a PACK_EXPIRING_SOON task under the same setting. Safe to run concurrently.

    An unexpected error in one pack's transaction is logged and that pack is left for the next
    run (listed in ``failed``): one bad row must not stop every other business's expiries.
    """
    now = now or utcnow()
    expired: list[int] = []
    renewed: list[int] = []
    failed: list[int] = []

    async def isolated(pack_id: int, work: Awaitable[Any]) -> Any:
        try:
            return await work
        except Exception:
            logger.exception("expiry processing failed for pack %s", pack_id)
            failed.append(pack_id)
            return None

    due = Pack.filter(status=PackStatus.ACTIVE, deleted_at__isnull=True, expires_at__lte=now)
    if business_id is not None:
        due = due.filter(business_id=business_id)
    for pack_id, pack_business_id in await due.order_by("expires_at", "id").values_list(
        "id", "business_id"
    ):
        outcome = await isolated(
            pack_id,
            _expire_pack(pack_id=pack_id, business_id=pack_business_id, now=now),
        )
        if outcome is not None:
            expired.append(pack_id)
            if outcome.renewed_pack_id is not None:
                renewed.append(outcome.renewed_pack_id)
    reminded: list[int] = []
    businesses = Business.filter(reminder_days__gt=0)
    if business_id is not None:
        businesses = businesses.filter(id=business_id)
    for reminder_business_id, reminder_days in await businesses.order_by("id").values_list(
        "id", "reminder_days"
    ):
        candidates = (
            await Pack.filter(
                Q(expiry_reminder_for__isnull=True) | ~Q(expiry_reminder_for=F("expires_at")),
                business_id=reminder_business_id,
                status=PackStatus.ACTIVE,
                deleted_at__isnull=True,
                expires_at__gt=now,
                expires_at__lte=now + timedelta(days=reminder_days),
            )
            .order_by("expires_at", "id")
            .values_list("id", "expires_at")
        )
        for pack_id, expires_at in candidates:
            if await isolated(
                pack_id,
                _remind_pack(
                    pack_id=pack_id,
                    business_id=reminder_business_id,
                    expires_at=expires_at,
                    reminder_days=reminder_days,
                    now=now,
                ),
            ):
                reminded.append(pack_id)
    return ExpiryReport(
        expired=tuple(expired),
        reminded=tuple(reminded),
        renewed=tuple(renewed),
        failed=tuple(failed),
    )


@dataclass(frozen=True)
class _Expired:
    renewed_pack_id: int | None


async def _expire_pack(*, pack_id: int, business_id: int, now: datetime) -> _Expired | None:
    actor = Actor.system(business_id)
    async with write_transaction(business_id) as conn:
        # The WHERE clause is the whole race: on PostgreSQL a second runner's UPDATE waits for the
        # first one's row lock, re-checks ``status = 'ACTIVE'`` on the committed row and hits 0.
        hit = await (
            Pack.filter(
                id=pack_id,
                status=PackStatus.ACTIVE,
                deleted_at__isnull=True,
                expires_at__lte=now,
            )
            .using_db(conn)
            .update(status=PackStatus.EXPIRED, **changed_now())
        )
        if not hit:
            return None
        pack = await Pack.get(id=pack_id).using_db(conn)
        change = StatusChange(
            pack=pack, status_from=PackStatus.ACTIVE, status_to=PackStatus.EXPIRED
        )
        renewed = await apply_pack_end(conn, change=change, actor=actor, now=now)
    return _Expired(renewed_pack_id=renewed.id if renewed is not None else None)


async def _remind_pack(
    *, pack_id: int, business_id: int, expires_at: datetime, reminder_days: int, now: datetime
) -> bool:
    actor = Actor.system(business_id)
    async with write_transaction(business_id) as conn:
        # Bound to the expiry date read above: a concurrent expiry change (which resets the
        # reminder) makes this hit 0 rows, and the next run reminds for the new date.
        hit = await (
            Pack.filter(
                Q(expiry_reminder_for__isnull=True) | ~Q(expiry_reminder_for=expires_at),
                id=pack_id,
                status=PackStatus.ACTIVE,
                deleted_at__isnull=True,
                expires_at=expires_at,
            )
            .using_db(conn)
            .update(
                expiry_reminder_sent_at=now,
                expiry_reminder_for=expires_at,
                **changed_now(),
            )
        )
        if not hit:
            return False
        pack = await Pack.get(id=pack_id).using_db(conn)
        await append_event(
            conn,
            actor=actor,
            type=EventType.PACK_EXPIRING_SOON,
            pack_id=pack.id,
            client_id=pack.client_id,
            payload={"expiresAt": expires_at.isoformat(), "reminderDays": reminder_days},
        )
        business = await Business.get(id=business_id).using_db(conn)
        if business.create_task_on_pack_end:
            await raise_task(
                conn,
                business_id=business_id,
                kind=TaskKind.PACK_EXPIRING_SOON,
                pack_id=pack.id,
                client_id=pack.client_id,
                dedupe_key=f"expiring:{pack.id}:{int(expires_at.timestamp())}",
                now=now,
            )
    return True
