"""Lazy references between type modules, so packs can name clients and clients packs without
import cycles (strawberry resolves them when the schema is built).

A type module that builds another module's type from a row (a client's packs, an entry's pack)
takes the class with :func:`resolved`: the object graph of GraphQL is cyclic, its imports are not.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, get_args

import strawberry

if TYPE_CHECKING:
    from packgraph.schema.catalog import PackTemplateType, ServiceType
    from packgraph.schema.clients import ClientType
    from packgraph.schema.diagnosis import PackDiagnosisType
    from packgraph.schema.ledger import LedgerEntryConnection, LedgerEntryType, PackNoteType
    from packgraph.schema.packs import PackItemType, PackType
    from packgraph.schema.visits import (
        AppointmentType,
        CreditEntryType,
        InvoiceLineType,
        InvoiceType,
        PaymentType,
    )

_CATALOG = "packgraph.schema.catalog"
_CLIENTS = "packgraph.schema.clients"
_DIAGNOSIS = "packgraph.schema.diagnosis"
_LEDGER = "packgraph.schema.ledger"
_PACKS = "packgraph.schema.packs"
_VISITS = "packgraph.schema.visits"

ClientRef = Annotated["ClientType", strawberry.lazy(_CLIENTS)]
ServiceRef = Annotated["ServiceType", strawberry.lazy(_CATALOG)]
PackTemplateRef = Annotated["PackTemplateType", strawberry.lazy(_CATALOG)]
PackRef = Annotated["PackType", strawberry.lazy(_PACKS)]
PackItemRef = Annotated["PackItemType", strawberry.lazy(_PACKS)]
LedgerEntryRef = Annotated["LedgerEntryType", strawberry.lazy(_LEDGER)]
LedgerEntryConnectionRef = Annotated["LedgerEntryConnection", strawberry.lazy(_LEDGER)]
PackNoteRef = Annotated["PackNoteType", strawberry.lazy(_LEDGER)]
AppointmentRef = Annotated["AppointmentType", strawberry.lazy(_VISITS)]
InvoiceRef = Annotated["InvoiceType", strawberry.lazy(_VISITS)]
InvoiceLineRef = Annotated["InvoiceLineType", strawberry.lazy(_VISITS)]
PaymentRef = Annotated["PaymentType", strawberry.lazy(_VISITS)]
CreditEntryRef = Annotated["CreditEntryType", strawberry.lazy(_VISITS)]
PackDiagnosisRef = Annotated["PackDiagnosisType", strawberry.lazy(_DIAGNOSIS)]


@cache
def resolved(ref: Any) -> Any:
    """The class a reference above names (imported on first use, once every module is loaded)."""
    forward, reference = get_args(ref)
    return reference.resolve_forward_ref(forward).resolve_type()
