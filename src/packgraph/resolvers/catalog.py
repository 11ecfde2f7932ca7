"""Reading clients, services and pack templates."""

from __future__ import annotations

from typing import Annotated

import strawberry
from tortoise.expressions import Q

from packgraph.models import Client, PackTemplate, Service
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import actor_of
from packgraph.resolvers.pagination import Ordering, keyset_connection
from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.clients import ClientConnection, ClientType
from packgraph.schema.relay import AFTER, DEFAULT_PAGE_SIZE, FIRST, parse_global_id, search_text

CLIENTS_BY_NAME = Ordering("c+", field="name")


async def clients(
    info: Info,
    search: Annotated[
        str | None,
        strawberry.argument(description="Text in the client's name, email or phone."),
    ] = None,
    first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
) -> ClientConnection:
    actor = actor_of(info)
    query = Client.filter(business_id=actor.business_id)
    text = search_text(search)
    if text:
        query = query.filter(
            Q(name__icontains=text) | Q(email__icontains=text) | Q(phone__icontains=text)
        )
    loaders = info.context.loaders
    return await keyset_connection(
        ClientConnection,
        query,
        ordering=CLIENTS_BY_NAME,
        first=first,
        after=after,
        node_of=ClientType.from_row,
        on_rows=lambda rows: loaders.prime(loaders.client, rows),
    )


async def client(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The client's ID.")]
) -> ClientType | None:
    actor_of(info)
    parsed = parse_global_id(id, "Client")
    row = await info.context.loaders.client.load(parsed[1]) if parsed else None
    return ClientType.from_row(row) if row else None


async def services(
    info: Info,
    include_inactive: Annotated[
        bool, strawberry.argument(description="Also list services no longer offered.")
    ] = False,
) -> list[ServiceType]:
    actor = actor_of(info)
    query = Service.filter(business_id=actor.business_id)
    if not include_inactive:
        query = query.filter(active=True)
    return [ServiceType.from_row(row) for row in await query.order_by("name", "id")]


async def pack_templates(
    info: Info,
    include_archived: Annotated[
        bool, strawberry.argument(description="Also list archived templates.")
    ] = False,
) -> list[PackTemplateType]:
    actor = actor_of(info)
    query = PackTemplate.filter(business_id=actor.business_id)
    if not include_archived:
        query = query.filter(archived=False)
    return [PackTemplateType.from_row(row) for row in await query.order_by("name", "id")]
