"""Reading clients, services and pack templates."""

from __future__ import annotations

from packgraph.domain.search import client_search_filter
from packgraph.models import Client, PackTemplate, Service
from packgraph.resolvers.context import Info, actor_of
from packgraph.resolvers.ids import parse_global_id, search_text
from packgraph.resolvers.pagination import Ordering, Page, keyset_page

CLIENTS_BY_NAME = Ordering("c+", field="name")


async def client_page(
    info: Info, *, search: str | None, first: int | None, after: str | None
) -> Page[Client]:
    actor = actor_of(info)
    query = Client.filter(business_id=actor.business_id)
    searched = client_search_filter(search_text(search))
    if searched is not None:
        query = query.filter(searched)
    page = await keyset_page(query, ordering=CLIENTS_BY_NAME, first=first, after=after)
    loaders = info.context.loaders
    loaders.prime(loaders.client, list(page.rows))
    return page


async def client(info: Info, id: str) -> Client | None:
    actor_of(info)
    parsed = parse_global_id(id, "Client")
    return await info.context.loaders.client.load(parsed[1]) if parsed else None


async def services(info: Info, *, include_inactive: bool) -> list[Service]:
    actor = actor_of(info)
    query = Service.filter(business_id=actor.business_id)
    if not include_inactive:
        query = query.filter(active=True)
    return list(await query.order_by("name", "id"))


async def pack_templates(info: Info, *, include_archived: bool) -> list[PackTemplate]:
    actor = actor_of(info)
    query = PackTemplate.filter(business_id=actor.business_id)
    if not include_archived:
        query = query.filter(archived=False)
    return list(await query.order_by("name", "id"))
