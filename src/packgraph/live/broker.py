"""The broadcast broker under supervision: wake-ups between server processes that never hang.

broadcaster (0.3.1) gives one connection to Redis or PostgreSQL (or an in-process queue) and
per-channel subscriptions, but it does not reconnect: when the server drops, its listener dies
silently and subscribers wait forever. :class:`BrokerSupervisor` owns one ``Broadcast`` at a
time and replaces it when it stops working:

- it checks the round trip every ``ping_interval`` by publishing a ping on a channel of its own
  and waiting for it to come back, and treats a failed publish or subscribe the same way;
- it reconnects with exponential backoff (with jitter, so processes do not stampede);
- it subscribes one channel per business that has local subscribers (not one per WebSocket);
- wake-ups published while the broker is down are kept and sent after the reconnect.

The messages are only hints: the hub reads the outbox after every wake-up and also polls it
(fast while the broker is down), so a lost message delays events but never loses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable
from typing import Any

from broadcaster import Broadcast

from packgraph import metrics
from packgraph.live.backends import make_broadcast

log = logging.getLogger("packgraph.live.broker")

CONNECTED = "connected"
CONNECTING = "connecting"
RECONNECTING = "reconnecting"
STOPPED = "stopped"

CONNECT_TIMEOUT = 5.0
OPERATION_TIMEOUT = 2.0
BACKOFF_INITIAL = 0.2
BACKOFF_MAX = 5.0
PING_RESEND = 0.5

RECONNECTS = metrics.counter(
    "packgraph_broker_reconnects_total",
    "Times this process lost the broadcast broker and started reconnecting.",
)
PUBLISH_FAILURES = metrics.counter(
    "packgraph_broker_publish_failures_total",
    "Wake-ups that could not be published (they are retried after the reconnect).",
)


class BrokerUnhealthy(Exception):
    """The broker stopped answering: publish failed, a subscription failed or a ping was lost."""


def channel_name(business_id: int) -> str:
    # Letters, digits and underscores only: PostgreSQL LISTEN channels are identifiers.
    return f"packgraph_events_{business_id}"


def business_of(channel: str) -> int | None:
    prefix = "packgraph_events_"
    if channel.startswith(prefix) and channel[len(prefix) :].isdigit():
        return int(channel[len(prefix) :])
    return None


class _Session:
    """One ``Broadcast`` connection and the lock its operations take turns with.

    asyncpg (postgres://) runs one statement at a time per connection, so every operation on the
    shared connection (publish, LISTEN, UNLISTEN) goes through the lock. A new connection gets a
    new lock: leftovers of a dead one never hold up its replacement.
    """

    def __init__(self, broadcast: Broadcast) -> None:
        self.broadcast = broadcast
        self.lock = asyncio.Lock()
        self.closed = False

    async def run(self, coroutine_factory: Callable[[], Any]) -> Any:
        async with self.lock:
            return await asyncio.wait_for(coroutine_factory(), OPERATION_TIMEOUT)

    async def leave(self, context: Any) -> None:
        """Leave a ``Broadcast.subscribe`` context. On a connection being thrown away this is
        only bookkeeping: it is not waited for, and its failure does not matter."""
        with contextlib.suppress(Exception, asyncio.CancelledError):
            if self.closed:
                await asyncio.wait_for(context.__aexit__(None, None, None), 0.5)
            else:
                await self.run(lambda: context.__aexit__(None, None, None))


class BrokerSupervisor:
    """Keeps a working ``Broadcast`` connection and the business channels this process wants."""

    def __init__(
        self,
        url: str,
        *,
        ping_interval: float,
        on_wake: Callable[[int], None],
        on_state: Callable[[str], None],
    ) -> None:
        self.url = url
        self.ping_interval = ping_interval
        self.state = CONNECTING
        self._on_wake = on_wake
        self._on_state = on_state
        self._wanted: set[int] = set()
        self._channel_tasks: dict[int, asyncio.Task[None]] = {}
        # Channels subscribed since the last ping: woken once more when the next ping proves the
        # broker has registered them (a wake-up published just before that may have been missed).
        self._fresh_channels: set[int] = set()
        self._session: _Session | None = None
        self._pending_wakeups: set[int] = set()
        self._wakeups_ready = asyncio.Event()
        self._unhealthy = asyncio.Event()
        self._health_channel = f"packgraph_hub_{uuid.uuid4().hex[:16]}"
        self._pings: dict[str, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, wait: float = 3.0) -> None:
        """Start supervising; wait up to ``wait`` seconds for the first connection."""
        self._task = asyncio.create_task(self._supervise(), name="packgraph-broker")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._set_state(STOPPED)

    # -- what the hub asks for ---------------------------------------------------------------

    def want(self, business_id: int) -> None:
        """Listen to ``business_id``'s channel (from now on and after every reconnect)."""
        self._wanted.add(business_id)
        if self._session is not None and self.state == CONNECTED:
            self._start_channel(self._session, business_id)

    def unwant(self, business_id: int) -> None:
        self._wanted.discard(business_id)
        task = self._channel_tasks.pop(business_id, None)
        if task is not None:
            task.cancel()

    def publish(self, business_id: int) -> None:
        """Queue a wake-up for every process listening to ``business_id``. Never blocks."""
        self._pending_wakeups.add(business_id)
        self._wakeups_ready.set()

    # -- supervision -------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        previous, self.state = self.state, state
        if state == RECONNECTING and previous == CONNECTED:
            RECONNECTS.inc()
            log.warning("broadcast broker lost; polling the outbox until it is back")
        elif state == CONNECTED and previous == RECONNECTING:
            log.info("broadcast broker reconnected")
        self._on_state(state)

    async def _supervise(self) -> None:
        delay = BACKOFF_INITIAL
        while True:
            session = _Session(make_broadcast(self.url))
            try:
                await asyncio.wait_for(session.broadcast.connect(), CONNECT_TIMEOUT)
                self._session = session
                await self._serve(session)
            except asyncio.CancelledError:
                await self._teardown(session)
                raise
            except Exception as error:  # noqa: BLE001 - any failure means: reconnect
                log.debug("broadcast broker unavailable: %r", error)
            if self.state == CONNECTED:
                delay = BACKOFF_INITIAL
            await self._teardown(session)
            self._set_state(RECONNECTING)
            self._first_attempt.set()
            await asyncio.sleep(delay * random.uniform(0.75, 1.25))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _serve(self, session: _Session) -> None:
        """Run one connection until it fails (always by raising)."""
        self._unhealthy.clear()
        health = await self._subscribe_health(session)
        publisher = asyncio.create_task(self._publish_wakeups(session))
        try:
            await self._ping(session, within=CONNECT_TIMEOUT)
            self._set_state(CONNECTED)
            self._first_attempt.set()
            for business_id in list(self._wanted):
                self._start_channel(session, business_id)
            while True:
                unhealthy = asyncio.create_task(self._unhealthy.wait())
                try:
                    await asyncio.wait(
                        [unhealthy, health],
                        timeout=self.ping_interval,
                        return_when="FIRST_COMPLETED",
                    )
                finally:
                    unhealthy.cancel()
                if self._unhealthy.is_set() or health.done():
                    raise BrokerUnhealthy("a broker operation failed")
                fresh, self._fresh_channels = self._fresh_channels, set()
                await self._ping(session, within=max(self.ping_interval, OPERATION_TIMEOUT))
                for business_id in fresh:
                    self._on_wake(business_id)
        finally:
            session.closed = True
            for task in [health, publisher, *self._channel_tasks.values()]:
                task.cancel()
            self._channel_tasks.clear()
            self._fresh_channels.clear()
            for future in self._pings.values():
                future.cancel()
            self._pings.clear()

    async def _teardown(self, session: _Session) -> None:
        # broadcaster's own disconnect() re-raises a dead listener's error before closing the
        # backend, and fails when connect() never finished: close both parts ourselves.
        session.closed = True
        if self._session is session:
            self._session = None
        broadcast: Any = session.broadcast
        listener = getattr(broadcast, "_listener_task", None)
        if listener is not None and not listener.done():
            listener.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(broadcast._backend.disconnect(), OPERATION_TIMEOUT)

    # -- the round trip ----------------------------------------------------------------------

    async def _subscribe_health(self, session: _Session) -> asyncio.Task[None]:
        """Subscribe to this process's ping channel; the task answers pings until cancelled."""
        context = session.broadcast.subscribe(self._health_channel)
        subscriber = await session.run(context.__aenter__)

        async def answer_pings() -> None:
            try:
                async for event in subscriber:
                    future = self._pings.pop(event.message, None)
                    if future is not None and not future.done():
                        future.set_result(None)
            finally:
                await session.leave(context)

        return asyncio.create_task(answer_pings())

    async def _ping(self, session: _Session, *, within: float) -> None:
        """Publish a ping on our own channel and wait for it to come back through the broker.

        The ping is re-sent every ``PING_RESEND`` seconds: right after a (re)subscription the
        broker may not have registered the subscription yet, and that is not a failure.
        """
        loop = asyncio.get_running_loop()
        nonce = uuid.uuid4().hex
        future = loop.create_future()
        self._pings[nonce] = future
        deadline = loop.time() + within
        try:
            while True:
                await session.run(lambda: session.broadcast.publish(self._health_channel, nonce))
                remaining = deadline - loop.time()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(future), min(PING_RESEND, remaining))
                if future.done() or remaining <= PING_RESEND:
                    break
            if not future.done():
                raise BrokerUnhealthy("ping not answered")
        except (asyncio.CancelledError, BrokerUnhealthy):
            raise
        except Exception as error:  # noqa: BLE001
            raise BrokerUnhealthy(f"ping failed: {error!r}") from None
        finally:
            self._pings.pop(nonce, None)
            if not future.done():
                future.cancel()

    # -- business channels -------------------------------------------------------------------

    def _start_channel(self, session: _Session, business_id: int) -> None:
        task = self._channel_tasks.get(business_id)
        if task is not None and not task.done():
            return
        self._channel_tasks[business_id] = asyncio.create_task(
            self._listen_channel(session, business_id), name=f"packgraph-channel-{business_id}"
        )

    async def _listen_channel(self, session: _Session, business_id: int) -> None:
        context = session.broadcast.subscribe(channel_name(business_id))
        try:
            subscriber = await session.run(context.__aenter__)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            self._unhealthy.set()
            return
        try:
            # Wake-ups published before the subscription took effect were missed: read now, and
            # once more after the next ping (see ``_fresh_channels``).
            self._fresh_channels.add(business_id)
            self._on_wake(business_id)
            async for event in subscriber:
                found = business_of(event.channel)
                if found is not None:
                    self._on_wake(found)
        finally:
            await session.leave(context)

    async def _publish_wakeups(self, session: _Session) -> None:
        while True:
            await self._wakeups_ready.wait()
            self._wakeups_ready.clear()
            while self._pending_wakeups:
                business_id = self._pending_wakeups.pop()
                try:
                    await session.run(
                        lambda bid=business_id: session.broadcast.publish(
                            channel_name(bid), str(bid)
                        )
                    )
                except asyncio.CancelledError:
                    self._pending_wakeups.add(business_id)
                    raise
                except Exception:  # noqa: BLE001
                    PUBLISH_FAILURES.inc()
                    self._pending_wakeups.add(business_id)
                    self._unhealthy.set()
                    return
