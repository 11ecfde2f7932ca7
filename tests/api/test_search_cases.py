"""Board and client search (SPEC §6.7) through the GraphQL API, on SQLite and PostgreSQL, against
the table of cases the dashboard's own matcher is tested with (frontend/src/lib/searchCases.json).

Given the table's clients and packs, sold through the domain as a user would; when each case's
text is searched with ``packs(filter: {search})`` and ``clients(search)``; then exactly the
table's packs and clients come back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from packgraph.domain import catalog
from packgraph.domain.search import MAX_SEARCH_WORDS
from packgraph.domain.selling import CustomPackSpec, sell_pack
from packgraph.models import Metric
from tests.api.support import gid, make_tenant, running_app

CASES_FILE = Path(__file__).resolve().parents[2] / "frontend/src/lib/searchCases.json"
TABLE: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))

PACKS = """
query Board($search: String) {
  packs(filter: {search: $search}, first: 100) { totalCount edges { node { id } } }
}
"""
CLIENTS = """
query Clients($search: String) {
  clients(search: $search, first: 100) { totalCount edges { node { id } } }
}
"""


async def _given_the_table() -> tuple[Any, dict[str, str], dict[str, str]]:
    """A tenant holding the table's clients and packs; the global ids of each, by table key."""
    tenant = await make_tenant("Search cases")
    service = await catalog.create_service(
        actor=tenant.owner, name="Visit", duration_minutes=30, price=50_00
    )
    clients: dict[str, str] = {}
    client_pks: dict[str, int] = {}
    for key, fields in TABLE["clients"].items():
        row = await catalog.create_client(actor=tenant.staff, **fields)
        clients[key], client_pks[key] = gid("Client", row.id), row.id
    packs: dict[str, str] = {}
    for key, fields in TABLE["packs"].items():
        custom = CustomPackSpec(
            name=fields["name"],
            metric=Metric.SESSIONS,
            price=100_00,
            items=[catalog.TemplateItemSpec(allowance=5, service_ids=[service.id])],
        )
        sale = await sell_pack(
            actor=tenant.staff, client_id=client_pks[fields["client"]], custom=custom
        )
        packs[key] = gid("Pack", sale.pack.id)
    return tenant, clients, packs


def test_the_table_is_well_formed():
    clients, packs = set(TABLE["clients"]), set(TABLE["packs"])
    assert {pack["client"] for pack in TABLE["packs"].values()} <= clients
    for case in TABLE["cases"]:
        assert set(case) == {"why", "search", "packs", "clients"}, case
        assert set(case["packs"]) <= packs and set(case["clients"]) <= clients, case
    assert len({case["search"] for case in TABLE["cases"]}) == len(TABLE["cases"])


async def test_board_and_client_search_follow_the_table(database_url):
    async with running_app(database_url) as api:
        tenant, clients, packs = await _given_the_table()
        names = {value: key for key, value in {**clients, **packs}.items()}

        async def found(query: str, field: str, text: str) -> list[str]:
            data = (await api.ok(query, {"search": text}, token=tenant.staff_token))[field]
            ids = [edge["node"]["id"] for edge in data["edges"]]
            assert data["totalCount"] == len(ids), (field, text)
            return sorted(names[node_id] for node_id in ids)

        wrong = []
        for case in TABLE["cases"]:
            got = {
                "packs": await found(PACKS, "packs", case["search"]),
                "clients": await found(CLIENTS, "clients", case["search"]),
            }
            wanted = {"packs": sorted(case["packs"]), "clients": sorted(case["clients"])}
            if got != wanted:
                wrong.append({"search": case["search"], "why": case["why"], **got})
        assert wrong == [], json.dumps(wrong, ensure_ascii=False, indent=1)


UPDATE_CLIENT = "client { id }"


async def test_editing_a_client_changes_what_finds_their_packs(database_url):
    """The client's search text is rewritten with the client: the board finds their packs by the
    new name and email, no longer by the old ones, and still by the phone left as it was."""
    async with running_app(database_url) as api:
        tenant, clients, packs = await _given_the_table()
        payload = await api.mutate(
            "updateClient",
            {"clientId": clients["zoe"], "name": "Chloé Martin", "email": "chloe@martin.fr"},
            UPDATE_CLIENT,
            token=tenant.staff_token,
        )
        assert payload["userErrors"] == []

        async def board(text: str) -> set[str]:
            data = await api.ok(PACKS, {"search": text}, token=tenant.staff_token)
            return {edge["node"]["id"] for edge in data["packs"]["edges"]}

        zoes = {packs["zoe-pilates"], packs["zoe-massage"]}
        assert await board("chloe pilates") == {packs["zoe-pilates"]}
        assert await board("chloe@martin.fr") == zoes
        assert await board("aero") == {packs["jurgen-yoga"]}
        assert await board("zoe.aero@example.com") == set()
        assert await board("0412 345 678") == zoes


async def test_a_search_of_too_many_words_is_refused(sqlite_url):
    """Every word costs a look-up of the clients: past MAX_SEARCH_WORDS different words the
    search is a clear top-level error, for the board and the clients list alike."""
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        words = [f"x{number:02d}y" for number in range(MAX_SEARCH_WORDS + 1)]
        for query in (PACKS, CLIENTS):
            body = await api.run(query, {"search": " ".join(words)}, token=tenant.staff_token)
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
            # Repeated words count once.
            allowed = " ".join(words[:MAX_SEARCH_WORDS] * 2)
            await api.ok(query, {"search": allowed}, token=tenant.staff_token)
