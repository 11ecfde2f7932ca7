"""How much of a pack one charged service uses, and the "session 3 of 10" number."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.models import LedgerEntry, LedgerKind, Metric, PackItem, Service


def units_for(*, metric: Metric, service: Service, quantity: int) -> int:
    """Units deducted for ``quantity`` of ``service`` (SPEC §1.4).

    SESSIONS: one per quantity; MINUTES: the service duration per quantity; MONEY: the service
    price (minor units) per quantity.
    """
    if metric == Metric.SESSIONS:
        return quantity
    if metric == Metric.MINUTES:
        return service.duration_minutes * quantity
    return service.price * quantity


async def session_number(
    conn: BaseDBAsyncClient, *, item: PackItem, metric: Metric, quantity: int = 1
) -> int:
    """The session number of a redemption just applied to ``item`` (``item.used`` is current).

    SESSIONS: the used count after the deduction ("session 3 of 10", corrections included).
    Other metrics: how many redemptions of the item stand (not reversed), this one included.
    """
    if metric == Metric.SESSIONS:
        return int(item.used)
    redeemed = (
        await LedgerEntry.filter(item_id=item.id, kind=LedgerKind.REDEMPTION).using_db(conn).count()
    )
    reversed_ = (
        await LedgerEntry.filter(
            item_id=item.id, kind=LedgerKind.REVERSAL, reverses_id__isnull=False
        )
        .using_db(conn)
        .count()
    )
    # The entry of this redemption is written after the number is known.
    return redeemed - reversed_ + 1
