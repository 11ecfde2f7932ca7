"""Every read: clients, services and templates, one pack with its history, appointments,
invoices, tasks, and node lookups, with their pagination edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packgraph.domain import catalog as catalog_domain
from packgraph.domain.appointments import check_in_appointment, create_appointment
from packgraph.domain.notes import add_pack_note
from packgraph.domain.payments import record_payment
from packgraph.domain.redemptions import redeem_session
from tests.api.support import gid, given_catalog, given_pack, make_tenant, running_app

CLIENTS = """
query Clients($search: String, $first: Int, $after: String) {
  clients(search: $search, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { name email } }
  }
}
"""


async def test_clients_by_name_with_search_and_pages(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        for name in ("Cleo", "Abe", "Dora", "Bea"):
            await catalog_domain.create_client(
                actor=tenant.owner, name=name, email=f"{name.lower()}@mail.test"
            )
        page = await api.ok(CLIENTS, {"first": 3}, token=tenant.staff_token)
        assert [edge["node"]["name"] for edge in page["clients"]["edges"]] == ["Abe", "Bea", "Cleo"]
        assert page["clients"]["pageInfo"]["hasNextPage"] is True
        rest = await api.ok(
            CLIENTS,
            {"first": 3, "after": page["clients"]["pageInfo"]["endCursor"]},
            token=tenant.staff_token,
        )
        assert [edge["node"]["name"] for edge in rest["clients"]["edges"]] == ["Dora"]
        assert rest["clients"]["pageInfo"]["hasNextPage"] is False
        found = await api.ok(CLIENTS, {"search": "BEA@"}, token=tenant.staff_token)
        assert found["clients"]["totalCount"] == 1
        none = await api.ok(CLIENTS, {"search": "zzz"}, token=tenant.staff_token)
        assert none["clients"] == {
            "totalCount": 0,
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [],
        }


async def test_client_profile_with_packs_appointments_and_invoices(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        await create_appointment(
            actor=tenant.staff,
            client_id=catalog.client.id,
            service_id=catalog.massage.id,
            starts_at=datetime.now(UTC) + timedelta(days=1),
        )
        data = await api.ok(
            """query($id: ID!) { client(id: $id) {
                 name packs { id name } appointments { status service { name } }
                 invoices { number lines { kind pack { id } } } } }""",
            {"id": gid("Client", catalog.client.id)},
            token=tenant.staff_token,
        )
        client = data["client"]
        assert client["name"] == "Ana Lima"
        assert client["packs"] == [{"id": gid("Pack", sale.pack.id), "name": "10 massages"}]
        assert client["appointments"] == [{"status": "BOOKED", "service": {"name": "Massage 60"}}]
        assert client["invoices"] == [
            {
                "number": sale.invoice.number,
                "lines": [{"kind": "PACK_SALE", "pack": {"id": gid("Pack", sale.pack.id)}}],
            }
        ]
        missing = await api.ok(
            "query($id: ID!) { client(id: $id) { name } }",
            {"id": gid("Pack", sale.pack.id)},
            token=tenant.staff_token,
        )
        assert missing == {"client": None}


async def test_pack_detail_with_history_pages_payments_notes_and_invoices(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        for _ in range(3):
            await redeem_session(
                actor=tenant.staff, pack_id=sale.pack.id, service_id=catalog.massage.id
            )
        await record_payment(actor=tenant.staff, amount=200_00, method="CARD", pack_id=sale.pack.id)
        await add_pack_note(actor=tenant.staff, pack_id=sale.pack.id, text="bring a towel")
        query = """query($id: ID!, $after: String) { pack(id: $id) {
            totals { used allowance remaining progress } refundQuote
            history(first: 2, after: $after) {
              totalCount pageInfo { hasNextPage endCursor }
              edges { node { kind sessionNumber label staff { name } invoiceLine { id } } }
            }
            payments { amount method } notes { text staff { name } }
            invoices { number }
        } }"""
        first = await api.ok(query, {"id": gid("Pack", sale.pack.id)}, token=tenant.staff_token)
        pack = first["pack"]
        assert pack["totals"] == {"used": 3, "allowance": 10, "remaining": 7, "progress": 0.3}
        # paid 200.00 of 800.00, used 3/10 worth 240.00: nothing to refund
        assert pack["refundQuote"] == 0
        assert pack["history"]["totalCount"] == 3
        assert [edge["node"]["label"] for edge in pack["history"]["edges"]] == [
            "Session 3",
            "Session 2",
        ]
        assert pack["history"]["edges"][0]["node"]["staff"] == {"name": "Clinic Staff"}
        assert pack["payments"] == [{"amount": 20000, "method": "CARD"}]
        assert pack["notes"] == [{"text": "bring a towel", "staff": {"name": "Clinic Staff"}}]
        assert len(pack["invoices"]) >= 1
        second = await api.ok(
            query,
            {"id": gid("Pack", sale.pack.id), "after": pack["history"]["pageInfo"]["endCursor"]},
            token=tenant.staff_token,
        )
        history = second["pack"]["history"]
        assert [edge["node"]["label"] for edge in history["edges"]] == ["Session 1"]
        assert history["pageInfo"]["hasNextPage"] is False


async def test_appointments_in_a_time_range_and_for_a_client(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        other = await catalog_domain.create_client(actor=tenant.owner, name="Bo")
        start = datetime(2030, 5, 1, 9, tzinfo=UTC)
        for hours, client in ((0, catalog.client), (2, other), (26, catalog.client)):
            await create_appointment(
                actor=tenant.staff,
                client_id=client.id,
                service_id=catalog.massage.id,
                starts_at=start + timedelta(hours=hours),
            )
        query = """query($from: DateTime, $to: DateTime, $clientId: ID, $first: Int) {
            appointments(from: $from, to: $to, clientId: $clientId, first: $first) {
              totalCount pageInfo { hasNextPage } edges { node { startsAt client { name } } } } }"""
        day = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
        today = await api.ok(query, day, token=tenant.staff_token)
        assert [e["node"]["client"]["name"] for e in today["appointments"]["edges"]] == [
            "Ana Lima",
            "Bo",
        ]
        ana = await api.ok(
            query, {"clientId": gid("Client", catalog.client.id)}, token=tenant.staff_token
        )
        assert ana["appointments"]["totalCount"] == 2
        one = await api.ok(query, {"first": 1}, token=tenant.staff_token)
        assert one["appointments"]["pageInfo"]["hasNextPage"] is True


async def test_invoices_and_one_invoice_with_lines_and_payments(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        visit = await create_appointment(
            actor=tenant.staff,
            client_id=catalog.client.id,
            service_id=catalog.massage.id,
            starts_at=datetime.now(UTC),
        )
        charged = await check_in_appointment(
            actor=tenant.staff, appointment_id=visit.appointment.id
        )
        await record_payment(
            actor=tenant.staff, amount=800_00, method="CARD", invoice_id=sale.invoice.id
        )
        listed = await api.ok(
            "query($c: ID) { invoices(clientId: $c) { totalCount edges { node { number } } } }",
            {"c": gid("Client", catalog.client.id)},
            token=tenant.staff_token,
        )
        # the visit was charged on the client's invoice of the day: the sale's
        assert charged.invoice.id == sale.invoice.id
        assert listed["invoices"]["totalCount"] == 1
        numbers = [edge["node"]["number"] for edge in listed["invoices"]["edges"]]
        assert numbers == [sale.invoice.number]
        data = await api.ok(
            """query($id: ID!) { invoice(id: $id) { number total amountPaid balanceDue currency
                 client { name } payments { amount } lines { kind amount pack { name } } } }""",
            {"id": gid("Invoice", sale.invoice.id)},
            token=tenant.staff_token,
        )
        assert data["invoice"] == {
            "number": sale.invoice.number,
            "total": 80000,
            "amountPaid": 80000,
            "balanceDue": 0,
            "currency": "AUD",
            "client": {"name": "Ana Lima"},
            "payments": [{"amount": 80000}],
            "lines": [
                {"kind": "PACK_SALE", "amount": 80000, "pack": {"name": "10 massages"}},
                {"kind": "SERVICE", "amount": 0, "pack": {"name": "10 massages"}},
            ],
        }
        visit_line = await api.ok(
            "query($id: ID!) { node(id: $id) { ... on InvoiceLine { sessionNumber "
            "appointment { status } pack { name } } } }",
            {"id": gid("InvoiceLine", charged.line.id)},
            token=tenant.staff_token,
        )
        assert visit_line["node"] == {
            "sessionNumber": 1,
            "appointment": {"status": "ATTENDED"},
            "pack": {"name": "10 massages"},
        }


async def test_services_templates_and_nodes(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        data = await api.ok(
            """{ services { name durationMinutes price }
                 packTemplates { name metric price defaultService { name }
                                 items { allowance services { name } } } }""",
            token=tenant.staff_token,
        )
        assert data["services"] == [
            {"name": "Massage 60", "durationMinutes": 60, "price": 9000},
            {"name": "Physio", "durationMinutes": 45, "price": 8000},
        ]
        assert data["packTemplates"] == [
            {
                "name": "10 massages",
                "metric": "SESSIONS",
                "price": 80000,
                "defaultService": {"name": "Massage 60"},
                "items": [{"allowance": 10, "services": [{"name": "Massage 60"}]}],
            }
        ]
        ids = [
            gid("Service", catalog.physio.id),
            gid("Client", catalog.client.id),
            "not-an-id",
            gid("Service", 999),
        ]
        nodes = await api.ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            {"ids": ids},
            token=tenant.staff_token,
        )
        assert nodes["nodes"] == [
            {"__typename": "Service", "id": ids[0]},
            {"__typename": "Client", "id": ids[1]},
            None,
            None,
        ]
        business = await api.ok(
            "query($id: ID!) { node(id: $id) { ... on Business { name } } }",
            {"id": gid("Business", tenant.id)},
            token=tenant.staff_token,
        )
        assert business["node"] == {"name": "Clinic"}
