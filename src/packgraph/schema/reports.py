"""The ``packSummary`` report: the dashboard's Reports tiles and its redemptions chart.

The root area (:class:`ReportQueries`) is composed into ``Query`` by :mod:`packgraph.schema.root`;
the report is read through :mod:`packgraph.resolvers.reports`.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from packgraph.domain import reports as domain
from packgraph.resolvers import reports as report_resolvers
from packgraph.resolvers.context import Info
from packgraph.schema.enums import Metric


@strawberry.type(description="How many packs are in each status (deleted packs left out).")
class PackStatusCounts:
    active: int = strawberry.field(description="Open packs.")
    expired: int = strawberry.field(
        description="Expired packs, including active ones already past their expiry."
    )
    fully_used: int = strawberry.field(description="Packs with every unit used.")
    cancelled: int = strawberry.field(description="Cancelled packs.")
    total: int = strawberry.field(description="All of them.")


@strawberry.type(
    description="Redemptions of packs of one metric, net of reversals (entries and units)."
)
class MetricRedemptions:
    metric: Metric = strawberry.field(description="The packs' metric.")  # type: ignore[valid-type]
    redemptions: int = strawberry.field(
        description="Redemptions (visits) minus reversals, whatever their size."
    )
    units: int = strawberry.field(
        description="Units redeemed minus units given back, in the metric (minutes, minor units "
        "of money, sessions)."
    )


@strawberry.type(description="One day of the redemptions chart (business timezone).")
class DailyRedemptions:
    day: date = strawberry.field(name="date", description="The day.")
    redemptions: int = strawberry.field(
        description="Redemptions minus reversals written that day, every metric."
    )
    sessions: int = strawberry.field(description="SESSIONS units redeemed minus given back.")


@strawberry.type(
    description="The business's packs at a glance. Money is Int minor units of `currency`; "
    "days and months are in the business timezone; redemptions are net of reversals, counted on "
    "the day each entry was written; deleted packs are left out."
)
class PackSummary:
    generated_at: datetime = strawberry.field(description="When the figures were computed.")
    timezone: str = strawberry.field(description="The business timezone the days are in.")
    currency: str = strawberry.field(description="ISO 4217 code of the money figures.")
    today: date = strawberry.field(description="Today in the business timezone.")
    counts_by_status: PackStatusCounts = strawberry.field(description="Packs per status.")
    outstanding_balance_due: int = strawberry.field(
        description="Σ max(0, finalPrice − amountPaid) over packs not cancelled."
    )
    unearned_liability: int = strawberry.field(
        description="Σ over open packs of finalPrice × remaining / allowance: services still "
        "owed to clients. Per pack the value used is rounded down to the minor unit (as "
        "`refundQuote`), so the remaining value is rounded up."
    )
    client_credit: int = strawberry.field(
        description="Σ of every client's credit balance: money the business holds for its "
        "clients (owed in services or a refund), a liability like `unearnedLiability`."
    )
    expiring_within_30_days: int = strawberry.field(
        description="Open packs expiring after now and by the end of the 30th day from today."
    )
    units_redeemed_today: int = strawberry.field(
        description="SESSIONS units redeemed today, net of reversals (see `redeemedToday` for "
        "the other metrics)."
    )
    units_redeemed_this_month: int = strawberry.field(
        description="SESSIONS units redeemed this calendar month, net of reversals."
    )
    redeemed_today: list[MetricRedemptions] = strawberry.field(
        description="Today's redemptions per metric (every metric, zeros included)."
    )
    redeemed_this_month: list[MetricRedemptions] = strawberry.field(
        description="This month's redemptions per metric (every metric, zeros included)."
    )
    packs_fully_used_this_month: int = strawberry.field(
        description="Packs used up this month (a PACK_FULLY_USED event) that are still used up."
    )
    redemptions_per_day: list[DailyRedemptions] = strawberry.field(
        description="The last 30 days, oldest first, today last, days without redemptions as "
        "zeros: the chart."
    )

    @classmethod
    def from_domain(cls, summary: domain.PackSummary) -> PackSummary:
        counts = summary.counts

        def metrics(rows: tuple[domain.MetricRedemptions, ...]) -> list[MetricRedemptions]:
            return [
                MetricRedemptions(metric=row.metric, redemptions=row.redemptions, units=row.units)
                for row in rows
            ]

        return cls(
            generated_at=summary.generated_at,
            timezone=summary.timezone,
            currency=summary.currency,
            today=summary.today,
            counts_by_status=PackStatusCounts(
                active=counts.active,
                expired=counts.expired,
                fully_used=counts.fully_used,
                cancelled=counts.cancelled,
                total=counts.total,
            ),
            outstanding_balance_due=summary.outstanding_balance_due,
            unearned_liability=summary.unearned_liability,
            client_credit=summary.client_credit,
            expiring_within_30_days=summary.expiring_within_30_days,
            units_redeemed_today=summary.units_redeemed_today,
            units_redeemed_this_month=summary.units_redeemed_this_month,
            redeemed_today=metrics(summary.redeemed_today),
            redeemed_this_month=metrics(summary.redeemed_this_month),
            packs_fully_used_this_month=summary.packs_fully_used_this_month,
            redemptions_per_day=[
                DailyRedemptions(
                    day=point.day, redemptions=point.redemptions, sessions=point.sessions
                )
                for point in summary.redemptions_per_day
            ],
        )


@strawberry.type(description="Reports.")
class ReportQueries:
    @strawberry.field(
        description="The business's packs at a glance: counts, money owed and unearned, expiries "
        "and redemptions (the Reports view). Any role may read it, integrations included."
    )
    async def pack_summary(self, info: Info) -> PackSummary:
        return PackSummary.from_domain(await report_resolvers.summary(info))


QUERY_AREAS: list[type] = [ReportQueries]
