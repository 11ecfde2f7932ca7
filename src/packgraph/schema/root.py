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
from graphql import GraphQLError
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from packgraph.db import database_unavailable
from packgraph.resolvers.extensions import schema_extensions
from packgraph.schema import fields, mutation_fields
from packgraph.schema.scalars import SCALAR_OVERRIDES
from packgraph.settings import Settings

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


class Schema(strawberry.Schema):
    """strawberry's schema, logging only bugs (with their traceback). A client's mistake (a
    parse, validation or variable error, a refused argument) is answered, not logged: its
    message quotes the request, which may hold a password or a token. An unreachable database
    is one warning line, not a traceback per request."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [
            error
            for error in errors
            if error.original_error is not None
            and not isinstance(error.original_error, GraphQLError)
        ]
        bugs = [error for error in unexpected if not database_unavailable(error.original_error)]
        if len(bugs) < len(unexpected):
            log.warning("database unavailable: an operation failed and was answered with 503")
        super().process_errors(bugs, execution_context)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    # Executes a pack event's selection once per process, not once per subscriber.
    from packgraph.resolvers.events import SharedEventExecutionContext

    settings = settings or Settings()
    query, mutation, subscription = root_types()
    return Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=schema_extensions(settings),
        execution_context_class=SharedEventExecutionContext,
        config=StrawberryConfig(relay_max_results=100),
        scalar_overrides=SCALAR_OVERRIDES,
    )


def export_sdl() -> str:
    return print_schema(build_schema()) + "\n"
