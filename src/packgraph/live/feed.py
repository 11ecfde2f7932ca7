"""One business's live stream inside one server process, and the subscriptions reading it.

A :class:`BusinessFeed` exists while the process has subscribers of that business. Woken by the
broker (or by the poll), it reads the outbox rows after its ``position`` in ``seq`` order, builds
each :class:`~packgraph.live.outbox.LiveEvent` once and offers the same object to every
:class:`Subscription`. Offering is synchronous and never waits for a subscriber.

Each subscription buffers at most ``buffer_size`` events. One whose buffer fills (a burst, or a
slow reader) drops the buffer and *catches up* from the feed's recent events or the outbox, the
same way a new subscription replays after its cursor: memory stays bounded and a burst costs
nobody anything. A subscription still catching up after ``max_lag`` seconds is ended with
:class:`SubscriberTooSlow`, carrying the cursor to resume from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

from packgraph import metrics
from packgraph.live.outbox import PAGE_SIZE, EventFilter, LiveEvent, last_seq, read_events

log = logging.getLogger("packgraph.live")

# Recent events kept per feed, so subscribers resuming shortly after a drop (a dashboard that
# reconnects, a burst of integrations after a deploy) replay from memory, not the database.
RECENT_EVENTS = 256
# Events whose per-process memo (GraphQL object, loaders with their rows) is kept; older ones
# drop it, and a subscriber that far behind rebuilds it (correct, just not shared).
SHARED_EVENTS = 16

EVENTS_READ = metrics.counter(
    "packgraph_live_events_read_total",
    "Outbox events read by this process's hub (each once, whatever the subscriber count).",
)
SUBSCRIBERS_CUT_OFF = metrics.counter(
    "packgraph_live_subscribers_cut_off_total",
    "Subscriptions ended by the hub, by reason (too_slow/revoked/shutdown).",
    ("reason",),
)
CATCH_UPS = metrics.counter(
    "packgraph_live_catch_ups_total",
    "Times a subscription's buffer filled and it caught up from the outbox instead.",
)


class SubscriptionEnded(Exception):
    """The hub ended a subscription; ``last_seq`` is where the subscriber can resume."""

    reason = "ended"

    def __init__(self, last_seq: int) -> None:
        super().__init__(self.reason)
        self.last_seq = last_seq


class SubscriberTooSlow(SubscriptionEnded):
    """The subscriber stayed behind too long: it must resume from its last cursor."""

    reason = "too_slow"


class CredentialsRevoked(SubscriptionEnded):
    """The token behind the subscription was revoked, expired or its staff deactivated."""

    reason = "revoked"


class HubStopped(SubscriptionEnded):
    """The server is shutting down."""

    reason = "shutdown"


class Subscription:
    """One subscriber's bounded buffer and its place in the stream.

    While ``catching_up`` the subscriber reads from the outbox (or the feed's recent events) up to
    the feed's position; offers still go to the buffer, and a full buffer is simply emptied,
    because the catch-up reads those events anyway.
    """

    __slots__ = (
        "behind_since",
        "catching_up",
        "credential",
        "ended",
        "event_filter",
        "last_seq",
        "limit",
        "queue",
        "waiter",
    )

    def __init__(self, *, event_filter: EventFilter, limit: int, credential: str | None) -> None:
        self.event_filter = event_filter
        self.limit = limit
        self.credential = credential
        self.queue: deque[LiveEvent] = deque()
        self.last_seq = 0
        self.catching_up = False
        self.behind_since: float | None = None
        self.ended: type[SubscriptionEnded] | None = None
        self.waiter: asyncio.Future[None] | None = None

    def offer(self, event: LiveEvent, now: float) -> None:
        if self.ended is not None or not self.event_filter.matches(event):
            return
        if len(self.queue) >= self.limit:
            self.queue.clear()
            if not self.catching_up:
                CATCH_UPS.inc()
                self.catching_up = True
                self.behind_since = now
        self.queue.append(event)
        self._wake()

    def end(self, reason: type[SubscriptionEnded]) -> None:
        if self.ended is None:
            self.ended = reason
            self.queue.clear()
            SUBSCRIBERS_CUT_OFF.inc(reason=reason.reason)
        self._wake()

    def raise_if_ended(self) -> None:
        # Built when raised, so the cursor it carries is the last event the subscriber was given.
        if self.ended is not None:
            raise self.ended(self.last_seq)

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_buffered(self) -> LiveEvent | None:
        """The next buffered event, or None when the subscription must catch up first."""
        while True:
            self.raise_if_ended()
            if self.catching_up:
                return None
            if self.queue:
                return self.queue.popleft()
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None


class BusinessFeed:
    """The events of one business in this process: read once, offered to every subscription."""

    def __init__(
        self,
        business_id: int,
        *,
        buffer_size: int,
        max_lag: float,
        on_idle: Callable[[int], None],
    ) -> None:
        self.business_id = business_id
        self.buffer_size = buffer_size
        self.max_lag = max_lag
        self.position = 0
        self.subscriptions: set[Subscription] = set()
        self.recent: deque[LiveEvent] = deque(maxlen=RECENT_EVENTS)
        self._on_idle = on_idle
        self._wake = asyncio.Event()
        self._started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._start_error: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"packgraph-feed-{self.business_id}")

    async def ready(self) -> None:
        await self._started.wait()
        if self._start_error is not None:
            raise self._start_error

    async def close(self) -> None:
        for subscription in list(self.subscriptions):
            subscription.end(HubStopped)
        self.subscriptions.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except BaseException:  # noqa: BLE001 - a cancelled or failed reader is done either way
                pass

    def wake(self) -> None:
        """Read the outbox soon. Wake-ups while a read runs coalesce into one more read."""
        self._wake.set()

    async def _run(self) -> None:
        try:
            self.position = await last_seq(self.business_id)
        except Exception as error:
            self._start_error = error
            self._started.set()
            self._on_idle(self.business_id)
            raise
        self._started.set()
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._read_new()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database is unreachable or a row is unreadable: retry with a growing pause.
                # Nothing is lost: the position only moves past an event once it was offered.
                failures += 1
                log.exception("live feed %s: reading the outbox failed", self.business_id)
                await asyncio.sleep(min(0.1 * 2**failures, 5.0))
                self._wake.set()

    async def _read_new(self) -> None:
        while True:
            events = await read_events(self.business_id, after=self.position, limit=PAGE_SIZE)
            for event in events:
                self._publish(event)
            self._cut_off_laggards()
            if len(events) < PAGE_SIZE:
                return
            # Let subscribers run between pages of a large burst.
            await asyncio.sleep(0)

    def _publish(self, event: LiveEvent) -> None:
        # Synchronous on purpose: a subscription registering between two awaits sees a position
        # that every earlier event has already been offered up to, and none of the later ones.
        if event.seq <= self.position:
            return
        EVENTS_READ.inc()
        self.position = event.seq
        self.recent.append(event)
        if len(self.recent) > SHARED_EVENTS:
            self.recent[-SHARED_EVENTS - 1].shared.clear()
        now = asyncio.get_running_loop().time()
        for subscription in self.subscriptions:
            subscription.offer(event, now)

    def _cut_off_laggards(self) -> None:
        now = asyncio.get_running_loop().time()
        too_slow = [
            sub
            for sub in self.subscriptions
            if sub.behind_since is not None and now - sub.behind_since > self.max_lag
        ]
        for subscription in too_slow:
            self.subscriptions.discard(subscription)
            subscription.end(SubscriberTooSlow)
        if too_slow:
            log.info(
                "live feed %s: ended %d subscription(s) behind for more than %.0fs",
                self.business_id,
                len(too_slow),
                self.max_lag,
            )
            self._idle_check()

    # -- subscriptions -----------------------------------------------------------------------

    async def stream(
        self,
        *,
        after: int | None,
        event_filter: EventFilter,
        credential: str | None = None,
    ) -> AsyncIterator[LiveEvent]:
        """Every matching event after ``after`` (or from now on), without gap or duplicate.

        Registers first, then replays ``after < seq <= position`` from memory or the outbox while
        new events collect in the buffer, and switches to the buffer once the replay has reached
        the feed's position; buffered events the replay already gave are skipped by ``seq``.
        The same catch-up runs again whenever the buffer overflows.
        """
        await self.ready()
        subscription = Subscription(
            event_filter=event_filter, limit=self.buffer_size, credential=credential
        )
        subscription.last_seq = self.position if after is None else after
        subscription.catching_up = subscription.last_seq < self.position
        self.subscriptions.add(subscription)
        try:
            while True:
                if subscription.catching_up:
                    replay = self._catch_up(subscription)
                    async with contextlib.aclosing(replay):
                        async for event in replay:
                            yield event
                    continue
                event = await subscription.next_buffered()
                if event is None or event.seq <= subscription.last_seq:
                    continue
                subscription.last_seq = event.seq
                yield event
        finally:
            self.subscriptions.discard(subscription)
            self._idle_check()

    async def _catch_up(self, subscription: Subscription) -> AsyncIterator[LiveEvent]:
        scanned = subscription.last_seq
        while True:
            subscription.raise_if_ended()
            target = self.position
            if scanned >= target:
                # The same step as the check, with no await between: every later event is
                # offered to the buffer from here on.
                subscription.catching_up = False
                subscription.behind_since = None
                return
            page, scanned = await self._replay_page(scanned, target, subscription.event_filter)
            for event in page:
                subscription.raise_if_ended()
                subscription.last_seq = event.seq
                yield event
            subscription.last_seq = max(subscription.last_seq, scanned)

    async def _replay_page(
        self, after: int, until: int, event_filter: EventFilter
    ) -> tuple[list[LiveEvent], int]:
        """Matching events in ``(after, until]``, at most a page, and how far the page reached."""
        recent = self.recent
        if recent and recent[0].seq <= after + 1:
            page = []
            for event in recent:
                if event.seq > until:
                    break
                if event.seq > after and event_filter.matches(event):
                    page.append(event)
                    if len(page) == PAGE_SIZE:
                        return page, event.seq
            return page, until
        page = await read_events(
            self.business_id, after=after, until=until, limit=PAGE_SIZE, event_filter=event_filter
        )
        scanned = page[-1].seq if len(page) == PAGE_SIZE else until
        return page, scanned

    def _idle_check(self) -> None:
        if not self.subscriptions:
            self._on_idle(self.business_id)

    # -- credentials ---------------------------------------------------------------------------

    def end_credential(self, credential: str) -> int:
        """End every subscription opened with ``credential``; how many there were."""
        ended = [sub for sub in self.subscriptions if sub.credential == credential]
        for subscription in ended:
            self.subscriptions.discard(subscription)
            subscription.end(CredentialsRevoked)
        if ended:
            self._idle_check()
        return len(ended)
