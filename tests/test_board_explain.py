"""The board's queries use indexes on PostgreSQL: the plans of the SQL the ``packs`` resolver
really sends, for every filter the dashboard offers, first page and after a cursor.

A few thousand packs are bulk-loaded (the demo loader) and analysed; each board request runs
through the real app while its SQL is recorded, and each recorded SELECT is explained with its own
parameters. A page must come from a ``pack_business_*`` index (never a sequential scan of
``pack``), and a page after a cursor must seek its index to the cursor (the sort key is in the
index condition) rather than read the earlier pages again.

The dashboard's counts (``totalCount``, the status tabs, expiring soon) must be answered from the
partial ``pack_business_counts`` index alone (an index-only scan: still proportional to the packs
counted, but a small fraction of reading them). Not checked: the pack cards' own rows (items by
``pack_item_pack`` and so on; at this size a sequential scan of those tables is the planner's right
choice) and the counts of the balance-due and search filters, which read the matching packs.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from packgraph import demo
from packgraph.db import is_postgres
from packgraph.domain import auth, catalog
from packgraph.domain.status import compute_status
from packgraph.migrate import asyncpg_dsn
from packgraph.models import Client
from packgraph.settings import Settings
from tests.api.support import gid, given_catalog, given_pack, make_tenant, running_app
from tests.conftest import require_service
from tests.databases import DatabaseFactory, ServiceUnavailable, init_orm

# The scaled-down large seed of `make test` (the full `--clients 20000` is measured by hand, see
# docs/deploy.md). 10,000 packs: enough that the planner's choices are those of a big business.
CLIENTS = 2000
BOARD = """
query Board($filter: PackFilter, $orderBy: PackOrder, $after: String) {
  packs(filter: $filter, orderBy: $orderBy, first: 50, after: $after) {
    edges { cursor node { id name status paymentStatus balanceDue client { id name }
      items { used allowance services { id name } } } }
  }
}
"""
# Indexes in the board's order (purchased_at, id): a page walks them and stops.
ORDERED_INDEXES = {"pack_business_purchased", "pack_business_status", "pack_business_payment"}


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    url: str
    output: str
    errors: str
    started: datetime
    finished: datetime


@pytest.fixture(scope="module")
def seeded(database_factories) -> Iterator[Seeded]:
    """A migrated PostgreSQL database seeded by ``packgraph seed-demo --clients 2000`` (about
    10,000 packs with history), as an operator would load it."""
    factory: DatabaseFactory = database_factories["postgres"]
    try:
        url = asyncio.run(factory.create())
    except ServiceUnavailable as error:
        require_service(error)
        raise
    started = datetime.now(UTC)
    done = subprocess.run(
        [sys.executable, "-m", "packgraph.cli", "seed-demo", "--clients", str(CLIENTS)],
        env={**os.environ, "PACKGRAPH_DATABASE_URL": url, "PACKGRAPH_LOG_LEVEL": "warning"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    yield Seeded(
        url=url,
        output=done.stdout,
        errors=done.stderr,
        started=started,
        finished=datetime.now(UTC),
    )
    asyncio.run(factory.drop(url))


@pytest.fixture(scope="module")
def loaded_url(seeded: Seeded) -> str:
    return seeded.url


@pytest.fixture(scope="module")
def owner_token(seeded: Seeded) -> str:
    """A session of the demo owner, logged in once for the module."""

    async def log_in() -> str:
        await init_orm(seeded.url)
        try:
            result = await auth.login(
                email="owner@demo.test",
                password=demo.DEMO_PASSWORD,
                address="203.0.113.9",
                settings=Settings(),
            )
            return result.token
        finally:
            await Tortoise.close_connections()

    return asyncio.run(log_in())


@pytest.fixture
async def board(loaded_url: str, owner_token: str):
    """Runs a board page through the real app; returns (data, recorded statements)."""
    with _recording() as statements:
        async with running_app(loaded_url) as api:

            async def run(
                variables: dict[str, Any], query: str = BOARD
            ) -> tuple[dict, list[tuple[str, list]]]:
                statements.clear()
                data = await api.ok(query, variables, token=owner_token)
                return data["packs"], list(statements)

            yield run


@contextmanager
def _recording() -> Iterator[list[tuple[str, list]]]:
    """Every SQL statement sent through Tortoise's asyncpg client, with its parameters."""
    statements: list[tuple[str, list]] = []
    originals = {}
    for name in ("execute_query", "execute_query_dict"):
        original = getattr(AsyncpgDBClient, name)
        originals[name] = original

        async def recorded(self, query, values=None, _original=original):
            statements.append((query, list(values or [])))
            return await _original(self, query, values)

        setattr(AsyncpgDBClient, name, recorded)
    try:
        yield statements
    finally:
        for name, original in originals.items():
            setattr(AsyncpgDBClient, name, original)


async def _plans(url: str, statements: list[tuple[str, list]]) -> list[tuple[str, dict]]:
    """``EXPLAIN (FORMAT JSON)`` of each recorded SELECT, with its own parameter values."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        plans = []
        for sql, values in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            raw = await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *values)
            plans.append((sql, json.loads(raw)[0]["Plan"]))
        return plans
    finally:
        await connection.close()


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _describe(plan: dict, depth: int = 0) -> str:
    """The plan as indented lines (node, relation, index, conditions), for failure messages."""
    parts = [plan["Node Type"], plan.get("Relation Name", ""), plan.get("Index Name", "")]
    for key in ("Index Cond", "Recheck Cond", "Filter"):
        if key in plan:
            parts.append(f"{key}: {plan[key]}")
    line = "  " * depth + " ".join(part for part in parts if part)
    children = [_describe(child, depth + 1) for child in plan.get("Plans", [])]
    return "\n".join([line, *children])


def _is_page(sql: str) -> bool:
    return sql.lstrip().startswith("SELECT") and 'FROM "pack"' in sql and "LIMIT" in sql


# --- the cases ----------------------------------------------------------------------------------


async def _clients() -> tuple[str, str]:
    """The id of a client with several packs, and the full name of a client nobody else has
    (a search for one person), who also has several packs."""
    counts = Counter(await Client.all().values_list("name", flat=True))
    best = None
    for client in await Client.all().order_by("id").prefetch_related("packs"):
        if len(client.packs) >= 3:
            best = best or client
            if counts[client.name] == 1:
                return gid("Client", best.id), client.name
    raise AssertionError("the demo has no client with a unique name and several packs")


def _cases(client_id: str, rare_name: str) -> list[tuple[str, dict[str, Any], set[str] | None]]:
    """(label, variables, the index the page must use; None: any pack_business_* index)."""
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    return [
        ("all packs", {}, {"pack_business_purchased"}),
        ("status ACTIVE", {"filter": {"status": ["ACTIVE"]}}, {"pack_business_status"}),
        ("status CANCELLED", {"filter": {"status": ["CANCELLED"]}}, {"pack_business_status"}),
        ("payment UNPAID", {"filter": {"paymentStatus": ["UNPAID"]}}, {"pack_business_payment"}),
        (
            "expiring within 30 days",
            {"filter": {"status": ["ACTIVE"], "expiringBefore": soon}},
            None,
        ),
        ("expiring before", {"filter": {"expiringBefore": soon}}, None),
        ("one client", {"filter": {"clientId": client_id}}, {"pack_business_client"}),
        ("balance due", {"filter": {"hasBalanceDue": True}}, None),
        ("nothing due", {"filter": {"hasBalanceDue": False}}, None),
        ("search: a common surname", {"filter": {"search": "smith"}}, None),
        ("search: one person", {"filter": {"search": rare_name}}, None),
        ("search: a pack name", {"filter": {"search": "pilates"}}, None),
        # More matching clients than SEARCH_CLIENT_IDS: matched in a subquery.
        ("search: most clients", {"filter": {"search": "a"}}, {"pack_business_purchased"}),
        ("oldest first", {"orderBy": "PURCHASED_AT_ASC"}, {"pack_business_purchased"}),
        (
            "status, oldest first",
            {"filter": {"status": ["EXPIRED"]}, "orderBy": "PURCHASED_AT_ASC"},
            {"pack_business_status"},
        ),
        (
            "one client by name",
            {"filter": {"clientId": client_id}, "orderBy": "NAME_ASC"},
            {"pack_business_client"},
        ),
    ]


CASE_LABELS = [label for label, _, _ in _cases("", "")]


@pytest.mark.parametrize("label", CASE_LABELS)
async def test_every_board_filter_reads_its_pages_through_an_index(loaded_url, board, label):
    cases = {case[0]: case for case in _cases(*await _clients())}
    _, variables, expected = cases[label]
    first, statements = await board(variables)
    await _assert_indexed(loaded_url, statements, label, expected, after_cursor=False)
    # From the middle of the first page, so short lists (one client's packs) go on too.
    edges = first["edges"]
    assert len(edges) >= 2, f"{label}: too few rows to page through"
    middle = edges[len(edges) // 2 - 1]["cursor"]
    rest, statements = await board({**variables, "after": middle})
    continued = [edge["node"]["id"] for edge in edges[len(edges) // 2 :]]
    assert [edge["node"]["id"] for edge in rest["edges"]][: len(continued)] == continued
    await _assert_indexed(loaded_url, statements, label, expected, after_cursor=True)


async def _assert_indexed(
    url: str,
    statements: list[tuple[str, list]],
    label: str,
    expected: set[str] | None,
    *,
    after_cursor: bool,
) -> None:
    plans = await _plans(url, statements)
    pages = [(sql, plan) for sql, plan in plans if _is_page(sql)]
    assert len(pages) == 1, [sql for sql, _ in plans]
    _, plan = pages[0]
    nodes = list(_nodes(plan))
    scans = [node for node in nodes if node.get("Relation Name") == "pack"]
    indexes = {node["Index Name"] for node in nodes if "Index Name" in node}
    pack_indexes = {
        name for name in indexes if name.startswith(("pack_business_", "pack_search_name"))
    }
    shown = f"{label}{' (after a cursor)' if after_cursor else ''}:\n{_describe(plan)}"
    assert not [node for node in scans if node["Node Type"] == "Seq Scan"], shown
    assert pack_indexes, shown
    if expected is not None:
        assert expected <= indexes, shown
    ordered = [
        node
        for node in scans
        if node["Node Type"] in ("Index Scan", "Index Only Scan")
        and node["Index Name"] in ORDERED_INDEXES
    ]
    if after_cursor and ordered:
        # A keyset page seeks the index to the cursor instead of reading the earlier pages.
        assert any("purchased_at" in node.get("Index Cond", "") for node in ordered), shown


COUNT = "query Count($filter: PackFilter) { packs(filter: $filter, first: 1) { totalCount } }"


# label: (filter, the index the count reads (None: any of the pack's), from the index alone?)
COUNTED: dict[str, tuple[dict | None, str | None, bool]] = {
    "all packs": (None, "pack_business_counts", True),
    "status ACTIVE": ({"status": ["ACTIVE"]}, "pack_business_counts", True),
    "status FULLY_USED": ({"status": ["FULLY_USED"]}, "pack_business_counts", True),
    "payment PARTIAL": ({"paymentStatus": ["PARTIAL"]}, "pack_business_counts", True),
    "expiring within 30 days": (
        {"status": ["ACTIVE"], "expiringBefore": "in 30 days"},
        None,
        False,
    ),
}


@pytest.mark.parametrize("label", list(COUNTED))
async def test_the_board_counts_read_an_index(loaded_url, board, label):
    """The dashboard's totalCount and status-tab counts read the partial counts index only;
    the expiring tab's count reads the packs an index points to."""
    condition, index, index_only = COUNTED[label]
    if condition and "expiringBefore" in condition:
        soon = datetime.now(UTC) + timedelta(days=30)
        condition = {**condition, "expiringBefore": soon.isoformat()}
    _, statements = await board({"filter": condition}, query=COUNT)
    plans = await _plans(loaded_url, statements)
    counts = [plan for sql, plan in plans if "COUNT(" in sql.upper() and 'FROM "pack"' in sql]
    assert len(counts) == 1, [sql for sql, _ in plans]
    nodes = list(_nodes(counts[0]))
    shown = _describe(counts[0])
    assert not [node for node in nodes if node["Node Type"] == "Seq Scan"], shown
    used = [
        node
        for node in nodes
        if node.get("Index Name", "").startswith("pack_business_")
        and (index is None or node["Index Name"] == index)
    ]
    assert used, shown
    if index_only:
        assert used[0]["Node Type"] == "Index Only Scan", shown


BROKEN_ITEMS = """
SELECT i.id FROM pack_item i LEFT JOIN ledger_entry e ON e.item_id = i.id GROUP BY i.id
HAVING i.used <> COALESCE(SUM(e.quantity), 0) OR i.used < 0 OR i.used > i.allowance
"""
BROKEN_PAYMENTS = """
SELECT p.id FROM pack p LEFT JOIN payment y ON y.pack_id = p.id GROUP BY p.id
HAVING p.amount_paid <> COALESCE(SUM(y.amount), 0)
    OR p.payment_status <> CASE WHEN p.amount_paid >= p.final_price THEN 'PAID'
                                WHEN p.amount_paid > 0 THEN 'PARTIAL' ELSE 'UNPAID' END
"""
UNALLOCATED_REDEMPTIONS = """
SELECT count(*) FROM ledger_entry e LEFT JOIN invoice_line l ON l.id = e.invoice_line_id
WHERE e.kind = 'REDEMPTION' AND (l.id IS NULL OR l.pack_id IS DISTINCT FROM e.pack_id
      OR l.session_number IS DISTINCT FROM e.session_number)
  AND NOT EXISTS (SELECT 1 FROM ledger_entry r WHERE r.reverses_id = e.id)
"""


async def test_the_large_seed_shows_progress_and_keeps_every_invariant(seeded):
    assert f"seeding clients: {CLIENTS}/{CLIENTS} (100%" in seeded.errors
    assert f"{CLIENTS} clients" in seeded.output
    connection = await asyncpg.connect(asyncpg_dsn(seeded.url))
    try:
        assert await connection.fetchval("SELECT count(*) FROM pack") >= CLIENTS * 4
        assert await connection.fetch(BROKEN_ITEMS) == []
        assert await connection.fetch(BROKEN_PAYMENTS) == []
        assert await connection.fetchval(UNALLOCATED_REDEMPTIONS) == 0
        numbers = await connection.fetch("SELECT number FROM invoice ORDER BY number")
        counter = await connection.fetchval("SELECT max(invoice_seq) FROM business")
        assert len({row["number"] for row in numbers}) == len(numbers) <= counter
        items: dict[int, list[tuple[int, int]]] = {}
        for row in await connection.fetch("SELECT pack_id, used, allowance FROM pack_item"):
            items.setdefault(row["pack_id"], []).append((row["used"], row["allowance"]))
        # Seeding took a while: a pack's status is right for some moment of it.
        started, finished = seeded.started, seeded.finished
        for pack in await connection.fetch("SELECT id, status, cancelled_at, expires_at FROM pack"):
            possible = {
                compute_status(
                    cancelled_at=pack["cancelled_at"],
                    items=items[pack["id"]],
                    expires_at=pack["expires_at"],
                    now=moment,
                ).value
                for moment in (started, finished)
            }
            assert pack["status"] in possible, dict(pack)
        # New rows continue after the bulk-loaded ids (the id sequences were moved past them).
        max_pack = await connection.fetchval("SELECT max(id) FROM pack")
        next_pack = await connection.fetchval(
            "SELECT nextval(pg_get_serial_sequence('pack', 'id'))"
        )
        assert next_pack > max_pack
    finally:
        await connection.close()


async def test_every_declared_index_exists_on_both_backends(database_url):
    """Every ``Meta.indexes`` entry is in the migrated database. (On SQLite, Tortoise's table
    rebuild for a CHECK constraint once dropped the pack indexes: migration 0003 repairs it.)"""
    await init_orm(database_url)
    try:
        connection = Tortoise.get_connection("default")
        if is_postgres(database_url):
            rows = await connection.execute_query_dict(
                "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'"
            )
        else:
            rows = await connection.execute_query_dict(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
            )
        present = {row["name"] for row in rows}
        declared = {
            index.name
            for model in Tortoise.apps["models"].values()
            for index in getattr(model._meta, "indexes", ()) or ()
            if getattr(index, "name", None)
        }
        assert declared, "no named indexes declared"
        assert declared - present == set()
    finally:
        await Tortoise.close_connections()


SEARCH = """
query Search($search: String!) {
  packs(filter: {search: $search}, first: 100) { totalCount edges { node { id } } }
}
"""


@pytest.mark.parametrize("client_ids", ["listed", "subquery"])
async def test_search_finds_the_same_packs_however_clients_are_matched(
    database_url, monkeypatch, client_ids
):
    """Search looks clients up first; past SEARCH_CLIENT_IDS matches it keeps them a subquery.
    Both ways give the packs whose name or client's name contains the text (any case)."""
    from packgraph.domain import search

    if client_ids == "subquery":
        monkeypatch.setattr(search, "SEARCH_CLIENT_IDS", 0)
    async with running_app(database_url) as api:
        tenant = await make_tenant("Search")
        given = await given_catalog(tenant, client_name="Zed Brown")
        other = await catalog.create_client(actor=tenant.owner, name="Mia Zedd")
        third = await catalog.create_client(actor=tenant.owner, name="Ana Lima")
        zeds = [(await given_pack(tenant, given)).pack for _ in range(2)]
        zeds.append((await given_pack(tenant, given, client_id=other.id)).pack)
        plain = (await given_pack(tenant, given, client_id=third.id)).pack

        async def found(text: str) -> set[str]:
            body = await api.ok(SEARCH, {"search": text}, token=tenant.staff_token)
            assert body["packs"]["totalCount"] == len(body["packs"]["edges"])
            return {edge["node"]["id"] for edge in body["packs"]["edges"]}

        assert await found("zed") == {gid("Pack", pack.id) for pack in zeds}
        assert await found("MASSAGES") == {gid("Pack", p.id) for p in [*zeds, plain]}
        assert await found("nobody") == set()
