"""Reading appointments, invoices and tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from packgraph.models import Appointment, Invoice, Task
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import actor_of
from packgraph.resolvers.pagination import Ordering, keyset_connection
from packgraph.schema.relay import AFTER, DEFAULT_PAGE_SIZE, FIRST, parse_global_id
from packgraph.schema.tasks import TaskConnection, TaskType
from packgraph.schema.visits import (
    AppointmentConnection,
    AppointmentType,
    InvoiceConnection,
    InvoiceType,
)

APPOINTMENTS_BY_TIME = Ordering("a+", field="starts_at", is_datetime=True)
NEWEST_FIRST = Ordering("i-", descending=True)
TASKS_NEWEST_FIRST = Ordering("t-", descending=True)


def _client_pk(client_id: str | None) -> int | None:
    if client_id is None:
        return None
    parsed = parse_global_id(client_id, "Client")
    # An unknown client (or one of another business) matches nothing.
    return parsed[1] if parsed else 0


async def appointments(
    info: Info,
    from_: Annotated[
        datetime | None,
        strawberry.argument(name="from", description="Only visits starting at or after this."),
    ] = None,
    to: Annotated[
        datetime | None, strawberry.argument(description="Only visits starting before this.")
    ] = None,
    client_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only this client's visits.")
    ] = None,
    include_deleted: Annotated[
        bool, strawberry.argument(description="Also list deleted appointments.")
    ] = False,
    first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
) -> AppointmentConnection:
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
    return await keyset_connection(
        AppointmentConnection,
        query,
        ordering=APPOINTMENTS_BY_TIME,
        first=first,
        after=after,
        node_of=AppointmentType.from_row,
    )


async def invoices(
    info: Info,
    client_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only this client's invoices.")
    ] = None,
    first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
) -> InvoiceConnection:
    actor = actor_of(info)
    query = Invoice.filter(business_id=actor.business_id)
    client_pk = _client_pk(client_id)
    if client_pk is not None:
        query = query.filter(client_id=client_pk)
    return await keyset_connection(
        InvoiceConnection,
        query,
        ordering=NEWEST_FIRST,
        first=first,
        after=after,
        node_of=InvoiceType.from_row,
    )


async def invoice(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The invoice's ID.")],
) -> InvoiceType | None:
    actor_of(info)
    parsed = parse_global_id(id, "Invoice")
    row = await info.context.loaders.invoice.load(parsed[1]) if parsed else None
    return InvoiceType.from_row(row) if row else None


async def tasks(
    info: Info,
    open: Annotated[
        bool | None,
        strawberry.argument(description="true: open tasks only; false: done only; null: all."),
    ] = None,
    first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
) -> TaskConnection:
    actor = actor_of(info)
    query = Task.filter(business_id=actor.business_id)
    if open is not None:
        query = query.filter(done_at__isnull=open)
    return await keyset_connection(
        TaskConnection,
        query,
        ordering=TASKS_NEWEST_FIRST,
        first=first,
        after=after,
        node_of=TaskType.from_row,
    )
