"""Minimal hub: installs the after-commit notifier. The live events work replaces this."""

from __future__ import annotations

from packgraph.domain import events
from packgraph.settings import Settings


class Hub:
    """One per server process. ``start``/``stop`` are called by the app's lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker_state = "disconnected"

    async def start(self) -> None:
        events.set_notifier(self._notify)
        self.broker_state = "connected"

    async def stop(self) -> None:
        events.set_notifier(None)
        self.broker_state = "disconnected"

    @property
    def ready(self) -> bool:
        return self.broker_state == "connected"

    async def _notify(self, business_id: int) -> None:
        return None
