"""The main front-desk flow on both database backends, through the real app."""

from __future__ import annotations

from datetime import UTC, datetime

from packgraph.domain import auth
from packgraph.models import Role
from tests.api.support import event_types, gid, given_catalog, make_tenant, running_app


async def test_front_desk_flow_on_both_backends(database_url):
    async with running_app(database_url) as api:
        tenant = await make_tenant("Harbour")
        await auth.create_staff(
            business_id=tenant.id,
            name="Rita",
            email="rita@harbour.test",
            role=Role.STAFF,
            password="front-desk",
        )
        catalog = await given_catalog(tenant)
        # log in
        login = await api.mutate(
            "login",
            {"email": "rita@harbour.test", "password": "front-desk"},
            "token",
            token="",
        )
        token = login["token"]
        # sell a pack, book and check in a visit, take a payment
        sold = await api.mutate(
            "sellPack",
            {
                "clientId": gid("Client", catalog.client.id),
                "templateId": gid("PackTemplate", catalog.ten_massages.id),
            },
            "pack { id }",
            token=token,
        )
        pack_id = sold["pack"]["id"]
        booked = await api.mutate(
            "createAppointment",
            {
                "clientId": gid("Client", catalog.client.id),
                "serviceId": gid("Service", catalog.massage.id),
                "startsAt": datetime.now(UTC).isoformat(),
                "chosenPackId": pack_id,
            },
            "appointment { id }",
            token=token,
        )
        checked = await api.mutate(
            "checkInAppointment",
            {"appointmentId": booked["appointment"]["id"]},
            "pack { totals { used } } entry { sessionNumber }",
            token=token,
        )
        assert checked["userErrors"] == []
        assert checked["pack"]["totals"]["used"] == 1
        paid = await api.mutate(
            "recordPayment",
            {"packId": pack_id, "amount": 40000, "method": "CARD"},
            "pack { paymentStatus balanceDue }",
            token=token,
        )
        assert paid["pack"] == {"paymentStatus": "PARTIAL", "balanceDue": 40000}
        # the board and the detail show it
        board = await api.ok(
            """{ packs(filter: {status: [ACTIVE], hasBalanceDue: true}, orderBy: EXPIRES_AT_ASC) {
                 totalCount edges { node { id client { name } items { used remaining } } } } }""",
            token=token,
        )
        assert board["packs"]["totalCount"] == 1
        assert board["packs"]["edges"][0]["node"]["items"] == [{"used": 1, "remaining": 9}]
        detail = await api.ok(
            "query($id: ID!) { pack(id: $id) { history { edges { node { label "
            "appointment { status } } } } } }",
            {"id": pack_id},
            token=token,
        )
        assert detail["pack"]["history"]["edges"] == [
            {"node": {"label": "Session 1", "appointment": {"status": "ATTENDED"}}}
        ]
        assert await event_types(tenant.id) == [
            "PACK_SOLD",
            "SESSION_REDEEMED",
            "PAYMENT_RECORDED",
        ]
