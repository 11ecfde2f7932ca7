"""Selling, appointments and redemptions through the API: payload, database state, event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packgraph.models import (
    Appointment,
    AppointmentStatus,
    InvoiceLine,
    LedgerEntry,
    LineKind,
    Pack,
    PackItem,
)
from tests.api.support import (
    event_types,
    gid,
    given_catalog,
    given_pack,
    make_tenant,
    pk,
    running_app,
)

PACK = "id name status totals { used allowance } items { used remaining }"


async def test_sell_pack_creates_the_pack_and_its_invoice_line(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        payload = await api.mutate(
            "sellPack",
            {
                "clientId": gid("Client", catalog.client.id),
                "templateId": gid("PackTemplate", catalog.ten_massages.id),
                "discount": 5000,
                "useFirstSession": True,
            },
            f"pack {{ {PACK} finalPrice discount balanceDue }} invoice {{ number }} "
            "invoiceLine { kind amount } entry { kind sessionNumber label } replayed",
            token=tenant.staff_token,
        )
        assert payload["userErrors"] == []
        assert payload["pack"]["finalPrice"] == 75000
        assert payload["pack"]["totals"] == {"used": 1, "allowance": 10}
        assert payload["invoiceLine"] == {"kind": "PACK_SALE", "amount": 75000}
        assert payload["entry"] == {"kind": "REDEMPTION", "sessionNumber": 1, "label": "Session 1"}
        pack = await Pack.get(id=pk(payload["pack"]["id"]))
        assert (pack.final_price, pack.client_id) == (75000, catalog.client.id)
        assert await event_types(tenant.id) == ["PACK_SOLD", "SESSION_REDEEMED"]


async def test_sell_pack_custom_with_expiry_override(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        expires = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0)
        payload = await api.mutate(
            "sellPack",
            {
                "clientId": gid("Client", catalog.client.id),
                "custom": {
                    "name": "5 hours physio",
                    "metric": "MINUTES",
                    "price": 40000,
                    "items": [
                        {"allowance": 300, "serviceIds": [gid("Service", catalog.physio.id)]}
                    ],
                },
                "expiresAt": expires.isoformat(),
                "referrer": "Dr Who",
            },
            "pack { metric expiresAt referrer template { id } "
            "items { allowance services { name } } }",
            token=tenant.staff_token,
        )
    assert payload["userErrors"] == []
    assert payload["pack"]["metric"] == "MINUTES"
    assert payload["pack"]["template"] is None
    assert datetime.fromisoformat(payload["pack"]["expiresAt"]) == expires
    assert payload["pack"]["items"] == [{"allowance": 300, "services": [{"name": "Physio"}]}]


async def test_sell_pack_without_template_or_custom_is_a_user_error(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        payload = await api.mutate(
            "sellPack",
            {"clientId": gid("Client", catalog.client.id)},
            "pack { id }",
            token=tenant.staff_token,
        )
        assert payload["pack"] is None
        assert payload["userErrors"][0]["code"] == "INVALID_INPUT"
        assert payload["userErrors"][0]["field"] == ["input", "templateId"]
        assert await Pack.all().count() == 0
        assert await event_types(tenant.id) == []


async def test_appointment_lifecycle_check_in_redeems_and_cancel_gives_back(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        # given a booked appointment
        booked = await api.mutate(
            "createAppointment",
            {
                "clientId": gid("Client", catalog.client.id),
                "serviceId": gid("Service", catalog.massage.id),
                "startsAt": datetime.now(UTC).isoformat(),
            },
            "appointment { id status service { name } client { name } }",
            token=tenant.staff_token,
        )
        assert booked["userErrors"] == []
        assert booked["appointment"]["status"] == "BOOKED"
        appointment_id = booked["appointment"]["id"]
        # when the client checks in
        checked = await api.mutate(
            "checkInAppointment",
            {"appointmentId": appointment_id, "idempotencyKey": "visit-1"},
            f"appointment {{ status charge {{ sessionNumber pack {{ id }} }} }} pack {{ {PACK} }} "
            "entry { sessionNumber appointment { id } } invoiceLine { kind unitPrice } replayed",
            token=tenant.staff_token,
        )
        # then the visit used one session of the pack
        assert checked["userErrors"] == []
        assert checked["appointment"]["status"] == "ATTENDED"
        assert checked["appointment"]["charge"]["sessionNumber"] == 1
        assert checked["pack"]["totals"] == {"used": 1, "allowance": 10}
        assert checked["entry"]["appointment"]["id"] == appointment_id
        assert checked["invoiceLine"] == {"kind": "SERVICE", "unitPrice": 0}
        # and a retry with the same key changes nothing more
        again = await api.mutate(
            "checkInAppointment",
            {"appointmentId": appointment_id, "idempotencyKey": "visit-1"},
            "pack { totals { used } } replayed",
            token=tenant.staff_token,
        )
        assert again["replayed"] is True
        assert (await PackItem.get(pack_id=sale.pack.id)).used == 1
        # when it is cancelled, the session goes back
        cancelled = await api.mutate(
            "cancelAppointment",
            {"appointmentId": appointment_id},
            "appointment { status } entries { kind } packs { totals { used } }",
            token=tenant.staff_token,
        )
        assert cancelled["userErrors"] == []
        assert cancelled["appointment"]["status"] == "CANCELLED"
        assert [entry["kind"] for entry in cancelled["entries"]] == ["REVERSAL"]
        assert cancelled["packs"] == [{"totals": {"used": 0}}]
        assert (await PackItem.get(pack_id=sale.pack.id)).used == 0
        assert await event_types(tenant.id) == [
            "PACK_SOLD",
            "SESSION_REDEEMED",
            "REDEMPTION_REVERSED",
            "INVOICE_LINE_VOIDED",
        ]


async def test_no_show_deducts_nothing_by_default_and_delete_keeps_the_row(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        # given the client's billing setup names the pack
        preference = await api.mutate(
            "setClientBillingPreference",
            {"clientId": gid("Client", catalog.client.id), "packId": gid("Pack", sale.pack.id)},
            "client { preferredPack { id } preferredService { id } }",
            token=tenant.staff_token,
        )
        assert preference["client"] == {
            "preferredPack": {"id": gid("Pack", sale.pack.id)},
            "preferredService": None,
        }
        ids = []
        for _ in range(2):
            booked = await api.mutate(
                "createAppointment",
                {
                    "clientId": gid("Client", catalog.client.id),
                    "startsAt": datetime.now(UTC).isoformat(),
                },
                "appointment { id service { name } chosenPack { name } }",
                token=tenant.staff_token,
            )
            ids.append(booked["appointment"]["id"])
        # the preferred pack is chosen, and its default service booked
        assert booked["appointment"]["service"] == {"name": "Massage 60"}
        assert booked["appointment"]["chosenPack"] == {"name": "10 massages"}
        no_show = await api.mutate(
            "markNoShow",
            {"appointmentId": ids[0]},
            "appointment { status } invoiceLine { id } entry { id } pack { id }",
            token=tenant.staff_token,
        )
        assert no_show == {
            "userErrors": [],
            "appointment": {"status": "NO_SHOW"},
            "invoiceLine": None,
            "entry": None,
            "pack": None,
        }
        deleted = await api.mutate(
            "deleteAppointment",
            {"appointmentId": ids[1]},
            "appointment { deletedAt }",
            token=tenant.staff_token,
        )
        assert deleted["appointment"]["deletedAt"] is not None
        assert (await Appointment.get(id=pk(ids[0]))).status == AppointmentStatus.NO_SHOW
        assert await Appointment.filter(id=pk(ids[1]), deleted_at__isnull=False).exists()
        assert await LedgerEntry.all().count() == 0


async def test_redeem_session_walk_in(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        payload = await api.mutate(
            "redeemSession",
            {
                "packId": gid("Pack", sale.pack.id),
                "serviceId": gid("Service", catalog.massage.id),
                "quantity": 2,
            },
            f"pack {{ {PACK} }} entry {{ quantity sessionNumber staff {{ name }} }} "
            "invoiceLine { quantity pack { id } } invoice { number }",
            token=tenant.staff_token,
        )
        assert payload["userErrors"] == []
        assert payload["pack"]["items"] == [{"used": 2, "remaining": 8}]
        assert payload["entry"] == {
            "quantity": 2,
            "sessionNumber": 2,
            "staff": {"name": "Clinic Staff"},
        }
        assert (await PackItem.get(pack_id=sale.pack.id)).used == 2
        assert await event_types(tenant.id) == ["PACK_SOLD", "SESSION_REDEEMED"]


async def test_redeem_a_service_not_in_the_pack_is_refused(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        payload = await api.mutate(
            "redeemSession",
            {"packId": gid("Pack", sale.pack.id), "serviceId": gid("Service", catalog.physio.id)},
            "pack { id }",
            token=tenant.staff_token,
        )
        assert payload["userErrors"][0]["code"] == "SERVICE_NOT_IN_PACK"
        assert payload["pack"] is None
        assert await event_types(tenant.id) == ["PACK_SOLD"]


async def test_allocate_unallocate_and_move_allocations(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        first = await given_pack(tenant, catalog)
        second = await given_pack(tenant, catalog)
        redeemed = await api.mutate(
            "redeemSession",
            {"packId": gid("Pack", first.pack.id), "serviceId": gid("Service", catalog.massage.id)},
            "invoiceLine { id }",
            token=tenant.staff_token,
        )
        line_id = redeemed["invoiceLine"]["id"]
        # unallocate: the unit goes back and the line no longer names a pack
        removed = await api.mutate(
            "unallocateInvoiceLine",
            {"lineId": line_id},
            "invoiceLine { pack { id } } entry { kind } pack { totals { used } }",
            token=tenant.staff_token,
        )
        assert removed["userErrors"] == []
        assert removed["invoiceLine"]["pack"] is None
        assert removed["entry"]["kind"] == "REVERSAL"
        assert removed["pack"]["totals"]["used"] == 0
        # allocate it (to the first pack again)
        allocated = await api.mutate(
            "allocateInvoiceLine",
            {"lineId": line_id, "packId": gid("Pack", first.pack.id)},
            "invoiceLine { pack { id } sessionNumber } pack { totals { used } }",
            token=tenant.staff_token,
        )
        assert allocated["userErrors"] == []
        assert allocated["invoiceLine"]["pack"]["id"] == gid("Pack", first.pack.id)
        # allocating it twice is refused
        twice = await api.mutate(
            "allocateInvoiceLine",
            {"lineId": line_id, "packId": gid("Pack", second.pack.id)},
            "pack { id }",
            token=tenant.staff_token,
        )
        assert twice["userErrors"][0]["code"] == "ALREADY_ALLOCATED"
        # move every allocation to the second pack
        moved = await api.mutate(
            "moveAllocations",
            {"fromPackId": gid("Pack", first.pack.id), "toPackId": gid("Pack", second.pack.id)},
            "fromPack { totals { used } } toPack { totals { used } } invoiceLines { id } "
            "entries { kind }",
            token=tenant.staff_token,
        )
        assert moved["userErrors"] == []
        assert moved["fromPack"]["totals"]["used"] == 0
        assert moved["toPack"]["totals"]["used"] == 1
        assert moved["invoiceLines"] == [{"id": line_id}]
        line = await InvoiceLine.get(id=pk(line_id))
        assert (line.kind, line.pack_id) == (LineKind.SERVICE, second.pack.id)
        assert (await event_types(tenant.id))[-1] == "ALLOCATIONS_MOVED"
