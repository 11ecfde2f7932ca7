"""The event hub: one per server process, between the outbox and the process's subscribers.

- After a transaction that wrote events commits, ``write_transaction`` calls :meth:`Hub.notify`,
  which the app hands to the domain for each request, WebSocket and background job it runs
  (:func:`packgraph.domain.events.notifying`): it wakes the business's local feed at once and
  publishes a wake-up on the business channel for every other process
  (:mod:`packgraph.live.broker`).
- A :class:`~packgraph.live.feed.BusinessFeed` per business with local subscribers reads each new
  outbox row once and fans it out (:mod:`packgraph.live.feed`).
- The outbox is the truth and the broker only a hint, so the hub also polls: every
  ``live_poll_ms`` while the broker is down, every ``live_safety_poll_ms`` while it is up (one
  small query over the businesses with local subscribers).
- Every ``live_auth_check_ms`` the tokens behind open subscriptions are checked again: a revoked
  API key or a deactivated staff member loses its subscriptions.

The contract used by the app: ``Hub(settings)``, ``await start()``, ``await stop()``, ``notify``,
``ready`` and ``broker_state``. The API layer calls :meth:`Hub.stream`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from packgraph import metrics
from packgraph.domain import auth
from packgraph.domain.actor import Actor
from packgraph.live.broker import CONNECTED, BrokerSupervisor
from packgraph.live.feed import BusinessFeed, HubStopped, Subscription
from packgraph.live.outbox import EventFilter, LiveEvent, committed_positions
from packgraph.settings import Settings

log = logging.getLogger("packgraph.live")

# A feed whose last subscriber left is kept this long: a dashboard that reloads, or a burst of
# reconnects after a network blip, finds its recent events in memory.
IDLE_FEED_SECONDS = 30.0

Authenticator = Callable[[str], Awaitable[Actor | None]]

SUBSCRIPTIONS = metrics.gauge(
    "packgraph_live_subscriptions",
    "Open packEvents subscriptions on this process.",
)
FEEDS = metrics.gauge(
    "packgraph_live_feeds",
    "Businesses this process listens to (one broker channel each).",
)
BUFFERED = metrics.gauge(
    "packgraph_live_buffered_events",
    "Events waiting in subscription buffers on this process (each bounded by "
    "PACKGRAPH_LIVE_BUFFER_SIZE).",
)
BUFFER_DEPTH_MAX = metrics.gauge(
    "packgraph_live_buffer_depth_max",
    "The fullest subscription buffer on this process, in events.",
)
CATCHING_UP = metrics.gauge(
    "packgraph_live_subscriptions_catching_up",
    "Subscriptions reading from the outbox because their buffer filled (or resuming).",
)
OUTBOX_POLLS = metrics.counter(
    "packgraph_live_outbox_polls_total",
    "Outbox polls by this process's hub, by broker state at the time.",
    ("broker",),
)


async def _authenticate(token: str) -> Actor | None:
    return await auth.authenticate(token)


class Hub:
    """One per server process. ``start``/``stop`` are called by the app's lifespan."""

    def __init__(self, settings: Settings, *, authenticator: Authenticator = _authenticate):
        self.settings = settings
        self._authenticate = authenticator
        self._feeds: dict[int, BusinessFeed] = {}
        self._idle_since: dict[int, float] = {}
        self._broker = BrokerSupervisor(
            settings.broadcast_url,
            ping_interval=settings.broker_ping_ms / 1000,
            on_wake=self._wake,
            on_state=self._on_broker_state,
        )
        self._poll_now = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        SUBSCRIPTIONS.function = self.subscription_count
        FEEDS.function = lambda: len(self._feeds)
        BUFFERED.function = lambda: sum(self._buffer_depths())
        BUFFER_DEPTH_MAX.function = lambda: max(self._buffer_depths(), default=0)
        CATCHING_UP.function = lambda: sum(
            subscription.catching_up for subscription in self._subscriptions()
        )

    # -- the app's contract ------------------------------------------------------------------

    @property
    def broker_state(self) -> str:
        """``connected``, ``connecting``, ``reconnecting`` (polling the outbox) or ``stopped``."""
        return self._broker.state

    @property
    def ready(self) -> bool:
        return self._running and self._broker.state == CONNECTED

    async def start(self) -> None:
        self._running = True
        await self._broker.start()
        self._tasks = [
            asyncio.create_task(self._poll_outbox(), name="packgraph-outbox-poll"),
            asyncio.create_task(self._check_credentials(), name="packgraph-credential-check"),
        ]

    async def stop(self) -> None:
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            await feed.close()
        await self._broker.stop()

    # -- subscribing -------------------------------------------------------------------------

    async def stream(
        self,
        *,
        business_id: int,
        after: int | None = None,
        event_filter: EventFilter | None = None,
        credential: str | None = None,
    ) -> AsyncIterator[LiveEvent]:
        """The business's events after ``after`` (or from now on), live, in ``seq`` order.

        Raises a :class:`~packgraph.live.feed.SubscriptionEnded` subclass when the hub ends the
        stream (too slow, credentials revoked, shutdown); ``last_seq`` says where to resume.
        ``credential`` is the token re-checked periodically.
        """
        if not self._running:
            raise HubStopped(after or 0)
        feed = await self._feed(business_id)
        events = feed.stream(
            after=after, event_filter=event_filter or EventFilter(), credential=credential
        )
        async with contextlib.aclosing(events):
            async for event in events:
                yield event

    def subscription_count(self) -> int:
        return sum(len(feed.subscriptions) for feed in self._feeds.values())

    def _subscriptions(self) -> list[Subscription]:
        return [sub for feed in list(self._feeds.values()) for sub in list(feed.subscriptions)]

    def _buffer_depths(self) -> list[int]:
        return [len(subscription.queue) for subscription in self._subscriptions()]

    async def _feed(self, business_id: int) -> BusinessFeed:
        feed = self._feeds.get(business_id)
        if feed is None:
            feed = BusinessFeed(
                business_id,
                buffer_size=self.settings.live_buffer_size,
                max_lag=self.settings.live_max_lag_ms / 1000,
                on_idle=self._on_feed_idle,
            )
            self._feeds[business_id] = feed
            feed.start()
            self._broker.want(business_id)
        self._idle_since.pop(business_id, None)
        try:
            await feed.ready()
        except Exception:
            # The database did not answer: forget the feed so the next subscriber tries again.
            if self._feeds.get(business_id) is feed:
                await self._close_feed(business_id)
            raise
        return feed

    def _on_feed_idle(self, business_id: int) -> None:
        self._idle_since[business_id] = asyncio.get_running_loop().time()

    async def _close_feed(self, business_id: int) -> None:
        feed = self._feeds.pop(business_id, None)
        self._idle_since.pop(business_id, None)
        self._broker.unwant(business_id)
        if feed is not None:
            await feed.close()

    async def _close_idle_feeds(self) -> None:
        now = asyncio.get_running_loop().time()
        for business_id, since in list(self._idle_since.items()):
            feed = self._feeds.get(business_id)
            if feed is not None and feed.subscriptions:
                self._idle_since.pop(business_id, None)
            elif now - since >= IDLE_FEED_SECONDS:
                await self._close_feed(business_id)

    # -- wake-ups ----------------------------------------------------------------------------

    async def notify(self, business_id: int) -> None:
        """After commit (in the writer's request): wake the local feed, tell the other processes."""
        self._wake(business_id)
        self._broker.publish(business_id)

    def _wake(self, business_id: int) -> None:
        feed = self._feeds.get(business_id)
        if feed is not None:
            feed.wake()

    def _on_broker_state(self, state: str) -> None:
        metrics.BROKER_CONNECTED.set(1 if state == CONNECTED else 0)
        # Poll at once on every change: when the broker went away, wake-ups may have been lost;
        # when it came back, the channels are being subscribed again and the poll interval
        # changes.
        self._poll_now.set()

    async def _poll_outbox(self) -> None:
        while True:
            connected = self._broker.state == CONNECTED
            interval = (
                self.settings.live_safety_poll_ms if connected else self.settings.live_poll_ms
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_now.wait(), interval / 1000)
            self._poll_now.clear()
            try:
                await self.poll_once()
                await self._close_idle_feeds()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database may be down too; try again later
                log.warning("outbox poll failed", exc_info=True)

    async def poll_once(self) -> None:
        """Wake every feed whose business has committed events it has not read yet."""
        if not self._feeds:
            return
        OUTBOX_POLLS.inc(broker=self._broker.state)
        positions = await committed_positions(self._feeds)
        for business_id, committed in positions.items():
            feed = self._feeds.get(business_id)
            if feed is not None and committed > feed.position:
                feed.wake()

    # -- credentials -------------------------------------------------------------------------

    async def _check_credentials(self) -> None:
        while True:
            await asyncio.sleep(self.settings.live_auth_check_ms / 1000)
            try:
                await self.check_credentials_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.warning("re-checking subscription credentials failed", exc_info=True)

    async def check_credentials_once(self) -> int:
        """End the subscriptions whose token no longer authenticates; how many were ended."""
        by_business: dict[str, int] = {}
        for business_id, feed in list(self._feeds.items()):
            for subscription in list(feed.subscriptions):
                if subscription.credential is not None:
                    by_business[subscription.credential] = business_id
        ended = 0
        for credential, business_id in by_business.items():
            actor = await self._authenticate(credential)
            if actor is not None and actor.business_id == business_id:
                continue
            for feed in list(self._feeds.values()):
                ended += feed.end_credential(credential)
        if ended:
            log.info("ended %d subscription(s) whose credentials were revoked", ended)
        return ended
