"""Schema extensions: authentication, per-operation loaders, document limits, error masking
(and the request guards of :mod:`packgraph.server.guards`).

Extensions are passed to the schema as classes (or factories), so each operation gets its own
instances; validation rule classes are built once per schema so the validation cache can key on
them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)

from packgraph import metrics
from packgraph.db import database_unavailable
from packgraph.domain import auth
from packgraph.resolvers.context import AuthenticationError, Context
from packgraph.resolvers.permissions import needs_authentication
from packgraph.server.guards import (
    DatabaseUnavailable,
    SafeParserCache,
    StorableText,
    SubscriptionsOverWebSocket,
)
from packgraph.settings import Settings


class Authentication(SchemaExtension):
    """Anonymous callers get one UNAUTHENTICATED error, and nothing runs, unless the operation
    only selects ``login`` or introspection fields."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            isinstance(context, Context)
            and context.actor is None
            and execution.graphql_document is not None
            and needs_authentication(execution.graphql_document, execution.operation_name)
        ):
            execution.result = GraphQLExecutionResult(
                data=None, errors=[AuthenticationError(context.authentication_message)]
            )
        yield


class OperationLoaders(SchemaExtension):
    """A WebSocket shares one context per connection; each operation gets fresh loaders, and
    the connection's token is checked again: a revoked key, a deactivated staff member or an
    expired session cannot go on using a socket opened before (nor an old role)."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and isinstance(context.request, WebSocket):
            operation = context.for_operation()
            if operation.actor is not None:
                token = (context.connection_params or {}).get("token")
                try:
                    actor = await auth.authenticate(token) if isinstance(token, str) else None
                except Exception as error:
                    # Unreachable, the database cannot be read by this operation either: it
                    # fails on its own with SERVICE_UNAVAILABLE.
                    if not database_unavailable(error):
                        raise
                    actor = operation.actor
                operation.authenticate_as(actor, problem="invalid")
            self.execution_context.context = operation
        yield


class OperationMetrics(SchemaExtension):
    """Counts operations by type and outcome for /metrics."""

    def on_operation(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        try:
            kind = execution.operation_type.value
        except Exception:  # an unparsable document has no operation type
            kind = "unknown"
        result = execution.result
        failed = result is None or bool(getattr(result, "errors", None))
        metrics.GRAPHQL_OPERATIONS.inc(type=kind, outcome="error" if failed else "ok")


def should_mask(error: GraphQLError) -> bool:
    """Mask what a resolver raised by accident. Errors raised on purpose are GraphQLErrors;
    parse, validation and variable errors carry no path and explain the caller's mistake."""
    original = error.original_error
    return (
        error.path is not None
        and original is not None
        and not isinstance(original, GraphQLError)
        and not database_unavailable(original)  # reported as SERVICE_UNAVAILABLE instead
    )


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension] | type]:
    depth_rule = query_depth_limiter.create_validator(settings.max_query_depth, None)
    alias_rule = max_aliases.create_validator(settings.max_aliases)

    class QueryShapeLimits(AddValidationRules):
        """Bounded depth and alias count, checked while validating (and so cached with it)."""

        def __init__(self) -> None:
            super().__init__([depth_rule, alias_rule])

    class DocumentSizeLimit(SchemaExtension):
        """The parser gives up after ``max_query_tokens`` tokens (comments counted apart)."""

        def on_operation(self) -> Iterator[None]:
            options = self.execution_context.parse_options
            options["max_lexical_tokens"] = settings.max_query_tokens
            options["max_comments"] = settings.max_query_tokens
            yield

    return [
        OperationMetrics,
        OperationLoaders,
        DocumentSizeLimit,
        QueryShapeLimits,
        SafeParserCache,
        ValidationCache,
        Authentication,
        SubscriptionsOverWebSocket,
        StorableText,
        lambda: MaskErrors(should_mask_error=should_mask, error_message="Unexpected error."),
        DatabaseUnavailable,
    ]
