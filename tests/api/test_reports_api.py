"""``packSummary`` through the API: its shape for the Reports view, read by every role.

The figures themselves are checked against hand-computed values in tests/domain/test_reports.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from packgraph.domain.payments import record_payment
from packgraph.domain.redemptions import redeem_session
from packgraph.models import Business, Role
from tests.api.support import given_catalog, given_pack, make_tenant, running_app

SUMMARY = """
{
  packSummary {
    generatedAt timezone currency today
    countsByStatus { active expired fullyUsed cancelled total }
    outstandingBalanceDue unearnedLiability expiringWithin30Days
    unitsRedeemedToday unitsRedeemedThisMonth packsFullyUsedThisMonth
    redeemedToday { metric redemptions units }
    redeemedThisMonth { metric redemptions units }
    redemptionsPerDay { date redemptions sessions }
  }
}
"""


@pytest.mark.parametrize("role", [Role.STAFF, Role.INTEGRATION])
async def test_every_role_reads_the_summary_of_its_own_business(sqlite_url, role):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant("Sunset Physio")
        await Business.filter(id=tenant.id).update(timezone="Australia/Sydney")
        catalog = await given_catalog(tenant)
        pack = (await given_pack(tenant, catalog, discount=100_00)).pack
        await record_payment(actor=tenant.staff, pack_id=pack.id, amount=200_00, method="CARD")
        await redeem_session(actor=tenant.staff, pack_id=pack.id, service_id=catalog.massage.id)
        other = await make_tenant("Elsewhere")
        other_catalog = await given_catalog(other)
        await given_pack(other, other_catalog)

        summary = (await api.ok(SUMMARY, token=tenant.tokens[role]))["packSummary"]

    today = datetime.now(UTC).astimezone(ZoneInfo("Australia/Sydney")).date().isoformat()
    assert (summary["timezone"], summary["currency"], summary["today"]) == (
        "Australia/Sydney",
        "AUD",
        today,
    )
    assert summary["countsByStatus"] == {
        "active": 1,
        "expired": 0,
        "fullyUsed": 0,
        "cancelled": 0,
        "total": 1,
    }
    assert summary["outstandingBalanceDue"] == 700_00 - 200_00
    assert summary["unearnedLiability"] == 700_00 - 700_00 * 1 // 10
    assert summary["expiringWithin30Days"] == 0
    assert (summary["unitsRedeemedToday"], summary["unitsRedeemedThisMonth"]) == (1, 1)
    assert summary["packsFullyUsedThisMonth"] == 0
    assert summary["redeemedToday"] == [
        {"metric": "SESSIONS", "redemptions": 1, "units": 1},
        {"metric": "MINUTES", "redemptions": 0, "units": 0},
        {"metric": "MONEY", "redemptions": 0, "units": 0},
    ]
    chart = summary["redemptionsPerDay"]
    assert len(chart) == 30
    assert chart[-1] == {"date": today, "redemptions": 1, "sessions": 1}
    assert all(point["redemptions"] == 0 for point in chart[:-1])


async def test_the_summary_needs_authentication(sqlite_url):
    async with running_app(sqlite_url) as api:
        body = await api.run(SUMMARY)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
