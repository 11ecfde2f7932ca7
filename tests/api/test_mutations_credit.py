"""Client credit through the API: a paid visit allocated afterwards leaves nothing negative,
the client shows the credit, staff apply it, managers refund it, a cancellation can credit."""

from __future__ import annotations

from datetime import date

from packgraph.domain.invoices import add_service_line
from packgraph.domain.payments import record_payment
from tests.api.support import event_types, gid, given_catalog, given_pack, make_tenant, running_app

CREDIT = (
    "creditBalance creditEntries { kind amount balanceAfter method reason "
    "invoice { number } payments { amount method } staff { name } }"
)


async def _client(api, tenant, client_id: int) -> dict:
    data = await api.ok(
        f"query($id: ID!) {{ client(id: $id) {{ {CREDIT} }} }}",
        {"id": gid("Client", client_id)},
        token=tenant.staff_token,
    )
    return data["client"]


async def test_a_paid_visit_allocated_later_becomes_credit_that_pays_and_is_refunded(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        visit = await add_service_line(
            actor=tenant.staff,
            client_id=catalog.client.id,
            service_id=catalog.massage.id,
            issued_on=date(2026, 11, 30),
        )
        await record_payment(
            actor=tenant.staff, amount=90_00, method="CARD", invoice_id=visit.invoice.id
        )
        sale = await given_pack(tenant, catalog)

        # The issue's case: allocating the paid visit left its invoice at balanceDue -90.00.
        allocated = await api.mutate(
            "allocateInvoiceLine",
            {"lineId": gid("InvoiceLine", visit.line.id), "packId": gid("Pack", sale.pack.id)},
            "invoice { balanceDue status amountPaid } creditEntry { kind amount balanceAfter }",
            token=tenant.staff_token,
        )
        assert allocated["userErrors"] == []
        assert allocated["invoice"] == {"balanceDue": 0, "status": "PAID", "amountPaid": 0}
        assert allocated["creditEntry"] == {
            "kind": "CREDITED",
            "amount": 90_00,
            "balanceAfter": 90_00,
        }
        client = await _client(api, tenant, catalog.client.id)
        assert client["creditBalance"] == 90_00
        (entry,) = client["creditEntries"]
        assert entry["reason"] == "Moved to client credit: visit allocated to a pack"
        assert entry["payments"] == [{"amount": -90_00, "method": "CLIENT_CREDIT"}]

        too_much = await api.mutate(
            "applyClientCredit",
            {"invoiceId": gid("Invoice", sale.invoice.id), "amount": 90_01},
            "creditEntry { id }",
            token=tenant.staff_token,
        )
        assert [e["code"] for e in too_much["userErrors"]] == ["INSUFFICIENT_CREDIT"]
        applied = await api.mutate(
            "applyClientCredit",
            {"invoiceId": gid("Invoice", sale.invoice.id), "amount": 60_00},
            "creditEntry { kind amount balanceAfter } invoice { balanceDue } "
            "payments { amount method isRefund pack { paymentStatus amountPaid } }",
            token=tenant.staff_token,
        )
        assert applied["userErrors"] == []
        assert applied["creditEntry"] == {
            "kind": "APPLIED",
            "amount": -60_00,
            "balanceAfter": 30_00,
        }
        assert applied["invoice"] == {"balanceDue": 740_00}
        assert applied["payments"] == [
            {
                "amount": 60_00,
                "method": "CLIENT_CREDIT",
                "isRefund": False,
                "pack": {"paymentStatus": "PARTIAL", "amountPaid": 60_00},
            }
        ]

        by_staff = await api.mutate(
            "refundClientCredit",
            {
                "clientId": gid("Client", catalog.client.id),
                "amount": 10_00,
                "method": "CASH",
                "reason": "asked",
            },
            "creditEntry { id }",
            token=tenant.staff_token,
        )
        assert [e["code"] for e in by_staff["userErrors"]] == ["PERMISSION_DENIED"]
        refunded = await api.mutate(
            "refundClientCredit",
            {
                "clientId": gid("Client", catalog.client.id),
                "amount": 30_00,
                "method": "BANK_TRANSFER",
                "reason": "moving away",
            },
            "creditEntry { kind amount balanceAfter method reason staff { name } } "
            "client { creditBalance }",
            token=tenant.manager_token,
        )
        assert refunded["userErrors"] == []
        assert refunded["creditEntry"] == {
            "kind": "REFUNDED",
            "amount": -30_00,
            "balanceAfter": 0,
            "method": "BANK_TRANSFER",
            "reason": "moving away",
            "staff": {"name": "Clinic Manager"},
        }
        assert refunded["client"] == {"creditBalance": 0}
        assert (await event_types(tenant.id))[-3:] == [
            "CLIENT_CREDITED",
            "CREDIT_APPLIED",
            "CREDIT_REFUNDED",
        ]
        history = await _client(api, tenant, catalog.client.id)
        assert [e["kind"] for e in history["creditEntries"]] == ["REFUNDED", "APPLIED", "CREDITED"]


async def test_a_manager_cancels_a_paid_pack_into_credit(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        await record_payment(actor=tenant.staff, amount=800_00, method="CARD", pack_id=sale.pack.id)

        cancelled = await api.mutate(
            "cancelPack",
            {
                "packId": gid("Pack", sale.pack.id),
                "reason": "moving interstate",
                "refund": 800_00,
                "refundTo": "CLIENT_CREDIT",
            },
            "pack { status amountPaid balanceDue } refund { amount method isRefund } "
            "creditEntry { kind amount }",
            token=tenant.manager_token,
        )

        assert cancelled["userErrors"] == []
        assert cancelled["pack"] == {"status": "CANCELLED", "amountPaid": 0, "balanceDue": 0}
        assert cancelled["refund"] == {
            "amount": -800_00,
            "method": "CLIENT_CREDIT",
            "isRefund": False,
        }
        assert cancelled["creditEntry"] == {"kind": "CREDITED", "amount": 800_00}
        assert (await _client(api, tenant, catalog.client.id))["creditBalance"] == 800_00


async def test_credit_is_the_clients_business_only(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant("Alpha")
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        other = await make_tenant("Beta")
        for token in (other.owner_token, other.staff_token):
            applied = await api.mutate(
                "applyClientCredit",
                {"invoiceId": gid("Invoice", sale.invoice.id), "amount": 1},
                "creditEntry { id }",
                token=token,
            )
            assert [e["code"] for e in applied["userErrors"]] == ["NOT_FOUND"]
        refunded = await api.mutate(
            "refundClientCredit",
            {
                "clientId": gid("Client", catalog.client.id),
                "amount": 1,
                "method": "CASH",
                "reason": "x",
            },
            "creditEntry { id }",
            token=other.owner_token,
        )
        assert [e["code"] for e in refunded["userErrors"]] == ["NOT_FOUND"]
        data = await api.ok(
            "query($id: ID!) { client(id: $id) { creditBalance } }",
            {"id": gid("Client", catalog.client.id)},
            token=other.owner_token,
        )
        assert data["client"] is None
