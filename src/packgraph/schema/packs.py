"""Packs and their items: what the board's cards and the pack detail show.

:func:`pack_from_row` is the one way a Pack is built from its row; the live layer uses it for the
pack snapshot of every event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from packgraph import models
from packgraph.domain.adjustments import quote_refund
from packgraph.models import Pack, PackItem, PackStatus
from packgraph.resolvers import diagnosis as diagnosis_resolvers
from packgraph.resolvers import packs as pack_resolvers
from packgraph.resolvers.context import Info
from packgraph.resolvers.ids import DEFAULT_PAGE_SIZE
from packgraph.resolvers.prefetch import cached, cached_many, is_pending, then
from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.clients import ClientType
from packgraph.schema.enums import Metric, PackOrder, PaymentStatus
from packgraph.schema.enums import PackStatus as PackStatusEnum
from packgraph.schema.refs import (
    InvoiceRef,
    LedgerEntryConnectionRef,
    LedgerEntryRef,
    PackDiagnosisRef,
    PackNoteRef,
    PaymentRef,
    resolved,
)
from packgraph.schema.relay import AFTER, FIRST, CountedConnection, connection_of


def _progress(used: int, allowance: int) -> float:
    return round(used / allowance, 4) if allowance > 0 else 1.0


@strawberry.type(
    description="Usage summed over a pack's items: `used` of `allowance`, in the pack's metric."
)
class PackTotals:
    allowance: int = strawberry.field(description="Sum of the items' allowances.")
    used: int = strawberry.field(description="Sum of the units used.")
    remaining: int = strawberry.field(description="allowance - used.")
    progress: float = strawberry.field(description="used / allowance, from 0 to 1.")


@strawberry.type(
    name="PackItem",
    description="One allowance inside a pack, e.g. `10 sessions of Massage 60`. "
    "`used` always equals the sum of the item's ledger entries.",
)
class PackItemType(relay.Node):
    id: relay.NodeID[int]
    position: int = strawberry.field(description="Order of the item within its pack.")
    allowance: int = strawberry.field(description="Units included, in the pack's metric.")
    used: int = strawberry.field(description="Units used so far (0..allowance).")
    remaining: int = strawberry.field(description="allowance - used.")
    progress: float = strawberry.field(
        description="used / allowance, from 0 to 1, for a progress bar."
    )
    row: strawberry.Private[PackItem]

    @classmethod
    def from_row(cls, row: PackItem) -> PackItemType:
        return cls(
            id=row.id,
            position=row.position,
            allowance=row.allowance,
            used=row.used,
            remaining=row.allowance - row.used,
            progress=_progress(row.used, row.allowance),
            row=row,
        )

    # Plain functions (no coroutine) returning what the loaders hold: see resolvers/prefetch.py.
    @strawberry.field(description="The services this allowance can be used for.")
    def services(self, info: Info) -> list[ServiceType]:
        loaders = info.context.loaders

        def of_links(links: list) -> Any:
            rows = cached_many(loaders.service, [link.service_id for link in links])
            return then(rows, lambda found: [ServiceType.from_row(r) for r in found if r])

        links = cached(loaders.pack_item_services, self.id)
        if is_pending(links):
            return _awaited(then(links, of_links))  # type: ignore[return-value]
        return of_links(links)  # type: ignore[arg-type]


@strawberry.type(
    name="Pack",
    description="One client's pack: what the board shows as a card. Money amounts are Int minor "
    "units of `currency`.",
)
class PackType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Name, copied from the template at sale.")
    description: str = strawberry.field(description="Description, copied from the template.")
    metric: Metric = strawberry.field(description="What the allowances count.")  # type: ignore[valid-type]
    status: PackStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="ACTIVE, EXPIRED, FULLY_USED or CANCELLED."
    )
    payment_status: PaymentStatus = strawberry.field(  # type: ignore[valid-type]
        description="PAID, PARTIAL or UNPAID, from the payments allocated to the pack."
    )
    is_open: bool = strawberry.field(description="True when the pack can be redeemed (ACTIVE).")
    price: int = strawberry.field(description="List price before discount.")
    discount: int = strawberry.field(description="Discount given at sale.")
    final_price: int = strawberry.field(description="price - discount: what the client owes.")
    session_price: int = strawberry.field(
        description="What each visit redeemed from this pack is charged (usually 0)."
    )
    amount_paid: int = strawberry.field(
        description="Payments allocated to the pack, net of refunds."
    )
    balance_due: int = strawberry.field(
        description="finalPrice - amountPaid, never negative; 0 for a cancelled or deleted pack "
        "(its sale line is voided down to what was paid)."
    )
    purchased_at: datetime = strawberry.field(description="When the pack was sold.")
    expires_at: datetime | None = strawberry.field(description="When it expires; null: never.")
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled.")
    cancel_reason: str = strawberry.field(description="Why it was cancelled; empty otherwise.")
    deleted_at: datetime | None = strawberry.field(
        description="When it was deleted; deleted packs are left out of every list."
    )
    referrer: str = strawberry.field(description="Who referred the client; empty when none.")
    authorisation_number: str = strawberry.field(
        description="Insurer or referrer authorisation number; empty when none."
    )
    authorised_from: date | None = strawberry.field(description="First day of the authorisation.")
    authorised_until: date | None = strawberry.field(description="Last day of the authorisation.")
    expiry_reminder_sent_at: datetime | None = strawberry.field(
        description="When PACK_EXPIRING_SOON was emitted for the current expiry date."
    )
    version: int = strawberry.field(
        description="Increases with every change: of two snapshots the higher version is newer."
    )
    created_at: datetime = strawberry.field(description="When the row was created.")
    updated_at: datetime = strawberry.field(description="When the pack last changed.")
    row: strawberry.Private[Pack]

    @classmethod
    def from_row(cls, row: Pack) -> PackType:
        return pack_from_row(row)

    @strawberry.field(description="The client who owns the pack.")
    def client(self, info: Info) -> ClientType:
        row = cached(info.context.loaders.client, self.row.client_id)  # type: ignore[attr-defined]
        return then(row, _client_type)  # type: ignore[return-value]

    @strawberry.field(description="The template it was sold from; null for a custom pack.")
    async def template(self, info: Info) -> PackTemplateType | None:
        template_id = self.row.template_id  # type: ignore[attr-defined]
        row = await info.context.loaders.template.load(template_id) if template_id else None
        return PackTemplateType.from_row(row) if row else None

    @strawberry.field(description="ISO 4217 code of every money amount of the pack.")
    async def currency(self, info: Info) -> str:
        business = await info.context.loaders.business.load(self.row.business_id)  # type: ignore[attr-defined]
        return business.currency if business else ""

    @strawberry.field(description="The allowances, in order, with their services and usage.")
    def items(self, info: Info) -> list[PackItemType]:
        rows = cached(info.context.loaders.pack_items, self.id)
        return then(rows, lambda found: [PackItemType.from_row(row) for row in found])  # type: ignore[return-value]

    @strawberry.field(description='Usage summed over the items ("3/10 sessions used").')
    def totals(self, info: Info) -> PackTotals:
        return then(cached(info.context.loaders.pack_items, self.id), _totals)  # type: ignore[return-value]

    @strawberry.field(
        description="The suggested refund if the pack were cancelled now: amount paid minus the "
        "value used, where one unit is worth finalPrice / allowance."
    )
    def refund_quote(self, info: Info) -> int:
        return then(  # type: ignore[return-value]
            cached(info.context.loaders.pack_items, self.id),
            lambda rows: quote_refund(
                amount_paid=self.amount_paid,
                final_price=self.final_price,
                items=[(row.used, row.allowance) for row in rows],
            ),
        )

    @strawberry.field(
        description="The ledger: every redemption, reversal and correction, with session "
        "number, staff, reason, appointment and invoice line."
    )
    async def history(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        newest_first: Annotated[
            bool, strawberry.argument(description="Newest entries first (default) or oldest.")
        ] = True,
    ) -> LedgerEntryConnectionRef:
        page = await pack_resolvers.pack_history(
            info, self.id, first=first, after=after, newest_first=newest_first
        )
        return connection_of(
            resolved(LedgerEntryConnectionRef), page, resolved(LedgerEntryRef).from_row
        )

    @strawberry.field(description="Payments and refunds allocated to the pack, oldest first.")
    async def payments(self, info: Info) -> list[PaymentRef]:
        rows = await info.context.loaders.pack_payments.load(self.id)
        return [resolved(PaymentRef).from_row(row) for row in rows]

    @strawberry.field(description="Notes on the pack, newest first.")
    async def notes(self, info: Info) -> list[PackNoteRef]:
        rows = await info.context.loaders.pack_notes.load(self.id)
        return [resolved(PackNoteRef).from_row(row) for row in rows]

    @strawberry.field(
        description="Invoices with a line for this pack: its sale, and the visits allocated to it."
    )
    async def invoices(self, info: Info) -> list[InvoiceRef]:
        lines = await info.context.loaders.pack_lines.load(self.id)
        invoice_ids = list(dict.fromkeys(line.invoice_id for line in lines))  # type: ignore[attr-defined]
        rows = await info.context.loaders.invoice.load_many(invoice_ids)
        return [resolved(InvoiceRef).from_row(row) for row in rows if row is not None]

    @strawberry.field(
        description="“Why is this count wrong?”: the count the pack should show and one finding "
        "per cause, each naming its visit and the mutation that fixes it."
    )
    async def diagnosis(self, info: Info) -> PackDiagnosisRef:
        diagnosis = await diagnosis_resolvers.pack_diagnosis(info, self.id)
        return resolved(PackDiagnosisRef).from_domain(diagnosis)


def _totals(rows: list[PackItem]) -> PackTotals:
    allowance = sum(row.allowance for row in rows)
    used = sum(row.used for row in rows)
    return PackTotals(
        allowance=allowance,
        used=used,
        remaining=allowance - used,
        progress=_progress(used, allowance),
    )


def _client_type(row: Any) -> ClientType:
    assert row is not None, "a pack's client is in the pack's business"
    return ClientType.from_row(row)


async def _awaited(value: Any) -> Any:
    """Await a result that may itself be awaitable (a load that leads to another load)."""
    value = await value
    return await value if is_pending(value) else value


def pack_from_row(row: Pack) -> PackType:
    """The GraphQL Pack of a row (reusable outside a request: relations load on demand)."""
    # A cancelled or deleted pack's sale is voided down to what was paid: nothing stays owed.
    ended = row.status == PackStatus.CANCELLED or row.deleted_at is not None
    balance = 0 if ended else max(row.final_price - row.amount_paid, 0)
    return PackType(
        id=row.id,
        name=row.name,
        description=row.description,
        metric=row.metric,
        status=row.status,
        payment_status=row.payment_status,
        is_open=row.status == PackStatus.ACTIVE and row.deleted_at is None,
        price=row.price,
        discount=row.discount,
        final_price=row.final_price,
        session_price=row.session_price,
        amount_paid=row.amount_paid,
        balance_due=balance,
        purchased_at=row.purchased_at,
        expires_at=row.expires_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        deleted_at=row.deleted_at,
        referrer=row.referrer,
        authorisation_number=row.authorisation_number,
        authorised_from=row.authorised_from,
        authorised_until=row.authorised_until,
        expiry_reminder_sent_at=row.expiry_reminder_sent_at,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        row=row,
    )


@strawberry.type(description="A page of packs.")
class PackConnection(CountedConnection[PackType]):
    pass


@strawberry.input(description="Which packs to list. Every given condition must hold.")
class PackFilter:
    status: list[PackStatusEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Any of these statuses, e.g. `[ACTIVE]`."
    )
    payment_status: list[PaymentStatus] | None = strawberry.field(  # type: ignore[valid-type]
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
        default=None,
        description="Words that must each appear, whatever their case and accents, in the "
        "pack's name or its client's name, phone (digits) or email.",
    )

    def conditions(self) -> pack_resolvers.PackConditions:
        return pack_resolvers.PackConditions(
            status=[PackStatus(value.value) for value in self.status] if self.status else None,
            payment_status=[models.PaymentStatus(value.value) for value in self.payment_status]
            if self.payment_status
            else None,
            client_id=self.client_id,
            expiring_before=self.expiring_before,
            has_balance_due=self.has_balance_due,
            search=self.search,
        )


@strawberry.type(description="Packs: the board and the detail.")
class PackQueries:
    @strawberry.field(
        description="The pack board: packs (deleted ones left out) filtered and ordered, in "
        "pages. Cursors stay valid while packs change."
    )
    async def packs(
        self,
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
        page = await pack_resolvers.pack_page(
            info,
            filter.conditions() if filter is not None else None,
            order=order_by.name,
            first=first,
            after=after,
        )
        return connection_of(PackConnection, page, PackType.from_row)

    @strawberry.field(
        description="One pack (also a deleted one, with `deletedAt` set); null when not found."
    )
    async def pack(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The pack's ID.")],
    ) -> PackType | None:
        row = await pack_resolvers.pack(info, id)
        return PackType.from_row(row) if row else None


QUERY_AREAS: list[type] = [PackQueries]
