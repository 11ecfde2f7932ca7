"""The pack summary (SPEC §1.9) against hand-computed figures, in a business on Los Angeles time.

The summary is taken at a fixed ``NOW`` (Wed 15 Jan 2031, 10:00 in Los Angeles = 18:00 UTC), so
"today" is 15 Jan, "this month" starts 1 Jan 00:00 local, and the chart runs 17 Dec .. 15 Jan.
Ledger and event times are set directly, as the domain writes them at the real current time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from packgraph.domain.adjustments import cancel_pack
from packgraph.domain.payments import record_payment, refund_client_credit
from packgraph.domain.redemptions import delete_pack, redeem_session, unallocate_invoice_line
from packgraph.domain.reports import (
    DayRedemptions,
    MetricRedemptions,
    StatusCounts,
    pack_summary,
    unearned_value,
)
from packgraph.models import (
    Event,
    EventType,
    LedgerEntry,
    Metric,
    Pack,
    PackStatus,
    PaymentMethod,
)
from tests.domain.builders import (
    Clinic,
    add_client,
    add_template,
    build_clinic,
    sell,
    sell_sessions,
)

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2031, 1, 15, 10, 0, tzinfo=LA)
BOUGHT = datetime(2030, 12, 1, 10, 0, tzinfo=LA)


def la(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    year = 2030 if month == 12 else 2031
    return datetime(year, month, day, hour, minute, tzinfo=LA)


async def redeem_at(clinic: Clinic, pack_id: int, when: datetime) -> LedgerEntry:
    """A walk-in redemption of a massage, written at ``when``."""
    result = await redeem_session(actor=clinic.staff, pack_id=pack_id, service_id=clinic.massage.id)
    await LedgerEntry.filter(id=result.entry.id).update(created_at=when)
    return result.entry


async def pay(clinic: Clinic, pack_id: int, amount: int) -> None:
    await record_payment(actor=clinic.staff, pack_id=pack_id, amount=amount, method="CARD")


async def given_the_data_set() -> Clinic:
    """The fixed data set; the figures in the test below are computed by hand from it."""
    clinic = await build_clinic("Sunset Physio", timezone="America/Los_Angeles")

    # P1: 10 massages, $800 paid; expires tonight; 3 used (a 4th redemption was reversed today)
    p1 = (await sell(clinic, purchased_at=BOUGHT, expires_at=la(1, 15, 20))).pack
    await pay(clinic, p1.id, 800_00)
    await redeem_at(clinic, p1.id, la(1, 15, 0, 10))  # today, just after midnight
    await redeem_at(clinic, p1.id, la(1, 15, 9, 30))  # today
    await redeem_at(clinic, p1.id, la(1, 14, 23, 30))  # yesterday 23:30: already 15 Jan in UTC
    first_of_month = await redeem_at(clinic, p1.id, la(1, 1, 0, 30))
    reversal = await unallocate_invoice_line(
        actor=clinic.staff, line_id=first_of_month.invoice_line_id
    )
    await LedgerEntry.filter(id=reversal.entry.id).update(created_at=la(1, 15, 9))

    # P2: 10 massages with a $99.99 discount (final 700.01), unpaid, expires 14 Feb 23:00
    p2 = (await sell(clinic, purchased_at=BOUGHT, discount=99_99, expires_at=la(2, 14, 23))).pack
    await redeem_at(clinic, p2.id, la(12, 31, 23, 30))  # 31 Dec local = 1 Jan in UTC
    await redeem_at(clinic, p2.id, la(12, 17, 9))  # the first day of the chart
    await redeem_at(clinic, p2.id, la(12, 16, 12))  # before the chart and the month

    # P3: 5 hours (MINUTES), $500, $200 paid, expires 15 Feb 00:30 (past the 30-day window)
    hours = await add_template(
        clinic.owner,
        name="5 hours",
        metric=Metric.MINUTES,
        price=500_00,
        items=[(300, [clinic.massage])],
    )
    p3 = (await sell(clinic, template=hours, purchased_at=BOUGHT, expires_at=la(2, 15, 0, 30))).pack
    await pay(clinic, p3.id, 200_00)
    await redeem_at(clinic, p3.id, la(1, 15, 8))  # 60 minutes today

    # P4: 3 sessions ($240, paid), used up on 10 Jan
    p4 = await sell_sessions(clinic, 3, purchased_at=BOUGHT)
    await pay(clinic, p4.id, 240_00)
    for hour in (10, 11, 12):
        await redeem_at(clinic, p4.id, la(1, 10, hour))
    await Event.filter(pack_id=p4.id, type=EventType.PACK_FULLY_USED).update(
        created_at=la(1, 10, 12)
    )

    # P5: 1 session ($80, unpaid), used up on 31 Dec 23:45 local (1 Jan in UTC): last month
    p5 = await sell_sessions(clinic, 1, purchased_at=BOUGHT)
    await redeem_at(clinic, p5.id, la(12, 31, 23, 45))
    await Event.filter(pack_id=p5.id, type=EventType.PACK_FULLY_USED).update(
        created_at=la(12, 31, 23, 45)
    )

    # P6: cancelled with $100 paid (owes nothing any more)
    p6 = (await sell(clinic, purchased_at=BOUGHT)).pack
    await pay(clinic, p6.id, 100_00)
    await cancel_pack(actor=clinic.manager, pack_id=p6.id, reason="moved away")

    # P7: expired on 5 Jan (by the expiry job), unpaid: still owes $800
    p7 = (await sell(clinic, purchased_at=BOUGHT)).pack
    await Pack.filter(id=p7.id).update(status=PackStatus.EXPIRED, expires_at=la(1, 5, 10))

    # P8: past its expiry (10 Jan) but the expiry job has not run: counts as EXPIRED; paid
    p8 = (await sell(clinic, purchased_at=BOUGHT, expires_at=la(1, 10, 10))).pack
    await pay(clinic, p8.id, 800_00)

    # P9: deleted, unpaid: left out of everything
    p9 = (await sell(clinic, purchased_at=BOUGHT)).pack
    await delete_pack(actor=clinic.manager, pack_id=p9.id)

    # another business's pack and redemption: never counted here
    other = await build_clinic("Elsewhere", timezone="America/Los_Angeles")
    elsewhere = (await sell(other, purchased_at=BOUGHT)).pack
    await redeem_at(other, elsewhere.id, la(1, 15, 9))
    return clinic


async def test_the_summary_matches_the_hand_computed_figures(db):
    clinic = await given_the_data_set()

    summary = await pack_summary(actor=clinic.staff, now=NOW)

    assert summary.today == date(2031, 1, 15)
    assert summary.timezone == "America/Los_Angeles" and summary.currency == "AUD"
    # P1, P2, P3 active; P7 expired + P8 past its date; P4, P5 used up; P6 cancelled
    assert summary.counts == StatusCounts(active=3, expired=2, fully_used=2, cancelled=1)
    assert summary.counts.total == 8
    # P2 700.01 + P3 300 + P5 80 + P7 800 (P6 is cancelled, P9 deleted)
    assert summary.outstanding_balance_due == 70001 + 30000 + 8000 + 80000
    # P1 800 - 800*3//10 = 560; P2 700.01 - floor(210.003) = 490.01; P3 500 - 500*60//300 = 400
    assert summary.unearned_liability == 56000 + 49001 + 40000
    # P1 (tonight) and P2 (14 Feb 23:00); P3 expires 15 Feb 00:30, after the 30th day
    assert summary.expiring_within_30_days == 2
    # today: P1 two redemptions and one reversal, P3 60 minutes
    assert summary.units_redeemed_today == 1
    assert summary.redeemed_today == (
        MetricRedemptions(metric=Metric.SESSIONS, redemptions=1, units=1),
        MetricRedemptions(metric=Metric.MINUTES, redemptions=1, units=60),
        MetricRedemptions(metric=Metric.MONEY, redemptions=0, units=0),
    )
    # this month: P1 4 redemptions - 1 reversal, P4 3; P2's and P5's 31 Dec 23:xx are last month
    assert summary.units_redeemed_this_month == 6
    assert summary.redeemed_this_month[0] == MetricRedemptions(Metric.SESSIONS, 6, 6)
    assert summary.redeemed_this_month[1] == MetricRedemptions(Metric.MINUTES, 1, 60)
    # P4 on 10 Jan; P5's event was 31 Dec 23:45 local
    assert summary.packs_fully_used_this_month == 1

    chart = summary.redemptions_per_day
    assert len(chart) == 30
    assert (chart[0].day, chart[-1].day) == (date(2030, 12, 17), date(2031, 1, 15))
    non_zero = {
        point.day: (point.redemptions, point.sessions)
        for point in chart
        if point != zero(point.day)
    }
    assert non_zero == {
        date(2030, 12, 17): (1, 1),
        date(2030, 12, 31): (2, 2),
        date(2031, 1, 1): (1, 1),  # reversed on 15 Jan: the reversal counts on 15 Jan
        date(2031, 1, 10): (3, 3),
        date(2031, 1, 14): (1, 1),
        date(2031, 1, 15): (2, 1),  # 2 sessions - 1 reversal + 1 MINUTES redemption
    }


def zero(day: date) -> DayRedemptions:
    return DayRedemptions(day=day, redemptions=0, sessions=0)


async def test_an_empty_business_has_zeros_and_a_full_chart(db):
    clinic = await build_clinic(timezone="Australia/Sydney")

    summary = await pack_summary(actor=clinic.integration, now=NOW)

    assert summary.today == date(2031, 1, 16)  # 10:00 in Los Angeles is 05:00 tomorrow in Sydney
    assert summary.counts == StatusCounts()
    assert (summary.outstanding_balance_due, summary.unearned_liability) == (0, 0)
    assert summary.client_credit == 0
    assert (summary.units_redeemed_today, summary.packs_fully_used_this_month) == (0, 0)
    assert [point.day for point in summary.redemptions_per_day] == [
        date(2031, 1, 16) - timedelta(days=n) for n in range(29, -1, -1)
    ]
    assert all(point == zero(point.day) for point in summary.redemptions_per_day)
    assert [row.metric for row in summary.redeemed_this_month] == list(Metric)


async def test_client_credit_held_sums_each_client_s_latest_balance(db):
    # given two clients with credit: Ana 300.00 from a deleted paid pack, then 100.00 refunded;
    # Bruno 50.00 from another; a third client never had any
    clinic = await build_clinic()
    bruno = await add_client(clinic.owner, "Bruno Costa")
    await add_client(clinic.owner, "Chloé Martin")
    ana_pack = (await sell(clinic)).pack
    await pay(clinic, ana_pack.id, 300_00)
    await delete_pack(actor=clinic.manager, pack_id=ana_pack.id)
    await refund_client_credit(
        actor=clinic.manager,
        client_id=clinic.client.id,
        amount=100_00,
        method=PaymentMethod.CASH,
        reason="asked for part back",
    )
    bruno_pack = (await sell(clinic, client=bruno)).pack
    await pay(clinic, bruno_pack.id, 50_00)
    await delete_pack(actor=clinic.manager, pack_id=bruno_pack.id)

    # then the report holds 200.00 + 50.00 for them
    summary = await pack_summary(actor=clinic.staff)
    assert summary.client_credit == 250_00


def test_unearned_value_rounds_the_value_used_down():
    assert unearned_value(final_price=100_00, used=1, allowance=3) == 6667  # 66.666.. up
    assert unearned_value(final_price=100_00, used=3, allowance=3) == 0
    assert unearned_value(final_price=100_00, used=0, allowance=3) == 100_00
    assert unearned_value(final_price=0, used=1, allowance=3) == 0
