"""Reading packs: the board (filters, ordering, keyset pages), one pack, and a pack's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet

from packgraph.domain.search import pack_search_filter
from packgraph.models import LedgerEntry, Pack, PackStatus
from packgraph.models import PaymentStatus as ModelPaymentStatus
from packgraph.resolvers.context import Info, actor_of
from packgraph.resolvers.ids import parse_global_id, search_text
from packgraph.resolvers.pagination import Ordering, Page, keyset_page
from packgraph.resolvers.prefetch import prime_pack_cards

# The board's orderings, by the name of the ``PackOrder`` value that asks for them.
PACK_ORDERINGS = {
    "PURCHASED_AT_DESC": Ordering("p-", field="purchased_at", descending=True, is_datetime=True),
    "PURCHASED_AT_ASC": Ordering("p+", field="purchased_at", is_datetime=True),
    "EXPIRES_AT_ASC": Ordering("e+", field="expires_at", nullable=True, is_datetime=True),
    "NAME_ASC": Ordering("n+", field="name"),
    "UPDATED_AT_DESC": Ordering("u-", field="updated_at", descending=True, is_datetime=True),
}


@dataclass(frozen=True)
class PackConditions:
    """Which packs a board page lists; every given condition must hold."""

    status: list[PackStatus] | None = None
    payment_status: list[ModelPaymentStatus] | None = None
    client_id: str | None = None  # a global ID: an unknown one matches no pack
    expiring_before: datetime | None = None
    has_balance_due: bool | None = None
    search: str | None = None


async def _pack_query(info: Info, condition: PackConditions | None) -> QuerySet[Pack]:
    actor = actor_of(info)
    query = Pack.filter(business_id=actor.business_id, deleted_at__isnull=True)
    if condition is None:
        return query
    if condition.status:
        query = query.filter(status__in=condition.status)
    if condition.payment_status:
        query = query.filter(payment_status__in=condition.payment_status)
    if condition.client_id is not None:
        parsed = parse_global_id(condition.client_id, "Client")
        # An unknown client (or one of another business) simply matches no pack.
        query = query.filter(client_id=parsed[1] if parsed else 0)
    if condition.expiring_before is not None:
        query = query.filter(expires_at__lt=condition.expiring_before)
    if condition.has_balance_due is not None:
        owing = Q(final_price__gt=F("amount_paid")) & ~Q(status=PackStatus.CANCELLED)
        query = query.filter(owing if condition.has_balance_due else ~owing)
    searched = await pack_search_filter(
        business_id=actor.business_id, text=search_text(condition.search)
    )
    if searched is not None:
        query = query.filter(searched)
    return query


async def pack_page(
    info: Info,
    conditions: PackConditions | None,
    *,
    order: str,
    first: int | None,
    after: str | None,
) -> Page[Pack]:
    """One page of the board, its cards' relations primed so their fields resolve at once."""
    page = await keyset_page(
        await _pack_query(info, conditions),
        ordering=PACK_ORDERINGS[order],
        first=first,
        after=after,
    )
    loaders = info.context.loaders
    loaders.prime(loaders.pack, list(page.rows))
    await prime_pack_cards(info, list(page.rows))
    return page


async def pack(info: Info, id: str) -> Pack | None:
    """The pack of a global ID (a deleted one too); None when unknown or another business's."""
    actor_of(info)
    parsed = parse_global_id(id, "Pack")
    return await info.context.loaders.pack.load(parsed[1]) if parsed else None


async def pack_history(
    info: Info, pack_id: int, *, first: int | None, after: str | None, newest_first: bool
) -> Page[LedgerEntry]:
    actor = actor_of(info)
    ordering = Ordering("h-" if newest_first else "h+", descending=newest_first)
    return await keyset_page(
        LedgerEntry.filter(business_id=actor.business_id, pack_id=pack_id),
        ordering=ordering,
        first=first,
        after=after,
    )
