"""Reading packs: the board (filters, ordering, keyset pages), one pack, and a pack's history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet

from packgraph.models import Client, LedgerEntry, Pack, PackStatus
from packgraph.models import PaymentStatus as ModelPaymentStatus
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import actor_of
from packgraph.resolvers.pagination import Ordering, keyset_connection
from packgraph.resolvers.prefetch import prime_pack_cards
from packgraph.schema.enums import PackOrder
from packgraph.schema.enums import PackStatus as PackStatusEnum
from packgraph.schema.enums import PaymentStatus as PaymentStatusEnum
from packgraph.schema.ledger import LedgerEntryConnection, LedgerEntryType
from packgraph.schema.packs import PackConnection, PackType
from packgraph.schema.relay import (
    AFTER,
    DEFAULT_PAGE_SIZE,
    FIRST,
    parse_global_id,
    search_text,
)

# Board searches matching more clients than this look clients up in a subquery.
SEARCH_CLIENT_IDS = 1000

PACK_ORDERINGS = {
    PackOrder.PURCHASED_AT_DESC: Ordering(
        "p-", field="purchased_at", descending=True, is_datetime=True
    ),
    PackOrder.PURCHASED_AT_ASC: Ordering("p+", field="purchased_at", is_datetime=True),
    PackOrder.EXPIRES_AT_ASC: Ordering("e+", field="expires_at", nullable=True, is_datetime=True),
    PackOrder.NAME_ASC: Ordering("n+", field="name"),
    PackOrder.UPDATED_AT_DESC: Ordering(
        "u-", field="updated_at", descending=True, is_datetime=True
    ),
}


@strawberry.input(description="Which packs to list. Every given condition must hold.")
class PackFilter:
    status: list[PackStatusEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Any of these statuses, e.g. `[ACTIVE]`."
    )
    payment_status: list[PaymentStatusEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Any of these payment statuses, e.g. `[UNPAID, PARTIAL]`."
    )
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this client's packs."
    )
    expiring_before: datetime | None = strawberry.field(
        default=None,
        description='Only packs with an expiry before this time (for "expiring within N days" '
        "pass now + N days, usually with `status: [ACTIVE]`).",
    )
    has_balance_due: bool | None = strawberry.field(
        default=None,
        description="true: only packs with money still owed (cancelled packs owe nothing); "
        "false: only packs without.",
    )
    search: str | None = strawberry.field(
        default=None, description="Text in the pack's name or the client's name."
    )


async def _pack_query(info: Info, condition: PackFilter | None) -> QuerySet[Pack]:
    actor = actor_of(info)
    query = Pack.filter(business_id=actor.business_id, deleted_at__isnull=True)
    if condition is None:
        return query
    if condition.status:
        query = query.filter(status__in=[PackStatus(value.value) for value in condition.status])
    if condition.payment_status:
        query = query.filter(
            payment_status__in=[ModelPaymentStatus(v.value) for v in condition.payment_status]
        )
    if condition.client_id is not None:
        parsed = parse_global_id(condition.client_id, "Client")
        # An unknown client (or one of another business) simply matches no pack.
        query = query.filter(client_id=parsed[1] if parsed else 0)
    if condition.expiring_before is not None:
        query = query.filter(expires_at__lt=condition.expiring_before)
    if condition.has_balance_due is not None:
        owing = Q(final_price__gt=F("amount_paid")) & ~Q(status=PackStatus.CANCELLED)
        query = query.filter(owing if condition.has_balance_due else ~owing)
    text = search_text(condition.search)
    if text:
        query = query.filter(
            Q(name__icontains=text) | Q(client_id__in=await _clients_named(info, text))
        )
    return query


async def _clients_named(info: Info, text: str) -> list[int] | Subquery:
    """The ids of the clients whose name contains ``text``, for the board's search.

    Read first (a name index on PostgreSQL), so the packs are then found by client through
    pack_business_client: joining client to pack would scan every pack of the business. A text
    that matches very many clients stays a subquery: the newest-first walk then fills a page
    after a few rows anyway.
    """
    clients = Client.filter(business_id=actor_of(info).business_id, name__icontains=text)
    ids = await clients.limit(SEARCH_CLIENT_IDS + 1).values_list("id", flat=True)
    if len(ids) > SEARCH_CLIENT_IDS:
        return Subquery(clients.values("id"))
    return list(ids)


async def packs(
    info: Info,
    filter: Annotated[
        PackFilter | None, strawberry.argument(description="Which packs; default: all.")
    ] = None,
    order_by: Annotated[
        PackOrder, strawberry.argument(description="The order of the list.")
    ] = PackOrder.PURCHASED_AT_DESC,
    first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
) -> PackConnection:
    loaders = info.context.loaders
    page: list[Pack] = []

    def on_rows(rows: list[Pack]) -> None:
        loaders.prime(loaders.pack, rows)
        page.extend(rows)

    connection = await keyset_connection(
        PackConnection,
        await _pack_query(info, filter),
        ordering=PACK_ORDERINGS[order_by],
        first=first,
        after=after,
        node_of=PackType.from_row,
        on_rows=on_rows,
    )
    # The cards' relations for the whole page at once, so their fields resolve without awaiting.
    await prime_pack_cards(info, page)
    return connection


async def pack(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The pack's ID.")]
) -> PackType | None:
    actor_of(info)
    parsed = parse_global_id(id, "Pack")
    row = await info.context.loaders.pack.load(parsed[1]) if parsed else None
    return PackType.from_row(row) if row else None


async def pack_history(
    info: Info, pack_id: int, *, first: int | None, after: str | None, newest_first: bool
) -> LedgerEntryConnection:
    actor = actor_of(info)
    ordering = Ordering("h-" if newest_first else "h+", descending=newest_first)
    return await keyset_connection(
        LedgerEntryConnection,
        LedgerEntry.filter(business_id=actor.business_id, pack_id=pack_id),
        ordering=ordering,
        first=first,
        after=after,
        node_of=LedgerEntryType.from_row,
    )
