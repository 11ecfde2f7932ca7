"""One visit, one charge through the API (SPEC §6.1): changeAppointmentService and
changeInvoiceLineService re-price and re-allocate the visit's line; a MONEY pack covers part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packgraph.domain import catalog as catalog_domain
from packgraph.domain.appointments import check_in_appointment, create_appointment
from packgraph.models import Metric, Role
from tests.api.support import event_types, gid, given_catalog, given_pack, make_tenant, running_app

PAYLOAD = (
    "appointment { service { name } chosenPack { id } } "
    "invoice { total balanceDue } "
    "invoiceLine { description amount unitPrice units uncoveredAmount sessionNumber "
    "pack { id } } "
    "pack { id totals { used } } releasedPack { id totals { used } } "
    "entry { kind quantity } creditEntry { amount }"
)


async def _charged_visit(tenant, catalog, service):
    booked = await create_appointment(
        actor=tenant.staff,
        client_id=catalog.client.id,
        service_id=service.id,
        starts_at=datetime.now(UTC) - timedelta(hours=1),
    )
    return await check_in_appointment(actor=tenant.staff, appointment_id=booked.appointment.id)


async def test_a_visit_for_the_wrong_service_is_changed_and_charged_once(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        charged = await _charged_visit(tenant, catalog, catalog.physio)

        changed = await api.mutate(
            "changeAppointmentService",
            {
                "appointmentId": gid("Appointment", charged.appointment.id),
                "serviceId": gid("Service", catalog.massage.id),
                "packId": gid("Pack", sale.pack.id),
            },
            PAYLOAD,
            token=tenant.staff_token,
        )
        types = await event_types(tenant.business.id)

    pack_id = gid("Pack", sale.pack.id)
    assert changed["userErrors"] == []
    assert changed["appointment"] == {
        "service": {"name": "Massage 60"},
        "chosenPack": {"id": pack_id},
    }
    assert changed["invoiceLine"] == {
        "description": "Massage 60",
        "amount": 0,
        "unitPrice": 0,
        "units": 1,
        "uncoveredAmount": 0,
        "sessionNumber": 1,
        "pack": {"id": pack_id},
    }
    # today's invoice holds the pack's sale (800.00) and the visit, now charged nothing more
    assert changed["invoice"] == {"total": 800_00, "balanceDue": 800_00}
    assert changed["pack"] == {"id": pack_id, "totals": {"used": 1}}
    assert changed["releasedPack"] is None and changed["creditEntry"] is None
    assert changed["entry"] == {"kind": "REDEMPTION", "quantity": 1}
    assert types[-2:] == ["SESSION_REDEEMED", "SERVICE_CHANGED"]


async def test_a_walk_in_line_changes_service_and_a_money_pack_covers_part(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        card = await catalog_domain.create_pack_template(
            actor=tenant.owner,
            name="$50 card",
            metric=Metric.MONEY,
            price=50_00,
            items=[
                catalog_domain.TemplateItemSpec(
                    allowance=50_00, service_ids=[catalog.massage.id, catalog.physio.id]
                )
            ],
        )
        sale = await given_pack(tenant, catalog, template_id=card.id)
        charged = await _charged_visit(tenant, catalog, catalog.physio)
        assert charged.pack.id == sale.pack.id  # 50.00 of the 80.00 physio

        # the line shows what the card paid and what is still charged
        line = await api.ok(
            "query($id: ID!) { node(id: $id) { ... on InvoiceLine { amount units "
            "uncoveredAmount } } }",
            {"id": gid("InvoiceLine", charged.line.id)},
            token=tenant.staff_token,
        )
        assert line["node"] == {"amount": 30_00, "units": 50_00, "uncoveredAmount": 30_00}

        # changed to the massage (90.00): the card pays its 50.00 again, 40.00 is charged
        changed = await api.mutate(
            "changeInvoiceLineService",
            {
                "lineId": gid("InvoiceLine", charged.line.id),
                "serviceId": gid("Service", catalog.massage.id),
            },
            PAYLOAD,
            token=tenant.staff_token,
        )
        # a voided line deducts nothing: it keeps its price, and nothing is left "uncovered"
        voided = await api.mutate(
            "voidInvoiceLine",
            {"lineId": gid("InvoiceLine", charged.line.id), "reason": "entered twice"},
            "invoiceLine { amount units uncoveredAmount isVoid }",
            token=tenant.manager_token,
        )
    assert changed["userErrors"] == []
    assert voided["invoiceLine"] == {
        "amount": 40_00,
        "units": 0,
        "uncoveredAmount": 0,
        "isVoid": True,
    }
    assert changed["invoiceLine"]["amount"] == 40_00
    assert changed["invoiceLine"]["uncoveredAmount"] == 40_00
    assert changed["invoiceLine"]["units"] == 50_00
    assert changed["appointment"]["service"] == {"name": "Massage 60"}


async def test_refusals_are_user_errors_and_other_tenants_see_nothing(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        charged = await _charged_visit(tenant, catalog, catalog.massage)
        other = await make_tenant("Elsewhere")
        appointment = gid("Appointment", charged.appointment.id)

        async def change(service_id, token, **extra):
            payload = await api.mutate(
                "changeAppointmentService",
                {"appointmentId": appointment, "serviceId": service_id, **extra},
                "appointment { id }",
                token=token,
            )
            return [error["code"] for error in payload["userErrors"]]

        same = await change(gid("Service", catalog.massage.id), tenant.staff_token)
        physio = gid("Service", catalog.physio.id)
        elsewhere = await change(physio, other.staff_token)
        by_key = await change(physio, tenant.tokens[Role.INTEGRATION])
        wrong_type = await change(gid("Pack", 1), tenant.staff_token)
        unchanged = await event_types(tenant.business.id)

    assert same == ["INVALID_INPUT"]
    assert elsewhere == ["NOT_FOUND"]
    assert by_key == ["PERMISSION_DENIED"]
    assert wrong_type == ["NOT_FOUND"]
    assert unchanged == []  # the visit was charged without a pack; no refusal wrote an event
