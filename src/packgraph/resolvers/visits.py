"""Reading appointments, invoices and tasks."""

from __future__ import annotations

from datetime import datetime

from packgraph.models import Appointment, Invoice, Task
from packgraph.resolvers.context import Info, actor_of
from packgraph.resolvers.ids import parse_global_id
from packgraph.resolvers.pagination import Ordering, Page, keyset_page

APPOINTMENTS_BY_TIME = Ordering("a+", field="starts_at", is_datetime=True)
NEWEST_FIRST = Ordering("i-", descending=True)
TASKS_NEWEST_FIRST = Ordering("t-", descending=True)


def _client_pk(client_id: str | None) -> int | None:
    if client_id is None:
        return None
    parsed = parse_global_id(client_id, "Client")
    # An unknown client (or one of another business) matches nothing.
    return parsed[1] if parsed else 0


async def appointment_page(
    info: Info,
    *,
    from_: datetime | None,
    to: datetime | None,
    client_id: str | None,
    include_deleted: bool,
    first: int | None,
    after: str | None,
) -> Page[Appointment]:
    actor = actor_of(info)
    query = Appointment.filter(business_id=actor.business_id)
    if not include_deleted:
        query = query.filter(deleted_at__isnull=True)
    if from_ is not None:
        query = query.filter(starts_at__gte=from_)
    if to is not None:
        query = query.filter(starts_at__lt=to)
    client_pk = _client_pk(client_id)
    if client_pk is not None:
        query = query.filter(client_id=client_pk)
    return await keyset_page(query, ordering=APPOINTMENTS_BY_TIME, first=first, after=after)


async def invoice_page(
    info: Info, *, client_id: str | None, first: int | None, after: str | None
) -> Page[Invoice]:
    actor = actor_of(info)
    query = Invoice.filter(business_id=actor.business_id)
    client_pk = _client_pk(client_id)
    if client_pk is not None:
        query = query.filter(client_id=client_pk)
    return await keyset_page(query, ordering=NEWEST_FIRST, first=first, after=after)


async def invoice(info: Info, id: str) -> Invoice | None:
    actor_of(info)
    parsed = parse_global_id(id, "Invoice")
    return await info.context.loaders.invoice.load(parsed[1]) if parsed else None


async def task_page(
    info: Info, *, open: bool | None, first: int | None, after: str | None
) -> Page[Task]:
    actor = actor_of(info)
    query = Task.filter(business_id=actor.business_id)
    if open is not None:
        query = query.filter(done_at__isnull=open)
    return await keyset_page(query, ordering=TASKS_NEWEST_FIRST, first=first, after=after)
