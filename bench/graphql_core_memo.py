"""Issue 24's cause in graphql-core alone, small enough to report upstream.

graphql-core 3.3.2 executes each event of a subscription on a shallow copy of the
subscription's executor (``Executor.build_per_event_executor``). The copy shares
``_relevant_sub_fields``, the memo of ``collect_subfields``, which is keyed by the identity of a
field-details list that every execution builds anew. It never hits across events, and every
event adds entries that stay until the subscription ends: memory grows with the number of
events delivered, for as long as the subscription stays open.

    python -m bench.graphql_core_memo

prints the memo's size and the collected-field records alive after 10, 100 and 1,000 events of
one open subscription; with 3.3.2 both grow linearly (3 memo entries per event here). Nothing of
packgraph is imported. ``tests/live/test_memory.py`` runs it against the pinned graphql-core, so
an upgrade that fixes it upstream says so (and packgraph's workaround in
``server/execution.py`` can go).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
from collections.abc import AsyncIterator
from typing import Any

import graphql
from graphql import build_schema, parse, subscribe
from graphql.execution.collect_fields import CollectedFields, FieldDetails
from graphql.execution.execute import ExecutorThrowingOnIncremental
from graphql.execution.executor import Executor

SCHEMA = build_schema(
    """
    type Query { ok: Boolean }
    type Subscription { ticks: Tick }
    type Tick { n: Int, child: Child }
    type Child { n: Int, grandchild: Child }
    """
)
DOCUMENT = parse("subscription { ticks { n child { n grandchild { n } } } }")


class _Observed(ExecutorThrowingOnIncremental):
    """graphql-core's executor, unchanged, remembering the subscription's executor."""

    subscription: Executor | None = None

    def build_per_event_executor(self, payload: Any) -> Executor:
        _Observed.subscription = self
        return super().build_per_event_executor(payload)


async def _ticks(_root: Any, _info: Any) -> AsyncIterator[dict[str, Any]]:
    n = 0
    while True:
        n += 1
        child = {"n": n, "grandchild": {"n": n}}
        yield {"ticks": {"n": n, "child": child}}


def _records() -> int:
    gc.collect()
    return sum(isinstance(obj, FieldDetails | CollectedFields) for obj in gc.get_objects())


async def memo_sizes(checkpoints: tuple[int, ...] = (10, 100, 1000)) -> list[tuple[int, int, int]]:
    """(events delivered, memo entries, collected-field records alive) at each checkpoint,
    all while one subscription stays open."""
    SCHEMA.subscription_type.fields["ticks"].subscribe = _ticks  # type: ignore[union-attr]
    stream = subscribe(SCHEMA, DOCUMENT, executor_class=_Observed)
    if inspect.isawaitable(stream):
        stream = await stream
    assert not isinstance(stream, graphql.ExecutionResult), stream.errors
    sizes = []
    delivered = 0
    try:
        async for result in stream:
            assert result.errors is None, result.errors
            delivered += 1
            if delivered in checkpoints:
                memo = _Observed.subscription._relevant_sub_fields  # type: ignore[union-attr]
                sizes.append((delivered, len(memo), _records()))
            if delivered == max(checkpoints):
                break
    finally:
        await stream.aclose()
    return sizes


def main() -> None:
    print(f"graphql-core {graphql.__version__}")
    print("events  memo entries  FieldDetails+CollectedFields alive")
    for delivered, entries, records in asyncio.run(memo_sizes()):
        print(f"{delivered:>6}  {entries:>12}  {records:>10}")


if __name__ == "__main__":
    main()
