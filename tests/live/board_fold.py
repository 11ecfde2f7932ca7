"""The dashboard's live pack board, ported line for line to Python to check it against the server.

The staff dashboard never refetches its board when a pack event arrives: it folds the event into
what it has. Three pieces of ``frontend/src`` do that, and this module mirrors each of them:

- ``features/packs/packStore.ts`` (:class:`PackStore`): one snapshot per pack id; a snapshot
  replaces the stored one only when its ``version`` is higher (or equal with different content);
  a deleted pack is remembered as deleted.
- ``app/App.tsx`` ``createServices`` (:meth:`LiveBoard.apply`, first half): every event's pack is
  merged into the store, and a PACK_DELETED event marks its pack deleted.
- ``features/packs/boardState.ts`` (:func:`pack_matches`, :func:`page_after_event`, with
  ``lib/search.ts`` for the search box, :func:`matches_search`) as used by
  ``features/packs/Board.tsx`` (:meth:`LiveBoard.apply`, second half, and
  :meth:`LiveBoard.cards`): the loaded page is a list of pack ids; a pack that starts to match the
  filters joins the first page at its place in the board's order (newest purchase first), a
  deleted pack leaves it, and a card that stops matching stays where it is, marked "no longer
  matches these filters" until the next load.

Keep it in step with those files: the Vitest test ``features/packs/liveVerify.test.ts`` replays the
same recorded events through the TypeScript code and must reach the same boards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from packgraph.domain import search

Pack = dict[str, Any]

# Board.tsx PAGE_SIZE and the choices of BoardFilterBar.tsx (boardState.ts).
PAGE_SIZE = 24
STATUSES = ("ACTIVE", "EXPIRED", "FULLY_USED", "CANCELLED")
PAYMENT_STATUSES = ("PAID", "PARTIAL", "UNPAID")
EXPIRY_WINDOWS = (7, 14, 30, 60, 90)


def iso(moment: datetime) -> str:
    """``Date.prototype.toISOString``: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """``new Date(text)`` for the ISO times the API returns (JavaScript keeps milliseconds)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def js_now() -> datetime:
    """``new Date()``: now, to the millisecond."""
    return parse_time(iso(datetime.now(UTC)))


@dataclass(frozen=True)
class BoardFilters:
    """``BoardFilters`` of boardState.ts: what the filter bar and the URL hold."""

    status: str | None = None
    payment: str | None = None
    expiring_within_days: int | None = None
    balance_due: bool = False
    search: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "payment": self.payment,
            "expiringWithinDays": self.expiring_within_days,
            "balanceDue": self.balance_due,
            "search": self.search,
        }

    def label(self) -> str:
        parts = [
            self.status or "",
            self.payment or "",
            f"expiring {self.expiring_within_days}d" if self.expiring_within_days else "",
            "balance due" if self.balance_due else "",
            f"search {self.search!r}" if self.search else "",
        ]
        return ", ".join(part for part in parts if part) or "all packs"


def expiring_before(days: int, now: datetime) -> datetime:
    return now + timedelta(days=days)


def to_pack_filter(
    filters: BoardFilters, now: datetime, status: str | None = None
) -> dict[str, Any]:
    """``toPackFilter``: the ``PackFilter`` variables of the board query."""
    status = status or filters.status
    result: dict[str, Any] = {}
    if filters.expiring_within_days and not status:
        status = "ACTIVE"
    if status:
        result["status"] = [status]
    if filters.payment:
        result["paymentStatus"] = [filters.payment]
    if filters.expiring_within_days:
        result["expiringBefore"] = iso(expiring_before(filters.expiring_within_days, now))
    if filters.balance_due:
        result["hasBalanceDue"] = True
    if filters.search.strip():
        result["search"] = filters.search.strip()
    return result


def pack_matches(pack: Pack, filters: BoardFilters, now: datetime) -> bool:
    """``packMatches``: whether a pack snapshot belongs on the board under ``filters``."""
    if filters.status and pack["status"] != filters.status:
        return False
    if filters.payment and pack["paymentStatus"] != filters.payment:
        return False
    if filters.balance_due and not pack["balanceDue"] > 0:
        return False
    if filters.expiring_within_days:
        if not pack["expiresAt"] or pack["status"] != "ACTIVE":
            return False
        # The server's expiringBefore: strictly before that instant.
        expires = parse_time(pack["expiresAt"])
        if expires >= expiring_before(filters.expiring_within_days, now):
            return False
    return matches_search(filters.search, pack)


# --- lib/search.ts: the board's search (SPEC §6.7) ----------------------------------------------
# search.ts and domain/search.py are both held to the shared table of cases
# (frontend/src/lib/searchCases.json), so the fold takes the rule from the server's module.


def matches_search(text: str, card: Pack) -> bool:
    """``matchesSearch``: every word in the pack's name or its client's name, phone or email."""
    client = card["client"]
    fields = [
        search.normalise(card["name"]),
        search.normalise(client["name"]),
        search.phone_digits(client["phone"]),
        search.normalise(client["email"]),
    ]
    return all(any(word in field for field in fields) for word in search.normalised_words(text))


def status_selectable(status: str, filters: BoardFilters) -> bool:
    """``statusSelectable``: the status tabs the filter bar lets the user choose."""
    return not filters.expiring_within_days or status == "ACTIVE"


def board_order_key(pack: Pack) -> datetime:
    """The board's order (the query's default, PURCHASED_AT_DESC): newest purchase first."""
    return parse_time(pack["purchasedAt"])


class PackStore:
    """``PackStore`` of packStore.ts (listeners and highlighting left out: they change nothing)."""

    def __init__(self) -> None:
        self.packs: dict[str, Pack] = {}
        self.deleted: set[str] = set()

    def get(self, pack_id: str) -> Pack | None:
        return self.packs.get(pack_id)

    def is_deleted(self, pack_id: str) -> bool:
        return pack_id in self.deleted

    def merge(self, snapshot: Pack) -> bool:
        existing = self.packs.get(snapshot["id"])
        if existing is not None and existing["version"] > snapshot["version"]:
            return False
        if (
            existing is not None
            and existing["version"] == snapshot["version"]
            and _same_snapshot(existing, snapshot)
        ):
            return False
        self.packs[snapshot["id"]] = snapshot
        return True

    def merge_all(self, snapshots: list[Pack]) -> None:
        for snapshot in snapshots:
            self.merge(snapshot)

    def mark_deleted(self, pack_id: str) -> None:
        self.deleted.add(pack_id)


def _same_snapshot(a: Pack, b: Pack) -> bool:
    # JSON.stringify: key order matters there too, and both come from the same selection.
    return json.dumps(a) == json.dumps(b)


@dataclass
class BoardPage:
    """``BoardPage``: pack ids in display order and the count the board shows."""

    ids: list[str]
    total_count: int


def page_after_event(
    page: BoardPage,
    event: dict[str, Any],
    filters: BoardFilters,
    *,
    first_page: bool,
    now: datetime,
    pack_of: Any,
    deleted_id: str | None = None,
) -> BoardPage:
    """``pageAfterEvent``: the page after a live event (the store already holds its pack)."""
    pack = event.get("pack")
    pack_id = (pack or {}).get("id") or deleted_id
    if not pack_id:
        return page
    shown = pack_id in page.ids
    if event["type"] == "PACK_DELETED":
        if not shown:
            return page
        return BoardPage(
            ids=[x for x in page.ids if x != pack_id], total_count=max(0, page.total_count - 1)
        )
    if shown or not pack or not first_page:
        return page
    if not pack_matches(pack, filters, now):
        return page
    # Before the first card bought at the same time or earlier (on a tie the newer pack first).
    purchased = board_order_key(pack)
    position = len(page.ids)
    for index, shown_id in enumerate(page.ids):
        shown_pack = pack_of(shown_id)
        if shown_pack is not None and board_order_key(shown_pack) <= purchased:
            position = index
            break
    ids = [*page.ids[:position], pack_id, *page.ids[position:]]
    return BoardPage(ids=ids, total_count=page.total_count + 1)


@dataclass
class LiveBoard:
    """One open dashboard showing the first page of the board under ``filters``."""

    filters: BoardFilters
    now: datetime
    store: PackStore = field(default_factory=PackStore)
    page: BoardPage = field(default_factory=lambda: BoardPage([], 0))

    def load(self, connection: dict[str, Any]) -> None:
        """Board.tsx: the query result's nodes go to the store, their ids become the page."""
        nodes = [edge["node"] for edge in connection["edges"]]
        self.store.merge_all(nodes)
        self.page = BoardPage([node["id"] for node in nodes], connection["totalCount"])

    def apply(self, event: dict[str, Any]) -> None:
        # App.tsx: the store first, so the board's listener sees the new snapshot.
        pack = event.get("pack")
        if pack:
            self.store.merge(pack)
        if event["type"] == "PACK_DELETED" and pack:
            self.store.mark_deleted(pack["id"])
        # Board.tsx: the first page (pageIndex 0) takes the event.
        self.page = page_after_event(
            self.page,
            event,
            self.filters,
            first_page=True,
            now=self.now,
            pack_of=self.store.get,
        )

    def cards(self) -> list[tuple[Pack, bool]]:
        """Board.tsx ``BoardCard``: each card's snapshot and whether it is marked stale."""
        shown = []
        for pack_id in self.page.ids:
            pack = self.store.get(pack_id)
            if pack is not None:
                shown.append((pack, not pack_matches(pack, self.filters, self.now)))
        return shown
