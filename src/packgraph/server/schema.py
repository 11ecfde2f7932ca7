"""The served schema: the root types of :mod:`packgraph.schema.root` with the server's
extensions, limits and executor."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from packgraph.db import database_unavailable
from packgraph.schema.root import root_types
from packgraph.schema.scalars import SCALAR_OVERRIDES
from packgraph.server.execution import SharedEventExecutionContext
from packgraph.server.extensions import schema_extensions
from packgraph.settings import Settings

log = logging.getLogger("packgraph.graphql")


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
    settings = settings or Settings()
    query, mutation, subscription = root_types()
    return Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=schema_extensions(settings),
        # Executes a pack event's selection once per process, not once per subscriber.
        execution_context_class=SharedEventExecutionContext,
        config=StrawberryConfig(relay_max_results=100),
        scalar_overrides=SCALAR_OVERRIDES,
    )


def export_sdl() -> str:
    return print_schema(build_schema()) + "\n"
