"""Pack repairs, payments, notes and tasks through the API: payload, database state, event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packgraph.domain.adjustments import change_pack_expiry
from packgraph.domain.redemptions import redeem_session
from packgraph.models import Pack, PackItem, PackNote, Payment, Task
from tests.api.support import (
    event_types,
    gid,
    given_catalog,
    given_pack,
    make_tenant,
    pk,
    running_app,
)


async def test_correct_pack_balance_logs_the_reason(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        item = await PackItem.get(pack_id=sale.pack.id)
        payload = await api.mutate(
            "correctPackBalance",
            {
                "packId": gid("Pack", sale.pack.id),
                "itemId": gid("PackItem", item.id),
                "delta": -3,
                "reason": "paper card sessions",
            },
            "pack { totals { used } history { edges { node { label kind staff { name } } } } } "
            "item { used } entry { quantity reason }",
            token=tenant.manager_token,
        )
        assert payload["userErrors"] == []
        assert payload["item"] == {"used": 3}
        assert payload["entry"] == {"quantity": 3, "reason": "paper card sessions"}
        assert payload["pack"]["history"]["edges"] == [
            {
                "node": {
                    "label": "Correction: paper card sessions",
                    "kind": "CORRECTION",
                    "staff": {"name": "Clinic Manager"},
                }
            }
        ]
        assert (await PackItem.get(id=item.id)).used == 3
        assert await event_types(tenant.id) == ["PACK_SOLD", "PACK_CORRECTED"]


async def test_correcting_beyond_the_balance_changes_nothing(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        item = await PackItem.get(pack_id=sale.pack.id)
        payload = await api.mutate(
            "correctPackBalance",
            {
                "packId": gid("Pack", sale.pack.id),
                "itemId": gid("PackItem", item.id),
                "delta": -11,
                "reason": "x",
            },
            "pack { id }",
            token=tenant.owner_token,
        )
        assert payload["userErrors"][0]["code"] == "INSUFFICIENT_BALANCE"
        assert (await PackItem.get(id=item.id)).used == 0
        assert await event_types(tenant.id) == ["PACK_SOLD"]


async def test_change_and_remove_pack_expiry(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
        changed = await api.mutate(
            "changePackExpiry",
            {"packId": gid("Pack", sale.pack.id), "expiresAt": expires.isoformat()},
            "pack { expiresAt status } note { id }",
            token=tenant.manager_token,
        )
        assert changed["userErrors"] == []
        assert datetime.fromisoformat(changed["pack"]["expiresAt"]) == expires
        assert changed["note"] is None
        removed = await api.mutate(
            "changePackExpiry",
            {"packId": gid("Pack", sale.pack.id), "expiresAt": None},
            "pack { expiresAt }",
            token=tenant.manager_token,
        )
        assert removed["pack"]["expiresAt"] is None
        assert (await Pack.get(id=sale.pack.id)).expires_at is None
        assert await event_types(tenant.id) == ["PACK_SOLD", "EXPIRY_CHANGED", "EXPIRY_CHANGED"]


async def test_restoring_an_expired_pack_needs_a_reason(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(
            tenant, catalog, purchased_at=datetime.now(UTC) - timedelta(days=60)
        )
        await change_pack_expiry(
            actor=tenant.manager,
            pack_id=sale.pack.id,
            expires_at=datetime.now(UTC) - timedelta(days=1),
        )
        assert (await Pack.get(id=sale.pack.id)).status == "EXPIRED"
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        refused = await api.mutate(
            "changePackExpiry",
            {"packId": gid("Pack", sale.pack.id), "expiresAt": later},
            "pack { id }",
            token=tenant.manager_token,
        )
        assert refused["userErrors"][0]["code"] == "REASON_REQUIRED"
        restored = await api.mutate(
            "changePackExpiry",
            {"packId": gid("Pack", sale.pack.id), "expiresAt": later, "reason": "was on leave"},
            "pack { status } note { text }",
            token=tenant.manager_token,
        )
        assert restored["userErrors"] == []
        assert restored["pack"]["status"] == "ACTIVE"
        assert "was on leave" in restored["note"]["text"]


async def test_cancel_pack_with_a_refund(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        paid = await api.mutate(
            "recordPayment",
            {"packId": gid("Pack", sale.pack.id), "amount": 40000, "method": "CARD"},
            "pack { refundQuote }",
            token=tenant.staff_token,
        )
        assert paid["pack"]["refundQuote"] == 40000
        payload = await api.mutate(
            "cancelPack",
            {
                "packId": gid("Pack", sale.pack.id),
                "reason": "moved away",
                "refund": 30000,
                "method": "BANK_TRANSFER",
            },
            "pack { status cancelReason amountPaid balanceDue isOpen } "
            "refund { amount isRefund method reason }",
            token=tenant.owner_token,
        )
        assert payload["userErrors"] == []
        assert payload["pack"] == {
            "status": "CANCELLED",
            "cancelReason": "moved away",
            "amountPaid": 10000,
            "balanceDue": 0,
            "isOpen": False,
        }
        assert payload["refund"] == {
            "amount": -30000,
            "isRefund": True,
            "method": "BANK_TRANSFER",
            "reason": "moved away",
        }
        assert await Payment.filter(pack_id=sale.pack.id, amount=-30000).exists()
        assert (await event_types(tenant.id))[-3:] == [
            "PACK_CANCELLED",
            "PAYMENT_REFUNDED",
            "INVOICE_LINE_VOIDED",
        ]


async def test_delete_pack_refuses_while_allocated_then_deletes(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        redemption = await redeem_session(
            actor=tenant.staff, pack_id=sale.pack.id, service_id=catalog.massage.id
        )
        refused = await api.mutate(
            "deletePack",
            {"packId": gid("Pack", sale.pack.id)},
            "pack { id }",
            token=tenant.manager_token,
        )
        assert refused["userErrors"][0]["code"] == "PACK_HAS_INVOICES"
        assert redemption.invoice.number in refused["userErrors"][0]["message"]
        await api.mutate(
            "unallocateInvoiceLine",
            {"lineId": gid("InvoiceLine", redemption.line.id)},
            "",
            token=tenant.staff_token,
        )
        deleted = await api.mutate(
            "deletePack",
            {"packId": gid("Pack", sale.pack.id)},
            "deletedPackId pack { deletedAt }",
            token=tenant.manager_token,
        )
        assert deleted["userErrors"] == []
        assert deleted["deletedPackId"] == gid("Pack", sale.pack.id)
        assert deleted["pack"]["deletedAt"] is not None
        board = await api.ok("{ packs { totalCount } }", token=tenant.staff_token)
        assert board["packs"]["totalCount"] == 0
        assert (await event_types(tenant.id))[-2:] == ["PACK_DELETED", "INVOICE_LINE_VOIDED"]
        # Nothing stays owed for the deleted pack: its sale line is void; the invoice charges
        # only the visit, unallocated and so charged at the service price.
        invoice = await api.ok(
            "query($id: ID!) { node(id: $id) { ... on Invoice { total balanceDue status "
            "lines { kind amount chargedAmount isVoid voidReason } } } }",
            {"id": gid("Invoice", sale.invoice.id)},
            token=tenant.staff_token,
        )
        assert invoice["node"]["total"] == invoice["node"]["balanceDue"] == catalog.massage.price
        assert invoice["node"]["status"] == "ISSUED"
        assert invoice["node"]["lines"][0] == {
            "kind": "PACK_SALE",
            "amount": sale.line.amount,
            "chargedAmount": 0,
            "isVoid": True,
            "voidReason": "Pack deleted",
        }


async def test_record_payment_partial_then_paid_and_overpayment_refused(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        selection = "payment { amount method staff { name } } pack { paymentStatus balanceDue }"
        statuses = []
        for amount in (30000, 50000):
            payload = await api.mutate(
                "recordPayment",
                {"packId": gid("Pack", sale.pack.id), "amount": amount, "method": "CASH"},
                selection,
                token=tenant.staff_token,
            )
            assert payload["userErrors"] == []
            statuses.append((payload["pack"]["paymentStatus"], payload["pack"]["balanceDue"]))
        assert statuses == [("PARTIAL", 50000), ("PAID", 0)]
        assert payload["payment"] == {
            "amount": 50000,
            "method": "CASH",
            "staff": {"name": "Clinic Staff"},
        }
        over = await api.mutate(
            "recordPayment",
            {"packId": gid("Pack", sale.pack.id), "amount": 1, "method": "CASH"},
            "payment { id }",
            token=tenant.staff_token,
        )
        assert over["userErrors"][0]["code"] == "OVERPAYMENT"
        assert await Payment.filter(pack_id=sale.pack.id).count() == 2
        assert await event_types(tenant.id) == ["PACK_SOLD", "PAYMENT_RECORDED", "PAYMENT_RECORDED"]


async def test_refund_payment_is_a_managers_act_with_a_reason(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        pack_id = gid("Pack", sale.pack.id)
        await api.mutate(
            "recordPayment",
            {"packId": pack_id, "amount": 80000, "method": "CARD", "idempotencyKey": "k1"},
            "payment { id }",
            token=tenant.staff_token,
        )
        # a retried payment (the same key) is recorded once
        again = await api.mutate(
            "recordPayment",
            {"packId": pack_id, "amount": 80000, "method": "CARD", "idempotencyKey": "k1"},
            "replayed pack { amountPaid }",
            token=tenant.staff_token,
        )
        assert again == {"userErrors": [], "replayed": True, "pack": {"amountPaid": 80000}}
        # a negative payment is no longer a refund, and staff cannot refund
        negative = await api.mutate(
            "recordPayment",
            {"packId": pack_id, "amount": -100, "method": "CARD"},
            "payment { id }",
            token=tenant.owner_token,
        )
        assert [(e["code"], e["field"]) for e in negative["userErrors"]] == [
            ("INVALID_INPUT", ["input", "amount"])
        ]
        refund = {"packId": pack_id, "amount": 20000, "method": "CASH", "reason": "goodwill"}
        by_staff = await api.mutate(
            "refundPayment", refund, "payment { id }", token=tenant.staff_token
        )
        assert by_staff["userErrors"][0]["code"] == "PERMISSION_DENIED"
        # a payment method outside the enum is refused by the schema
        bad = await api.run(
            "mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { replayed } }",
            {"input": {**refund, "method": "REFUND"}},
            token=tenant.manager_token,
        )
        assert "PaymentMethod" in bad["errors"][0]["message"]

        payload = await api.mutate(
            "refundPayment",
            refund,
            "payment { amount method reason isRefund } pack { amountPaid paymentStatus }",
            token=tenant.manager_token,
        )
        assert payload == {
            "userErrors": [],
            "payment": {"amount": -20000, "method": "CASH", "reason": "goodwill", "isRefund": True},
            "pack": {"amountPaid": 60000, "paymentStatus": "PARTIAL"},
        }
        too_much = await api.mutate(
            "refundPayment", {**refund, "amount": 60001}, "payment { id }", token=tenant.owner_token
        )
        assert too_much["userErrors"][0]["code"] == "REFUND_TOO_LARGE"
        assert await event_types(tenant.id) == ["PACK_SOLD", "PAYMENT_RECORDED", "PAYMENT_REFUNDED"]


async def test_add_pack_note(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        payload = await api.mutate(
            "addPackNote",
            {"packId": gid("Pack", sale.pack.id), "text": "prefers mornings"},
            "note { text staff { name } } pack { notes { text } }",
            token=tenant.staff_token,
        )
        assert payload["userErrors"] == []
        assert payload["note"] == {"text": "prefers mornings", "staff": {"name": "Clinic Staff"}}
        assert payload["pack"]["notes"] == [{"text": "prefers mornings"}]
        assert await PackNote.filter(pack_id=sale.pack.id).count() == 1
        assert (await event_types(tenant.id))[-1] == "NOTE_ADDED"


async def test_complete_task(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        item = await PackItem.get(pack_id=sale.pack.id)
        # given the pack is used up (a task is raised)
        await api.mutate(
            "correctPackBalance",
            {
                "packId": gid("Pack", sale.pack.id),
                "itemId": gid("PackItem", item.id),
                "delta": -10,
                "reason": "used elsewhere",
            },
            "",
            token=tenant.manager_token,
        )
        open_tasks = await api.ok(
            "{ tasks(open: true) { totalCount edges { node { id kind pack { status } } } } }",
            token=tenant.staff_token,
        )
        assert open_tasks["tasks"]["totalCount"] == 1
        task = open_tasks["tasks"]["edges"][0]["node"]
        assert (task["kind"], task["pack"]["status"]) == ("PACK_USED_UP", "FULLY_USED")
        payload = await api.mutate(
            "completeTask",
            {"taskId": task["id"]},
            "task { isOpen doneAt doneBy { name } }",
            token=tenant.staff_token,
        )
        assert payload["userErrors"] == []
        assert payload["task"]["isOpen"] is False
        assert payload["task"]["doneBy"] == {"name": "Clinic Staff"}
        assert (await Task.get(id=pk(task["id"]))).done_at is not None
        remaining = await api.ok("{ tasks(open: true) { totalCount } }", token=tenant.staff_token)
        assert remaining["tasks"]["totalCount"] == 0
