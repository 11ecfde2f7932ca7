"""Waiting for a state (a readiness signal) instead of sleeping for a guessed time."""

from __future__ import annotations

import asyncio
import time


async def until(check, seconds: float, what: str, interval: float = 0.05) -> None:
    """Wait for ``check()`` (sync or async) to be true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"timed out after {seconds}s waiting for {what}"
        await asyncio.sleep(interval)
