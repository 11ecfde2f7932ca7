"""The executor every operation runs on: graphql-core's, sharing a subscription event's result.

Subscribers that sent the same document (with the same event-shaping variables, under the same
role) get the same result for an event: it is executed once per process, not once per subscriber.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    visit,
)
from graphql.pyutils import RefMap
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from packgraph import metrics
from packgraph.schema.events import PackEvent

EVENT_EXECUTIONS = metrics.counter(
    "packgraph_live_event_executions_total",
    "Subscription events executed: one per event and group of subscribers sharing a result "
    "(same document, event-shaping variables and role), whatever the subscriber count.",
)


class _VariableNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.add(node.name.value)


def event_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> frozenset[str] | None:
    """The variables that can change how one event of a subscription executes.

    The arguments of the root field (``after``, ``packId``, ``types``) choose *which* events a
    subscriber receives, not what an event resolves to: two dashboards that resumed from
    different cursors share every later event's result. Variables used anywhere else (field
    arguments, directives, fragments) count. None when the root selection is not plain fields:
    then every variable counts.
    """
    collector = _VariableNames()
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        for directive in selection.directives or ():
            visit(directive, collector)
        if selection.selection_set is not None:
            visit(selection.selection_set, collector)
    for fragment in fragments.values():
        visit(fragment, collector)
    return frozenset(collector.names)


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, sharing a subscription event's result between subscribers.

    Every ``packEvents`` subscriber of a process receives the same :class:`PackEvent` object for
    an event. Subscribers that sent the same document with the same variables (but for those
    that only choose the events, :func:`event_variables`), under the same role, get the same
    result: it is executed once per process (by whichever subscriber comes first) instead of
    once per subscriber. This holds because nothing reachable from a PackEvent depends on the
    viewer beyond their business (the event's) and role. Every other operation executes as
    usual.
    """

    _share_key: Any = None

    def build_per_event_executor(self, payload: Any) -> Any:
        if self._share_key is None and self.operation.operation is OperationType.SUBSCRIPTION:
            self._share_key = self._result_key()
        executor = super().build_per_event_executor(payload)
        # graphql-core 3.3.2 copies the subscription's executor for each event and shares its
        # memo of collected subfields with the copy. The memo is keyed by the identity of field
        # lists that each execution builds anew, so it never hits across events and only grows:
        # ~20 entries per event and execution group, held until the subscription ends (issue
        # 24: +17 MiB per 100 s on a busy server). Each event gets a memo of its own, released
        # with the event's executor once the result is delivered.
        executor._relevant_sub_fields = {}
        executor._stream_usages = RefMap()
        return executor

    def _result_key(self) -> Any:
        location = self.operation.loc
        if location is None:
            return False  # no source text to compare: never shared
        actor = getattr(self.context_value, "actor", None)
        coerced = self.variable_values.coerced
        used = event_variables(self.operation, self.fragment_definitions)
        if used is not None:
            coerced = {name: value for name, value in coerced.items() if name in used}
        variables = json.dumps(coerced, sort_keys=True, default=str)
        return (
            location.source.body,
            self.operation.name.value if self.operation.name else None,
            variables,
            actor.role if actor is not None else None,
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        root = self.root_value
        if not self._share_key or not isinstance(root, PackEvent):
            return super().execute_operation(serially)
        results = root.live.shared.setdefault("results", {})
        shared = results.get(self._share_key)
        if shared is None:
            EVENT_EXECUTIONS.inc()
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                results[self._share_key] = _done(result)
                return result
            # A task of its own: a subscriber that disconnects mid-execution does not cancel
            # the result the others are waiting for.
            shared = asyncio.ensure_future(result)
            results[self._share_key] = shared
        return _wait(shared)


def _done(result: Any) -> asyncio.Future[Any]:
    future = asyncio.get_running_loop().create_future()
    future.set_result(result)
    return future


async def _wait(shared: asyncio.Future[Any]) -> Any:
    return await asyncio.shield(shared)
