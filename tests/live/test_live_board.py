"""Live state equals a fresh query (issue 13, item 6): Zulip's ``verify_action`` for the pack board.

An open dashboard never reloads its board when something changes: it folds each ``packEvents``
event into the page it loaded. These tests open that board for every filter the filter bar
offers, run pack changes through the API, fold the events the dashboard's own subscription
received with the dashboard's own rules (``tests/live/board_fold.py``, a port of
``packStore.ts``/``boardState.ts``), and compare each board with a fresh load of it: the dashboard's
own board query (``features/packs/board.graphql``) under the same filters.

A live board equals a fresh load when its cards that still match the filters are the fresh
page's cards, in the same order, each with exactly the fresh snapshot, and its count less the
cards it keeps marked "no longer matches these filters" is the fresh count. (Those marked cards
stay put by design, so nothing moves under the pointer; a reload drops them.)

Every test subscribes from the cursor of the last event before the boards were loaded, so every
later event is delivered however long the subscription takes to start, and waits for exactly the
events the ``events`` query lists: no sleeps.

The dashboard side: ``frontend/src/features/packs/liveVerify.test.ts`` replays one recorded run
(boards as loaded, the events, the fresh boards) through the TypeScript store and board rules and
must reach the same boards. Regenerate that recording after changing the board's fields, filters or
rules, and commit it::

    make fixtures
    # which runs: PACKGRAPH_WRITE_FIXTURES=1 .venv/bin/pytest tests/live/test_live_board.py -k tour

Without the variable the tests never write it (``make test`` leaves the tree clean); they always
compare against their own live run, and the tour fails when the committed recording no longer
has its outline (filters, event types, board sizes, card fields): then regenerate it.

Invoices that sell several packs are paid too, so a pack the money does not reach must keep its
card (issue 23). The random test runs ``PACKGRAPH_LIVE_BOARD_EXAMPLES`` programs (default 4,
fixed by ``derandomize``).
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.support import Api, make_tenant, serving
from tests.live.board_actions import KINDS, Action, FrontDesk
from tests.live.board_fold import (
    EXPIRY_WINDOWS,
    PAGE_SIZE,
    PAYMENT_STATUSES,
    STATUSES,
    BoardFilters,
    LiveBoard,
    iso,
    js_now,
    matches_search,
    status_selectable,
    to_pack_filter,
)
from tests.live.client import GraphQLWebSocket

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "frontend" / "src" / "features"
FIXTURE = FEATURES / "packs" / "__fixtures__" / "liveVerify.json"
WRITE_FIXTURES = os.environ.get("PACKGRAPH_WRITE_FIXTURES") == "1"
EXAMPLES = int(os.environ.get("PACKGRAPH_LIVE_BOARD_EXAMPLES", "4"))


def _document(*paths: Path) -> str:
    return "\n".join(path.read_text() for path in paths)


# The dashboard's own operations, read from its source: the same fields, the same board query.
PACK_FIELDS = FEATURES / "packs" / "packFields.graphql"
BOARD = _document(FEATURES / "packs" / "board.graphql", PACK_FIELDS)
PACK_EVENTS = _document(FEATURES / "live" / "packEvents.graphql", PACK_FIELDS)
EVENT_LOG = """
query EventLog($after: String) {
  events(after: $after, first: 100) {
    edges { cursor node { type } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# Board search (SPEC §6.7): a pack name word, a client name without its accent, words across
# pack and client, phone digits, an email, and one that matches nothing.
SEARCH_TEXTS = (
    "massage",
    "CHLOE",
    "ana massages",
    "9876",
    "physio costa",
    "example.com",
    "lima 555",
)


def dashboard_filters() -> list[BoardFilters]:
    """Every choice of the filter bar: status tab x payment x balance due, each "expiring within"
    window (alone and on the Active tab, the only tab it allows), two mixed, and searches."""
    filters = [
        BoardFilters(status=status, payment=payment, balance_due=due)
        for status in (None, *STATUSES)
        for payment in (None, *PAYMENT_STATUSES)
        for due in (False, True)
    ]
    filters += [
        BoardFilters(status=status, expiring_within_days=days)
        for days in EXPIRY_WINDOWS
        for status in (None, "ACTIVE")
    ]
    filters += [
        BoardFilters(payment="PARTIAL", expiring_within_days=30, balance_due=True),
        BoardFilters(status="ACTIVE", payment="UNPAID", expiring_within_days=90),
    ]
    filters += [BoardFilters(search=text) for text in SEARCH_TEXTS]
    filters += [
        BoardFilters(status="ACTIVE", search="massage"),
        BoardFilters(payment="UNPAID", search="lima"),
    ]
    assert all(status_selectable(f.status, f) for f in filters if f.status)
    return filters


@dataclass
class Recording:
    """One run: the boards as loaded, the events received, and the boards loaded afresh."""

    now: datetime
    filters: list[BoardFilters]
    loaded: list[dict[str, Any]]
    events: list[dict[str, Any]]
    fresh: list[dict[str, Any]]
    outcomes: dict[str, int]


async def _board(api: Api, token: str, filters: BoardFilters, now: datetime) -> dict[str, Any]:
    """Board.tsx's query: the first page under ``filters``."""
    variables = {"filter": to_pack_filter(filters, now), "first": PAGE_SIZE, "after": None}
    data = await api.ok(BOARD, variables, token=token, operation_name="PackBoard")
    return data["packs"]


async def _boards(
    api: Api, token: str, filters: list[BoardFilters], now: datetime
) -> list[dict[str, Any]]:
    """Every board loaded at once (nothing changes meanwhile), as many open dashboards would."""
    return list(await asyncio.gather(*(_board(api, token, f, now) for f in filters)))


async def _event_log(api: Api, token: str, after: str | None) -> list[dict[str, Any]]:
    """Every event after ``after``, as an integration pages through them."""
    edges: list[dict[str, Any]] = []
    while True:
        page = (await api.ok(EVENT_LOG, {"after": after}, token=token))["events"]
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            return edges
        after = page["pageInfo"]["endCursor"]


# Packs on the boards before they open: a 10-massage pack, a $300 credit expiring in three
# days, and a discounted 3-physio pack that renews itself when used up.
OPENING: list[Action] = [("sell", 0, 0, 0), ("sell", 1, 2, 3), ("sell", 2, 4, 1)]


async def record_live_boards(address: str, program: list[Action]) -> Recording:
    """Open every board, run ``program``, and collect the events and the fresh boards."""
    tenant = await make_tenant("Live Board Clinic")
    token = tenant.staff_token
    now = js_now()
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as client:
        api = Api(client)
        desk = FrontDesk(api, tenant, now)
        await desk.open_clinic()
        for action in OPENING:
            await desk.run(action)
        start = (await _event_log(api, token, None))[-1]["cursor"]
        filters = dashboard_filters()
        loaded = await _boards(api, token, filters, now)
        async with GraphQLWebSocket.connect(f"ws://{address}/graphql", token) as socket:
            await socket.subscribe("board", PACK_EVENTS, {"after": start})
            for action in program:
                await desk.run(action)
            committed = await _event_log(api, token, start)
            events = [await socket.event("board", within=30) for _ in committed]
        # Nothing lost, nothing reordered: the subscription delivered the outbox as committed.
        assert [e["cursor"] for e in events] == [e["cursor"] for e in committed]
        fresh = await _boards(api, token, filters, now)
    return Recording(now, filters, loaded, events, fresh, dict(desk.outcomes))


def _label(pack: dict[str, Any]) -> str:
    return f"{pack['name']} of {pack['client']['name']} (v{pack['version']}, {pack['status']})"


def board_differences(filters: BoardFilters, live: LiveBoard, fresh: dict[str, Any]) -> list[str]:
    """How the live board differs from a fresh load of it (nothing when they are equal)."""
    where = f"board [{filters.label()}]"
    assert not fresh["pageInfo"]["hasNextPage"], f"{where}: the test keeps boards to one page"
    cards = live.cards()
    matching = [pack for pack, stale in cards if not stale]
    stale_count = sum(stale for _, stale in cards)
    nodes = [edge["node"] for edge in fresh["edges"]]
    problems = []
    if [p["id"] for p in matching] != [n["id"] for n in nodes]:
        problems.append(
            f"{where}: live cards {[_label(p) for p in matching]} "
            f"!= fresh cards {[_label(n) for n in nodes]}"
        )
    else:
        for pack, node in zip(matching, nodes, strict=True):
            if pack != node:
                keys = sorted(k for k in node if pack.get(k) != node[k])
                problems.append(
                    f"{where}: {_label(node)} differs in {keys}: live "
                    f"{ {k: pack.get(k) for k in keys} } fresh { {k: node[k] for k in keys} }"
                )
    if live.page.total_count - stale_count != fresh["totalCount"]:
        problems.append(
            f"{where}: live count {live.page.total_count} less {stale_count} marked cards "
            f"!= fresh count {fresh['totalCount']}"
        )
    return problems


def fold(recording: Recording) -> list[LiveBoard]:
    boards = []
    for filters, loaded in zip(recording.filters, recording.loaded, strict=True):
        board = LiveBoard(filters, recording.now)
        board.load(loaded)
        for event in recording.events:
            board.apply(event)
        boards.append(board)
    return boards


def assert_live_boards_equal_fresh_boards(recording: Recording) -> None:
    problems = [
        problem
        for board, fresh in zip(fold(recording), recording.fresh, strict=True)
        for problem in board_differences(board.filters, board, fresh)
    ]
    events = [f"{e['type']} {_label(e['pack']) if e['pack'] else ''}" for e in recording.events]
    assert problems == [], "\n".join([*problems, "events:", *events])


# --- a fixed tour of every event type, which is also the dashboard's recorded fixture ---------

# Pack indices count the packs sold by the desk (not deleted), in order: P0-P2 are OPENING's.
TOUR: list[Action] = [
    ("sell", 0, 1, 0),  # P3: 3 hours of therapy, Ana
    ("sell", 1, 5, 4),  # P4: custom Physio block, Bruno, bought five days ago
    ("sell", 2, 3, 2),  # P5: 2 massage + 2 physio, Chloé, first session used at sale
    ("redeem", 0, 0, 0),  # a walk-in massage from P0
    ("visit", 1, 0, 0),  # Bruno's massage, from his chosen pack P1 ($300 credit)
    ("redeem", 2, 1, 1),  # two physio from P2 ...
    ("redeem", 2, 1, 0),  # ... and the last one: fully used, renewed as a new unpaid pack
    ("unallocate", 0, 0, 0),  # P0's walk-in line unallocated: the session goes back
    ("allocate", 0, 3, 0),  # ... and that line allocated to P3 instead
    ("move", 3, 0, 0),  # P3's lines moved back to P0
    ("correct", 0, 0, 1),  # P0: one session marked used by hand
    ("pay", 0, 0, 0),  # P0 partly paid
    ("pay", 1, 1, 0),  # P1 paid in full
    ("pay_invoice", 4, 0, 0),  # P4 partly paid on its invoice
    ("change_expiry", 3, 1, 2),  # P3 now expires in 20 days
    ("change_expiry", 0, 4, 0),  # P0 expires exactly at the end of the 30-day window
    ("change_expiry", 4, 2, 0),  # P4 expires at once
    ("note", 5, 0, 0),  # a note on P5
    ("run_expiry_job", 0, 0, 0),  # P1 expires in three days: reminded
    ("cancel_pack", 1, 1, 0),  # P1 cancelled with a refund (PAYMENT_REFUNDED)
    ("sell", 0, 0, 5),  # P6: 10 massages for Ana, bought six days ago, expiring in six days
    ("run_expiry_job", 1, 0, 0),  # the job a week later: P6 expired, P3 reminded
    ("change_expiry", 4, 3, 0),  # P4 restored (sessions are owed)
    ("delete_pack", 5, 0, 0),  # P5 still has an allocated line: refused
    ("sell", 2, 0, 0),  # P7: 10 massages for Chloé ...
    ("pay", 7, 0, 0),  # ... partly paid ...
    ("delete_pack", 7, 0, 0),  # ... deleted: the money to her credit (CLIENT_CREDITED), its
    # sale line voided (INVOICE_LINE_VOIDED)
    ("void_invoice", 0, 0, 0),  # ... and its invoice voided (INVOICE_VOIDED)
    ("cancel_visit", 0, 0, 0),  # Bruno's visit cancelled: its session goes back
    ("void_line", 0, 0, 0),  # an allocated visit voided: its session goes back to its pack
    ("visit", 1, 1, 1),  # Bruno's physio ...
    ("change_service", 0, 0, 0),  # ... was a massage: re-priced, deducted again (SERVICE_CHANGED)
    ("apply_credit", 2, 0, 0),  # Chloé's credit pays 10.00 of P5's invoice (CREDIT_APPLIED)
    ("refund_credit", 2, 0, 0),  # 5.00 of the rest given back (CREDIT_REFUNDED)
]
EVERY_EVENT_TYPE = {
    "PACK_SOLD",
    "SESSION_REDEEMED",
    "REDEMPTION_REVERSED",
    "PACK_CORRECTED",
    "PAYMENT_RECORDED",
    "PAYMENT_REFUNDED",
    "EXPIRY_CHANGED",
    "PACK_EXPIRING_SOON",
    "PACK_EXPIRED",
    "PACK_FULLY_USED",
    "PACK_CANCELLED",
    "PACK_DELETED",
    "NOTE_ADDED",
    "ALLOCATIONS_MOVED",
    "INVOICE_LINE_VOIDED",
    "INVOICE_VOIDED",
    "CLIENT_CREDITED",
    "CREDIT_APPLIED",
    "CREDIT_REFUNDED",
    "SERVICE_CHANGED",
}


def served(url: str) -> AbstractAsyncContextManager[str]:
    """The app on a real port. The expiry job runs in this test, outside the app's requests, so
    nothing wakes the app's hub after it commits: the hub's outbox poll finds its events."""
    return serving(url, live_safety_poll_ms=100)


async def test_live_boards_equal_fresh_boards_after_a_tour_of_every_event(orm_sqlite):
    # given every board of the dashboard open on a clinic with three packs
    async with served(orm_sqlite) as address:
        # when the front desk sells, redeems, reverses, moves, corrects, pays, changes expiries,
        # cancels and deletes, and the expiry job runs
        recording = await record_live_boards(address, TOUR)
    # then every kind of pack event was received
    assert {event["type"] for event in recording.events} == EVERY_EVENT_TYPE, recording.outcomes
    # and every live board equals a fresh load of it
    assert_live_boards_equal_fresh_boards(recording)
    # and the dashboard replays a recording of this same tour
    content = fixture_content(recording)
    if WRITE_FIXTURES:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n")
    assert _outline(json.loads(FIXTURE.read_text())) == _outline(content), (
        f"{FIXTURE.relative_to(REPO)} is not a recording of this tour any more: run make fixtures"
    )


def test_the_ported_search_answers_the_shared_table_of_cases():
    # the table the server and the dashboard are both tested against (SPEC §6.7)
    table = json.loads((REPO / "frontend" / "src" / "lib" / "searchCases.json").read_text())
    clients = table["clients"]
    for case in table["cases"]:
        found = [
            key
            for key, pack in table["packs"].items()
            if matches_search(
                case["search"], {"name": pack["name"], "client": clients[pack["client"]]}
            )
        ]
        assert found == case["packs"], case["why"]


ACTIONS = st.tuples(
    st.sampled_from(KINDS),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
)


async def test_live_boards_equal_fresh_boards_after_random_changes(orm_sqlite):
    async with served(orm_sqlite) as address:
        loop = asyncio.get_running_loop()

        # given every board open on a new clinic with three packs (one clinic per example)
        # when a random day at the front desk happens
        # then every live board equals a fresh load of it
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(program=st.lists(ACTIONS, min_size=30, max_size=40))
        def day_at_the_desk(program: list[Action]) -> None:
            recording = asyncio.run_coroutine_threadsafe(
                record_live_boards(address, program), loop
            ).result(300)
            assert_live_boards_equal_fresh_boards(recording)

        await asyncio.to_thread(day_at_the_desk)


# --- the recording the dashboard replays -------------------------------------------------------


def fixture_content(recording: Recording) -> dict[str, Any]:
    """Boards as loaded and afresh (ids and counts per filter, each pack's snapshot once) and the
    events, for ``liveVerify.test.ts``."""

    def boards(connections: list[dict[str, Any]]) -> dict[str, Any]:
        packs: dict[str, Any] = {}
        pages = []
        for connection in connections:
            nodes = [edge["node"] for edge in connection["edges"]]
            for node in nodes:
                # Every board was read at the same moment: one snapshot per pack.
                assert packs.setdefault(node["id"], node) == node
            pages.append({"ids": [n["id"] for n in nodes], "totalCount": connection["totalCount"]})
        return {"packs": packs, "boards": pages}

    return {
        "about": "Recorded by tests/live/test_live_board.py (make fixtures); do not edit.",
        "now": iso(recording.now),
        "filters": [f.to_json() for f in recording.filters],
        "loaded": boards(recording.loaded),
        "events": [{"type": e["type"], "pack": e["pack"]} for e in recording.events],
        "fresh": boards(recording.fresh),
    }


def _outline(content: dict[str, Any]) -> dict[str, Any]:
    """What a recording of the tour must keep from run to run: the filters, the events' types,
    the boards' sizes and the fields of a card (ids, times and amounts of money differ)."""

    def fields(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: fields(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [fields(inner) for inner in value[:1]]
        return None

    first_pack = next(iter(content["fresh"]["packs"].values()))
    return {
        "filters": content["filters"],
        "events": [event["type"] for event in content["events"]],
        "loaded": [len(board["ids"]) for board in content["loaded"]["boards"]],
        "fresh": [len(board["ids"]) for board in content["fresh"]["boards"]],
        "card": fields(first_pack),
    }
