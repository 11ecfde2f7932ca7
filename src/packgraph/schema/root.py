"""The root Query, Mutation and Subscription types, composed from the areas.

An area module defines any of ``QUERY_AREAS``, ``MUTATION_AREAS`` and ``SUBSCRIPTION_AREAS``:
lists of strawberry types whose fields are root fields. Listing the module in ``AREAS`` is all a
new area needs; a new field of an existing area needs nothing here.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

import strawberry

from packgraph.schema import (
    accounts,
    catalog_mutations,
    clients,
    credit_mutations,
    diagnosis,
    events,
    invoice_mutations,
    nodes,
    pack_mutations,
    packs,
    reports,
    sale_mutations,
    tasks,
    visit_mutations,
    visits,
)

# In the order their fields appear in the schema.
AREAS: tuple[ModuleType, ...] = (
    accounts,
    nodes,
    clients,
    catalog_mutations,
    packs,
    visits,
    tasks,
    sale_mutations,
    visit_mutations,
    invoice_mutations,
    credit_mutations,
    pack_mutations,
    events,
    diagnosis,
    reports,
)


def _areas(kind: str) -> list[type]:
    return [area for module in AREAS for area in getattr(module, kind, [])]


def _compose(name: str, description: str, areas: list[type]) -> type | None:
    if not areas:
        return None
    seen: dict[str, str] = {}
    for area in areas:
        for field in area.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            if field.python_name in seen:
                raise RuntimeError(
                    f"{name}.{field.python_name} is defined by {seen[field.python_name]} and "
                    f"{area.__name__}"
                )
            seen[field.python_name] = area.__name__
    return strawberry.type(type(name, tuple(areas), {}), name=name, description=description)


@cache
def root_types() -> tuple[type, type | None, type | None]:
    query = _compose(
        "Query",
        "Everything a staff member or integration can read, within their own business.",
        _areas("QUERY_AREAS"),
    )
    mutation = _compose(
        "Mutation",
        "Every change. Each takes one `input` and returns a payload with `userErrors`.",
        _areas("MUTATION_AREAS"),
    )
    subscription = _compose(
        "Subscription",
        "Live streams over WebSocket (graphql-transport-ws).",
        _areas("SUBSCRIPTION_AREAS"),
    )
    assert query is not None
    return query, mutation, subscription
