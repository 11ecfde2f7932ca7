"""Schema extensions: authentication, per-operation loaders, document limits, error masking.

Extensions are passed to the schema as classes (or factories), so each operation gets its own
instances; validation rule classes are built once per schema so the validation cache can key on
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    ParserCache,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)

from packgraph import metrics
from packgraph.resolvers.context import AuthenticationError, Context
from packgraph.resolvers.permissions import needs_authentication
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
    """A WebSocket shares one context per connection; each operation gets fresh loaders."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and isinstance(context.request, WebSocket):
            self.execution_context.context = context.for_operation()
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
        error.path is not None and original is not None and not isinstance(original, GraphQLError)
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
        ParserCache,
        ValidationCache,
        Authentication,
        lambda: MaskErrors(should_mask_error=should_mask, error_message="Unexpected error."),
    ]
