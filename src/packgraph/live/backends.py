"""``Broadcast`` objects for a broadcast URL, with a fix for broadcaster 0.3.1's Redis backend.

broadcaster's ``RedisBackend.subscribe`` wakes its listener *before* the SUBSCRIBE has been
recorded by redis-py; the listener then sees no subscription, ``PubSub.listen()`` ends at once and
the listener goes back to sleep until the next subscribe: the first channel never receives a
message. Waking it after the subscription is recorded fixes that (the rest of the backend is
used as is). ``memory://`` and ``postgres://`` use broadcaster's backends unchanged.
"""

from __future__ import annotations

from urllib.parse import urlparse

from broadcaster import Broadcast
from broadcaster._backends.redis import RedisBackend


class ListeningRedisBackend(RedisBackend):
    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)
        self._ready.set()


def make_broadcast(url: str) -> Broadcast:
    if urlparse(url).scheme in ("redis", "rediss"):
        return Broadcast(backend=ListeningRedisBackend(url))
    return Broadcast(url)
