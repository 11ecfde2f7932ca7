"""Imported into a soak's server (``--server-patch``) to put issue 24's leak back.

Every event's executor shares the subscription's memo of collected subfields again, as
graphql-core 3.3.2 does unpatched: ~22 records per event and execution group that live until
the subscription ends. The soak test proves the soak fails on it.
"""

from __future__ import annotations

from typing import Any

from packgraph.server.execution import SharedEventExecutionContext

_fixed = SharedEventExecutionContext.build_per_event_executor


def _leaky(self: SharedEventExecutionContext, payload: Any) -> Any:
    executor = _fixed(self, payload)
    executor._relevant_sub_fields = self._relevant_sub_fields
    executor._stream_usages = self._stream_usages
    return executor


SharedEventExecutionContext.build_per_event_executor = _leaky  # type: ignore[method-assign]
