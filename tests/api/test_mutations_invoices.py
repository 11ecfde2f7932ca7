"""Voiding invoice lines and invoices through the API: payload, invoice status, errors, events."""

from __future__ import annotations

from packgraph.domain.invoices import add_service_line
from packgraph.domain.redemptions import redeem_session
from tests.api.support import event_types, gid, given_catalog, given_pack, make_tenant, running_app

INVOICE = (
    "invoice { number status total amountPaid balanceDue voidReason voidedBy { name } "
    "lines { kind amount chargedAmount voidedAmount isVoid voidReason } }"
)


async def test_a_manager_voids_a_line_and_the_invoice_follows(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        visit = await redeem_session(
            actor=tenant.staff, pack_id=sale.pack.id, service_id=catalog.massage.id
        )
        line_id = gid("InvoiceLine", visit.line.id)

        refused = await api.mutate(
            "voidInvoiceLine",
            {"lineId": line_id, "reason": "not here"},
            "invoiceLine { id }",
            token=tenant.staff_token,
        )
        assert refused["userErrors"][0]["code"] == "PERMISSION_DENIED"
        blank = await api.mutate(
            "voidInvoiceLine",
            {"lineId": line_id, "reason": " "},
            "invoiceLine { id }",
            token=tenant.manager_token,
        )
        assert [(e["code"], e["field"]) for e in blank["userErrors"]] == [
            ("REASON_REQUIRED", ["input", "reason"])
        ]
        sale_line = await api.mutate(
            "voidInvoiceLine",
            {"lineId": gid("InvoiceLine", sale.line.id), "reason": "mistake"},
            "invoiceLine { id }",
            token=tenant.manager_token,
        )
        assert sale_line["userErrors"][0]["code"] == "INVALID_STATE"

        voided = await api.mutate(
            "voidInvoiceLine",
            {"lineId": line_id, "reason": "client was not here"},
            f"invoiceLine {{ isVoid chargedAmount voidReason voidedBy {{ name }} }} "
            f"pack {{ totals {{ used }} }} entry {{ kind reason }} {INVOICE}",
            token=tenant.manager_token,
        )

        assert voided["userErrors"] == []
        assert voided["invoiceLine"] == {
            "isVoid": True,
            "chargedAmount": 0,
            "voidReason": "client was not here",
            "voidedBy": {"name": "Clinic Manager"},
        }
        assert voided["pack"] == {"totals": {"used": 0}}
        assert voided["entry"] == {"kind": "REVERSAL", "reason": "Line voided: client was not here"}
        invoice = voided["invoice"]
        assert (invoice["status"], invoice["total"]) == ("ISSUED", sale.line.amount)
        assert [line["isVoid"] for line in invoice["lines"]] == [False, True]
        assert (await event_types(tenant.id))[-2:] == ["REDEMPTION_REVERSED", "INVOICE_LINE_VOIDED"]

        again = await api.mutate(
            "voidInvoiceLine",
            {"lineId": line_id, "reason": "twice"},
            "invoiceLine { id }",
            token=tenant.manager_token,
        )
        assert again["userErrors"][0]["code"] == "INVOICE_VOID"


async def test_an_owner_voids_an_unpaid_invoice_and_it_takes_no_payment(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        charge = await add_service_line(
            actor=tenant.staff, client_id=catalog.client.id, service_id=catalog.physio.id
        )
        invoice_id = gid("Invoice", charge.invoice.id)

        voided = await api.mutate(
            "voidInvoice",
            {"invoiceId": invoice_id, "reason": "wrong client"},
            f"{INVOICE} invoiceLines {{ isVoid }} packs {{ id }}",
            token=tenant.owner_token,
        )

        assert voided["userErrors"] == []
        assert voided["invoice"]["status"] == "VOID"
        assert voided["invoice"]["voidReason"] == "wrong client"
        assert voided["invoice"]["voidedBy"] == {"name": "Clinic Owner"}
        assert (voided["invoice"]["total"], voided["invoice"]["balanceDue"]) == (0, 0)
        assert voided["invoiceLines"] == [{"isVoid": True}]
        assert voided["packs"] == []
        assert (await event_types(tenant.id))[-1] == "INVOICE_VOIDED"
        payment = await api.mutate(
            "recordPayment",
            {"invoiceId": invoice_id, "amount": 100, "method": "CASH"},
            "payment { id }",
            token=tenant.staff_token,
        )
        assert payment["userErrors"][0]["code"] == "INVOICE_VOID"
        assert payment["userErrors"][0]["field"] == ["input", "invoiceId"]
