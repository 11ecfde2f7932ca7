"""The ``packSummary`` report."""

from __future__ import annotations

from packgraph.domain.reports import pack_summary as summarise
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import actor_of
from packgraph.schema.reports import PackSummary


async def pack_summary(info: Info) -> PackSummary:
    """The summary of the viewer's business now (any role, integrations included)."""
    return PackSummary.from_domain(await summarise(actor=actor_of(info)))
