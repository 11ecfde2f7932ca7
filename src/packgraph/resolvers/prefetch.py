"""Loading a page's pack cards up front, and resolving fields from what the loaders already hold.

A board page of 50 cards resolves ~1,500 fields. Each field that awaits a DataLoader costs a
coroutine, a future and, inside lists, an asyncio task: on a page of cards those dominate the
request. So the ``packs`` resolver loads what the selected card fields need (clients, items, item
services, services) for the whole page at once, through the request's loaders (still one statement
per relation, whatever the page size), and the card's fields are plain functions that return the
loaded value directly, falling back to an awaitable load when the value is not at hand (a pack
reached through ``node``, a client's packs, an event).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from packgraph.models import Pack
from packgraph.resolvers.context import Info

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")


def is_pending(value: object) -> bool:
    """A load still under way. Not ``inspect.isawaitable``: Tortoise rows are awaitable too."""
    return isinstance(value, asyncio.Future | Coroutine)


def cached(loader: DataLoader[K, V], key: K) -> V | Awaitable[V]:
    """The value ``loader`` already holds for ``key``, else the awaitable ``load(key)``."""
    future = loader.cache_map.get(key) if loader.cache else None
    if future is not None and future.done() and future.exception() is None:
        return future.result()
    return loader.load(key)


def cached_many(loader: DataLoader[K, V], keys: Sequence[K]) -> list[V] | Awaitable[list[V]]:
    """Like :func:`cached`, for several keys: a list when every value is at hand."""
    values = []
    for key in keys:
        value = cached(loader, key)
        if is_pending(value):
            # Some key is not loaded yet: load them all in one batch.
            return loader.load_many(keys)
        values.append(value)
    return values


def then(value: V | Awaitable[V], transform: Callable[[V], R]) -> R | Awaitable[R]:
    """``transform(value)``, now when the value is at hand, else once it is loaded."""
    if is_pending(value):

        async def finish() -> R:
            return transform(await value)

        return finish()
    return transform(value)  # type: ignore[arg-type]


def selects(selections: Iterable[Any], path: Sequence[str]) -> bool:
    """Whether the selection set asks for the field at ``path`` (fragments followed)."""
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            if selects(selection.selections, path):
                return True
        elif isinstance(selection, SelectedField) and selection.name == path[0]:
            if len(path) == 1 or selects(selection.selections, path[1:]):
                return True
    return False


async def prime_pack_cards(info: Info, packs: Sequence[Pack]) -> None:
    """Load the clients, items, item services and services of a page of packs, as far as the
    ``packs`` field's selection (``edges { node { ... } }``) asks for them."""
    if not packs:
        return
    # ``selected_fields`` is the ``packs`` field itself; the card is below its selections.
    selection = [child for field in info.selected_fields for child in field.selections]
    card = ("edges", "node")
    wants_items = any(
        selects(selection, (*card, name)) for name in ("items", "totals", "refundQuote")
    )
    wants_services = selects(selection, (*card, "items", "services"))
    wants_client = selects(selection, (*card, "client"))
    loaders = info.context.loaders

    async def items_and_services() -> None:
        if not wants_items:
            return
        item_lists = await loaders.pack_items.load_many([pack.id for pack in packs])
        if not wants_services:
            return
        item_ids = [item.id for items in item_lists for item in items]
        links = await loaders.pack_item_services.load_many(item_ids)
        service_ids = list(dict.fromkeys(link.service_id for group in links for link in group))  # type: ignore[attr-defined]
        await loaders.service.load_many(service_ids)

    async def clients() -> None:
        if wants_client:
            await loaders.client.load_many(list({pack.client_id for pack in packs}))  # type: ignore[attr-defined]

    await asyncio.gather(items_and_services(), clients())
