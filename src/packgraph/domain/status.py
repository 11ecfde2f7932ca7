"""Pack status (SPEC §1.2) and the pack row lock every pack-changing operation starts with.

Recomputing a status writes no event: :func:`update_pack_status` returns a :class:`StatusChange`
that says which ending (if any) the change started, and the operation then performs that ending's
consequences (``pack_end.apply_pack_end``) after its own event.

Lock order, the same in every write operation so PostgreSQL never deadlocks two of them:

0. the appointment row an operation changes (check-in, cancel, sale with first session);
1. the pack row(s), by primary key (:func:`lock_pack`, or :func:`update_pack_status` when the
   operation changes nothing else on the pack first);
2. the pack items, by primary key (the conditional ``used`` updates);
3. invoice lines, then the business row (invoice numbers, then the outbox ``seq`` taken by
   ``append_event``).

An operation that updated a pack item *before* locking its pack would wait for the pack while
holding the item, and deadlock against a redemption that holds the pack and waits for the item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q

from packgraph.domain.actor import Actor
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import DomainError, ErrorCode, not_found
from packgraph.models import Pack, PackItem, PackStatus, PaymentStatus


def changed_now() -> dict[str, Any]:
    """The fields set with every visible change of a pack row: the next ``version`` and
    ``updated_at`` (the wall clock, even when the operation runs at another ``now``). Written only
    with an event in the same transaction, so a version is never skipped silently and the pack an
    event delivers is the pack a fresh read returns."""
    return {"version": F("version") + 1, "updated_at": utcnow()}


def unchanged() -> dict[str, Any]:
    """An UPDATE that changes nothing: it only takes the row's lock (PostgreSQL's row lock,
    SQLite's write lock), for a pack the operation may leave as it is."""
    return {"version": F("version")}


def compute_status(
    *,
    cancelled_at: datetime | None,
    items: Iterable[tuple[int, int]],
    expires_at: datetime | None,
    now: datetime,
) -> PackStatus:
    """CANCELLED > FULLY_USED > EXPIRED > ACTIVE, from ``(used, allowance)`` per item."""
    if cancelled_at is not None:
        return PackStatus.CANCELLED
    items = list(items)
    if items and all(used >= allowance for used, allowance in items):
        return PackStatus.FULLY_USED
    if expires_at is not None and expires_at <= now:
        return PackStatus.EXPIRED
    return PackStatus.ACTIVE


def is_open(pack: Pack, now: datetime) -> bool:
    """Redeemable: ACTIVE, not deleted, and not past expiry even if the expiry job is late."""
    return (
        pack.status == PackStatus.ACTIVE
        and pack.deleted_at is None
        and (pack.expires_at is None or pack.expires_at > now)
    )


class PackEnding(StrEnum):
    """A pack that stopped being redeemable, and the consequences the operation owes for it."""

    FULLY_USED = "FULLY_USED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class StatusChange:
    """The pack after a status refresh, with the status before and after it."""

    pack: Pack
    status_from: PackStatus
    status_to: PackStatus

    @property
    def changed(self) -> bool:
        return self.status_from != self.status_to

    @property
    def ending(self) -> PackEnding | None:
        """The ending this change started (used up, or expired, e.g. a unit given back to a
        fully used pack whose date has passed); None for any other change. Reactivation
        (FULLY_USED -> ACTIVE) is no ending: the causing event carries ``statusFrom``/``statusTo``.
        """
        if not self.changed:
            return None
        if self.status_to == PackStatus.EXPIRED:
            return PackEnding.EXPIRED
        if self.status_to == PackStatus.FULLY_USED:
            return PackEnding.FULLY_USED
        return None

    def payload(self) -> dict[str, Any]:
        """``{"statusFrom", "statusTo"}`` when the status changed, else ``{}``."""
        if not self.changed:
            return {}
        return {"statusFrom": self.status_from.value, "statusTo": self.status_to.value}


async def lock_pack(
    conn: BaseDBAsyncClient,
    *,
    pack_id: int,
    actor: Actor,
    require_open: bool = False,
    require_paid: bool = False,
    now: datetime | None = None,
    bump: bool = True,
) -> Pack:
    """Lock the pack row (bumping ``version``) and return it, or raise why it cannot be used.

    ``bump=False`` locks without changing the row, for an operation that may leave this pack as
    it is (a payment decides which packs its money reaches after the lock) and bumps with
    :func:`changed_now` the ones it does change.

    The conditions are in the UPDATE's WHERE clause, so the row count decides: a pack cancelled,
    used up or expired by a concurrent transaction is refused after that transaction commits
    (PostgreSQL re-checks the WHERE clause on the newest row version once the lock is free).
    Unknown, deleted and other-business packs all raise the same NOT_FOUND.
    """
    now = now or utcnow()
    query = Pack.filter(id=pack_id, business_id=actor.business_id, deleted_at__isnull=True)
    if require_open:
        query = query.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), status=PackStatus.ACTIVE
        )
    if require_paid:
        query = query.filter(payment_status=PaymentStatus.PAID)
    updated = await query.using_db(conn).update(**(changed_now() if bump else unchanged()))
    pack = (
        await Pack.filter(id=pack_id, business_id=actor.business_id, deleted_at__isnull=True)
        .using_db(conn)
        .first()
    )
    if pack is None:
        raise not_found("pack", "packId")
    if updated:
        return pack
    if require_open and not is_open(pack, now):
        state = pack.status.value.lower().replace("_", " ")
        if pack.status == PackStatus.ACTIVE:
            state = "expired"
        raise DomainError(ErrorCode.PACK_NOT_ACTIVE, f"pack {pack.name!r} is {state}", "packId")
    raise DomainError(
        ErrorCode.PACK_NOT_PAID,
        f"pack {pack.name!r} must be paid in full before it can be redeemed",
        "packId",
    )


async def update_pack_status(
    conn: BaseDBAsyncClient,
    *,
    pack_id: int,
    actor: Actor,
    now: datetime | None = None,
    locked: Pack | None = None,
) -> StatusChange:
    """Recompute and store the status of a pack (bumping ``version``); no events.

    Locks the pack row first, then reads the items: with the lock held the read sees every
    committed change of other transactions, so two redemptions from different items of one pack
    cannot both miss that the pack became fully used. ``locked``: the pack as :func:`lock_pack`
    returned it in this transaction (row locked, version bumped, nothing on the row changed
    since), which spares locking and reading it again.
    """
    now = now or utcnow()
    if locked is not None and locked.id == pack_id:
        pack = locked
    else:
        updated = (
            await Pack.filter(id=pack_id, business_id=actor.business_id)
            .using_db(conn)
            .update(**changed_now())
        )
        if not updated:
            raise not_found("pack", "packId")
        pack = await Pack.get(id=pack_id).using_db(conn)
    items = await PackItem.filter(pack_id=pack_id).using_db(conn).values_list("used", "allowance")
    status_from = pack.status
    status_to = compute_status(
        cancelled_at=pack.cancelled_at, items=items, expires_at=pack.expires_at, now=now
    )
    if status_to != status_from:
        await Pack.filter(id=pack_id).using_db(conn).update(status=status_to)
        pack.status = status_to
    return StatusChange(pack=pack, status_from=status_from, status_to=status_to)
