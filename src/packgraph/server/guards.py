"""Extensions that keep hostile or unlucky requests from turning into bugs.

- :class:`StorableText`: NUL characters and unpaired surrogates are refused up front.
- :class:`SubscriptionsOverWebSocket`: a subscription sent over HTTP gets a clear error.
- :class:`SafeParserCache`: syntax errors are reported, also on WebSocket operations.
- :class:`DatabaseUnavailable`: an unreachable database is SERVICE_UNAVAILABLE (503), not a bug.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, StringValueNode, Visitor, visit
from starlette.websockets import WebSocket
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.types.graphql import OperationType

from packgraph.db import database_unavailable
from packgraph.resolvers.context import Context

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
DATABASE_UNAVAILABLE = "The database is unavailable; try again in a moment."


def _unstorable(text: str) -> bool:
    """NUL (PostgreSQL text cannot hold it) or an unpaired surrogate (not encodable as UTF-8)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        self.values.append(node.value)


class StorableText(SchemaExtension):
    """Text with NUL or unpaired surrogates (in variables or literals) is a malformed request:
    one clear error, before any resolver could pass it to the database."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None and execution.result is None:
            literals = _StringLiterals()
            visit(document, literals)
            texts = [*literals.values, *_strings(execution.variables or {})]
            if any(_unstorable(text) for text in texts):
                execution.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            "Text may not contain NUL characters or unpaired UTF-16 surrogates.",
                            extensions={"code": "BAD_USER_INPUT"},
                        )
                    ],
                )
        yield


class SubscriptionsOverWebSocket(SchemaExtension):
    """A subscription sent over HTTP is refused with a clear error instead of being run as a
    query (its stream has nowhere to go)."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            isinstance(context, Context)
            and not isinstance(context.request, WebSocket)
            and execution.graphql_document is not None
            and execution.operation_type == OperationType.SUBSCRIPTION
        ):
            execution.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Subscriptions are served over WebSocket (graphql-transport-ws) at "
                        "/graphql, not over HTTP.",
                        extensions={"code": "BAD_REQUEST"},
                    )
                ],
            )
        yield


class SafeParserCache(ParserCache):
    """strawberry's ParserCache parses inside its hook, where a syntax error escapes strawberry's
    error handling on WebSocket operations (the client got a bare ``complete``). A document that
    does not parse is left to strawberry's own parser, which reports the error properly."""

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        try:
            execution.graphql_document = self.cached_parse_document(
                execution.query, **execution.parse_options
            )
        except GraphQLError:
            execution.graphql_document = None
        yield


class DatabaseUnavailable(SchemaExtension):
    """A resolver that could not reach the database failed for no fault of its own: its error
    says so (SERVICE_UNAVAILABLE, HTTP 503) instead of being masked as a bug."""

    def on_operation(self) -> Iterator[None]:
        yield
        _report_unavailable(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # WebSocket operations deliver their results through here.
        _report_unavailable(result)
        yield


def _report_unavailable(result: Any) -> None:
    if result is None or not getattr(result, "errors", None):
        return
    result.errors = [
        GraphQLError(
            DATABASE_UNAVAILABLE,
            path=error.path,
            nodes=error.nodes,
            extensions={"code": SERVICE_UNAVAILABLE},
        )
        if error.original_error is not None and database_unavailable(error.original_error)
        else error
        for error in result.errors
    ]
