"""``Pack.diagnosis`` through the API: for each AcuBliss cause, the scenario is found as exactly
that finding, its suggested fix (mutation name and input, as given) is sent back to the API, and
the finding is gone with the count right."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from packgraph.domain import catalog
from packgraph.domain.appointments import (
    check_in_appointment,
    create_appointment,
    delete_appointment,
)
from packgraph.domain.selling import sell_pack
from packgraph.models import Business, Metric, PackItem, Role
from tests.api.support import Tenant, gid, make_tenant, pk, running_app

NOW = datetime.now(UTC)
EARLY_TODAY = datetime.combine(NOW.date(), time(0, 1), UTC)

DIAGNOSIS = """
query Diagnose($id: ID!) {
  pack(id: $id) {
    totals { used }
    diagnosis {
      shownUsed expectedUsed difference countIsRight
      items { item { id } shownUsed ledgerUsed expectedUsed }
      findings {
        code message units counted visitDate
        appointment { id status }
        invoiceLine { id amount }
        item { id }
        fix { mutation input label }
      }
    }
  }
}
"""


def days_ago(days: int) -> datetime:
    return datetime.combine(NOW.date() - timedelta(days=days), time(10), UTC)


@dataclass
class Clinic:
    tenant: Tenant
    massage: Any
    long_massage: Any
    ten_massages: Any
    client: Any

    async def sell(self, **kwargs: Any) -> int:
        sale = await sell_pack(
            actor=self.tenant.staff,
            client_id=self.client.id,
            template_id=self.ten_massages.id,
            **kwargs,
        )
        return sale.pack.id

    async def book(self, starts_at: datetime, service: Any = None) -> int:
        result = await create_appointment(
            actor=self.tenant.staff,
            client_id=self.client.id,
            service_id=(service or self.massage).id,
            starts_at=starts_at,
        )
        return result.appointment.id

    async def visit(self, starts_at: datetime, service: Any = None, no_charge: bool = False):
        appointment_id = await self.book(starts_at, service)
        return await check_in_appointment(
            actor=self.tenant.staff, appointment_id=appointment_id, no_charge=no_charge
        )


async def given_clinic() -> Clinic:
    tenant = await make_tenant()
    owner = tenant.owner
    massage = await catalog.create_service(
        actor=owner, name="Massage 60", duration_minutes=60, price=90_00
    )
    long_massage = await catalog.create_service(
        actor=owner, name="Massage 90", duration_minutes=90, price=120_00
    )
    ten_massages = await catalog.create_pack_template(
        actor=owner,
        name="10 massages",
        metric=Metric.SESSIONS,
        price=800_00,
        items=[catalog.TemplateItemSpec(allowance=10, service_ids=[massage.id])],
    )
    client = await catalog.create_client(actor=owner, name="Ana Lima")
    return Clinic(tenant, massage, long_massage, ten_massages, client)


# --- the scenarios: each returns the pack ID --------------------------------------------------


async def first_session_not_deducted(clinic: Clinic) -> int:
    await clinic.visit(EARLY_TODAY)  # charged at the full price: the pack did not exist yet
    return await clinic.sell()


async def appointment_not_checked_in(clinic: Clinic) -> int:
    pack_id = await clinic.sell(purchased_at=days_ago(10))
    await clinic.book(days_ago(3))
    return pack_id


async def appointment_no_charge(clinic: Clinic) -> int:
    pack_id = await clinic.sell(purchased_at=days_ago(10))
    await clinic.visit(days_ago(3), no_charge=True)
    return pack_id


async def appointment_deleted(clinic: Clinic) -> int:
    pack_id = await clinic.sell(purchased_at=days_ago(10))
    result = await clinic.visit(days_ago(3), no_charge=True)
    await delete_appointment(actor=clinic.tenant.staff, appointment_id=result.appointment.id)
    return pack_id


async def service_not_in_pack(clinic: Clinic) -> int:
    pack_id = await clinic.sell(purchased_at=days_ago(10))
    await clinic.visit(days_ago(3), clinic.long_massage)  # 90 minutes on a 60-minute pack
    return pack_id


async def line_not_allocated(clinic: Clinic) -> int:
    await clinic.visit(days_ago(3))  # checked in before the pack was entered, backdated
    return await clinic.sell(purchased_at=days_ago(7))


async def billed_before_purchase(clinic: Clinic) -> int:
    await clinic.visit(days_ago(3))
    return await clinic.sell()


async def pack_not_paid(clinic: Clinic) -> int:
    await Business.filter(id=clinic.tenant.id).update(redemption_requires_full_payment=True)
    return await clinic.sell(purchased_at=days_ago(2))


@dataclass(frozen=True)
class Cause:
    code: str
    given: Callable[[Clinic], Awaitable[int]]
    fix: str
    before: tuple[int, int]  # (shownUsed, expectedUsed) before the fix
    after: int  # totals.used after it
    role: Role = Role.STAFF


CAUSES = [
    Cause(
        "FIRST_SESSION_NOT_DEDUCTED", first_session_not_deducted, "allocateInvoiceLine", (0, 1), 1
    ),
    Cause(
        "APPOINTMENT_NOT_CHECKED_IN", appointment_not_checked_in, "checkInAppointment", (0, 1), 1
    ),
    Cause("APPOINTMENT_NO_CHARGE", appointment_no_charge, "chargeAppointment", (0, 1), 1),
    Cause("APPOINTMENT_DELETED", appointment_deleted, "chargeAppointment", (0, 1), 1),
    Cause("SERVICE_NOT_IN_PACK", service_not_in_pack, "changeAppointmentService", (0, 0), 1),
    Cause("LINE_NOT_ALLOCATED", line_not_allocated, "allocateInvoiceLine", (0, 1), 1),
    Cause("BILLED_BEFORE_PURCHASE", billed_before_purchase, "allocateInvoiceLine", (0, 0), 1),
    Cause("PACK_NOT_PAID", pack_not_paid, "recordPayment", (0, 0), 0),
]


async def diagnose(api: Any, pack_id: int, token: str) -> dict[str, Any]:
    data = await api.ok(DIAGNOSIS, {"id": gid("Pack", pack_id)}, token=token)
    return data["pack"]


@pytest.mark.parametrize("cause", CAUSES, ids=[cause.code for cause in CAUSES])
async def test_each_cause_is_found_and_its_fix_applied_through_the_api(sqlite_url, cause):
    async with running_app(sqlite_url) as api:
        clinic = await given_clinic()
        token = clinic.tenant.tokens[cause.role]
        pack_id = await cause.given(clinic)

        # the investigation reports exactly that cause, in plain words, with its fix
        pack = await diagnose(api, pack_id, token)
        diagnosis = pack["diagnosis"]
        [finding] = diagnosis["findings"]
        assert finding["code"] == cause.code
        assert finding["message"] and not diagnosis["countIsRight"]
        assert (diagnosis["shownUsed"], diagnosis["expectedUsed"]) == cause.before
        assert diagnosis["difference"] == cause.before[1] - cause.before[0]
        fix = finding["fix"]
        assert fix["mutation"] == cause.fix and fix["label"]

        # when the fix is sent back as given
        payload = await api.mutate(fix["mutation"], fix["input"], token=token)
        assert payload["userErrors"] == []

        # then the finding is gone and the count is right
        pack = await diagnose(api, pack_id, token)
        assert pack["diagnosis"]["findings"] == []
        assert pack["diagnosis"]["countIsRight"]
        assert pack["totals"]["used"] == cause.after
        assert pack["diagnosis"]["expectedUsed"] == pack["diagnosis"]["shownUsed"] == cause.after


async def test_a_finding_names_its_visit_and_the_fix_input_uses_global_ids(sqlite_url):
    async with running_app(sqlite_url) as api:
        clinic = await given_clinic()
        charged = await clinic.visit(days_ago(3))
        pack_id = await clinic.sell(purchased_at=days_ago(7))

        pack = await diagnose(api, pack_id, clinic.tenant.staff_token)
        [item] = await PackItem.filter(pack_id=pack_id)

    [finding] = pack["diagnosis"]["findings"]
    assert finding["invoiceLine"] == {"id": gid("InvoiceLine", charged.line.id), "amount": 9000}
    assert finding["appointment"] == {
        "id": gid("Appointment", charged.appointment.id),
        "status": "ATTENDED",
    }
    assert (finding["units"], finding["counted"]) == (1, True)
    assert finding["visitDate"] == days_ago(3).date().isoformat()
    assert finding["item"] == {"id": gid("PackItem", item.id)}
    assert finding["fix"]["input"] == {
        "lineId": gid("InvoiceLine", charged.line.id),
        "packId": gid("Pack", pack_id),
    }
    assert pack["diagnosis"]["items"] == [
        {
            "item": {"id": gid("PackItem", item.id)},
            "shownUsed": 0,
            "ledgerUsed": 0,
            "expectedUsed": 1,
        }
    ]


async def test_staff_and_integrations_are_not_offered_fixes_they_cannot_apply(sqlite_url):
    async with running_app(sqlite_url) as api:
        clinic = await given_clinic()
        pack_id = await appointment_no_charge(clinic)
        await clinic.visit(days_ago(2), clinic.long_massage)

        by_staff = await diagnose(api, pack_id, clinic.tenant.staff_token)
        by_integration = await diagnose(api, pack_id, clinic.tenant.integration_token)

    def fixes(pack: dict[str, Any]) -> dict[str, str | None]:
        return {
            finding["code"]: finding["fix"] and finding["fix"]["mutation"]
            for finding in pack["diagnosis"]["findings"]
        }

    # staff may apply every fix (corrections are no longer offered); integrations only read
    assert fixes(by_staff) == {
        "APPOINTMENT_NO_CHARGE": "chargeAppointment",
        "SERVICE_NOT_IN_PACK": "changeAppointmentService",
    }
    assert fixes(by_integration) == {"APPOINTMENT_NO_CHARGE": None, "SERVICE_NOT_IN_PACK": None}


async def test_charge_appointment_refusals_are_user_errors(sqlite_url):
    async with running_app(sqlite_url) as api:
        clinic = await given_clinic()
        pack_id = await clinic.sell(purchased_at=days_ago(10))
        booked = await clinic.book(days_ago(1))
        free = await clinic.visit(days_ago(2), no_charge=True)
        token = clinic.tenant.staff_token

        refused = await api.mutate(
            "chargeAppointment",
            {"appointmentId": gid("Appointment", booked), "packId": gid("Pack", pack_id)},
            "appointment { id }",
            token=token,
        )
        charge_free = {
            "appointmentId": gid("Appointment", free.appointment.id),
            "packId": gid("Pack", pack_id),
        }
        denied = await api.mutate(
            "chargeAppointment", charge_free, token=clinic.tenant.integration_token
        )
        unknown = await api.mutate(
            "chargeAppointment", {**charge_free, "packId": gid("Pack", 999_999)}, token=token
        )

    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_STATE"]
    assert refused["appointment"] is None
    assert [e["code"] for e in denied["userErrors"]] == ["PERMISSION_DENIED"]
    assert [(e["code"], e["field"]) for e in unknown["userErrors"]] == [
        ("NOT_FOUND", ["input", "packId"])
    ]


async def test_charge_appointment_returns_the_charge(sqlite_url):
    async with running_app(sqlite_url) as api:
        clinic = await given_clinic()
        pack_id = await clinic.sell(purchased_at=days_ago(10))
        free = await clinic.visit(days_ago(2), no_charge=True)

        payload = await api.mutate(
            "chargeAppointment",
            {
                "appointmentId": gid("Appointment", free.appointment.id),
                "packId": gid("Pack", pack_id),
            },
            "appointment { status noCharge } invoiceLine { amount sessionNumber } "
            "entry { kind sessionNumber } pack { id totals { used } }",
            token=clinic.tenant.staff_token,
        )

    assert payload["userErrors"] == []
    assert payload["appointment"] == {"status": "ATTENDED", "noCharge": False}
    assert payload["invoiceLine"] == {"amount": 0, "sessionNumber": 1}
    assert payload["entry"] == {"kind": "REDEMPTION", "sessionNumber": 1}
    assert pk(payload["pack"]["id"]) == pack_id and payload["pack"]["totals"] == {"used": 1}
