"""The root Query, Mutation and Subscription types, composed from one class per area.

An area is a strawberry type whose fields are root fields. Another layer plugs in by adding a
module to ``PLUGIN_MODULES`` that defines any of ``QUERY_AREAS``, ``MUTATION_AREAS`` and
``SUBSCRIPTION_AREAS`` (lists of such classes); the live events layer does this with
``packgraph.schema.events``.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache

import strawberry

from packgraph.schema import fields, mutation_fields

log = logging.getLogger("packgraph.graphql")

PLUGIN_MODULES = (
    "packgraph.schema.events",
    "packgraph.schema.diagnosis",
    "packgraph.schema.reports",
)


def _plugin_areas(kind: str) -> list[type]:
    areas: list[type] = []
    for name in PLUGIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        areas.extend(getattr(module, kind, []))
    return areas


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
        [*fields.QUERY_AREAS, *_plugin_areas("QUERY_AREAS")],
    )
    mutation = _compose(
        "Mutation",
        "Every change. Each takes one `input` and returns a payload with `userErrors`.",
        [*mutation_fields.MUTATION_AREAS, *_plugin_areas("MUTATION_AREAS")],
    )
    subscription = _compose(
        "Subscription",
        "Live streams over WebSocket (graphql-transport-ws).",
        _plugin_areas("SUBSCRIPTION_AREAS"),
    )
    assert query is not None
    return query, mutation, subscription
