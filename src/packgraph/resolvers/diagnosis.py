"""The count investigation of one pack (``Pack.diagnosis``)."""

from __future__ import annotations

from packgraph.domain.diagnosis import PackDiagnosis, diagnose_pack
from packgraph.resolvers.context import Info, actor_of


async def pack_diagnosis(info: Info, pack_id: int) -> PackDiagnosis:
    """The diagnosis of a pack the viewer can already see (any role)."""
    return await diagnose_pack(actor=actor_of(info), pack_id=pack_id)
