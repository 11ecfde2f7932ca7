"""The ``packSummary`` report."""

from __future__ import annotations

from packgraph.domain import reports
from packgraph.resolvers.context import Info, actor_of


async def summary(info: Info) -> reports.PackSummary:
    """The summary of the viewer's business now (any role, integrations included)."""
    return await reports.pack_summary(actor=actor_of(info))
