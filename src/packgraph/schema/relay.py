"""Relay connections with ``totalCount``, built from a resolver's
:class:`~packgraph.resolvers.pagination.Page`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay
from strawberry.relay.types import NodeType

from packgraph.resolvers.ids import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from packgraph.resolvers.pagination import Page

# Descriptions of the pagination arguments every connection field takes.
FIRST = f"How many items to return: 0 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."
AFTER = "Return the items after this cursor: a previous page's `pageInfo.endCursor`."

Row = TypeVar("Row")


@strawberry.type(description="A page of a list, with the size of the whole list.")
class CountedConnection(relay.Connection[NodeType], Generic[NodeType]):
    count_rows: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds, across every page.")
    async def total_count(self) -> int:
        return await self.count_rows()


def connection_of(
    connection_class: type[Any],
    page: Page[Row],
    node_of: Callable[[Row], Any],
    edge_class: type[Any] = relay.Edge,
) -> Any:
    """The connection of one page, each row made a node by ``node_of``."""
    edges = [edge_class(cursor=page.cursor_of(row), node=node_of(row)) for row in page.rows]
    return connection_class(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_rows=page.count_rows,
    )
