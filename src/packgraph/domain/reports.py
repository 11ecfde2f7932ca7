"""The business-wide pack summary (SPEC §1.9): the Reports tiles and the redemptions chart.

Every figure is for the actor's business, leaves deleted packs out, and uses the business
timezone for "today", "this month" and days:

- ``counts``: packs per status, where an ACTIVE pack past its expiry (the expiry job has not run
  yet) already counts as EXPIRED. *Open* below means ACTIVE by that rule.
- ``outstanding_balance_due``: Σ max(0, final_price − amount_paid) over packs not cancelled.
- ``unearned_liability``: Σ over open packs of final_price × remaining / allowance (allowances
  and usage summed over the pack's items). Exact integers: per pack it is
  ``final_price − final_price × used // allowance``, i.e. the value used is rounded down and the
  remaining value up, to the minor unit, as ``refundQuote`` values a pack.
- ``client_credit``: Σ of every client's credit balance (the latest entry of each client's credit
  ledger): money the business holds for its clients, owed in services or a refund, a liability
  like ``unearned_liability`` (SPEC §6.1).
- ``expiring_within_30_days``: open packs whose expiry is after now and before the end of the
  30th day after today.
- Redemptions: REDEMPTION ledger entries, net of REVERSAL entries, each on the day it was written
  (a visit reversed the next day counts +1 on its day and −1 on the next; a moved allocation nets
  0 on the day of the move). Corrections are manual edits, not redemptions, and are left out.
  ``redemptions`` counts entries (visits, any metric); ``units`` sums their quantity in the pack's
  metric. ``units_redeemed_today`` / ``_this_month`` are SESSIONS units; ``redeemed_today`` /
  ``_this_month`` break every metric down. A day with more reversals than redemptions is
  negative.
- ``packs_fully_used_this_month``: packs with a PACK_FULLY_USED event this month that are still
  FULLY_USED.
- ``redemptions_per_day``: the last 30 days, today included, oldest first, zeros included.

Any role may read it, integrations included. It costs a fixed number of queries; the ledger rows
of the last 31 days are bucketed by local day in Python, which works the same on every backend.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import F, Q
from tortoise.functions import Count, Max, Sum

from packgraph.domain.actor import Actor
from packgraph.domain.clock import utcnow
from packgraph.models import (
    Business,
    CreditEntry,
    Event,
    EventType,
    LedgerEntry,
    LedgerKind,
    Metric,
    Pack,
    PackItem,
    PackStatus,
)

CHART_DAYS = 30
EXPIRING_DAYS = 30


@dataclass(frozen=True)
class StatusCounts:
    active: int = 0
    expired: int = 0
    fully_used: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.active + self.expired + self.fully_used + self.cancelled


@dataclass(frozen=True)
class MetricRedemptions:
    """Net redemptions of packs of one metric: entries and units."""

    metric: Metric
    redemptions: int
    units: int


@dataclass(frozen=True)
class DayRedemptions:
    day: date
    redemptions: int
    sessions: int


@dataclass(frozen=True)
class PackSummary:
    generated_at: datetime
    timezone: str
    currency: str
    today: date
    counts: StatusCounts
    outstanding_balance_due: int
    unearned_liability: int
    client_credit: int
    expiring_within_30_days: int
    units_redeemed_today: int
    units_redeemed_this_month: int
    redeemed_today: tuple[MetricRedemptions, ...]
    redeemed_this_month: tuple[MetricRedemptions, ...]
    packs_fully_used_this_month: int
    redemptions_per_day: tuple[DayRedemptions, ...]


def unearned_value(*, final_price: int, used: int, allowance: int) -> int:
    """What is still owed to the client in services: ``final_price × remaining / allowance``,
    rounded up to the minor unit (the value used is rounded down)."""
    if allowance <= 0:
        return 0
    return final_price - final_price * used // allowance


async def pack_summary(*, actor: Actor, now: datetime | None = None) -> PackSummary:
    """The summary of the actor's business at ``now`` (default: now). Read only; any role."""
    now = (now or utcnow()).astimezone(UTC)
    business = await Business.get(id=actor.business_id)
    tz = ZoneInfo(business.timezone)
    today = now.astimezone(tz).date()

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(0), tz).astimezone(UTC)

    tomorrow = start_of(today + timedelta(days=1))
    month_start = start_of(today.replace(day=1))
    chart_first_day = today - timedelta(days=CHART_DAYS - 1)
    packs = Pack.filter(business_id=actor.business_id, deleted_at__isnull=True)
    open_packs = packs.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), status=PackStatus.ACTIVE
    )

    stored = dict(await packs.annotate(n=Count("id")).group_by("status").values_list("status", "n"))
    late = await packs.filter(status=PackStatus.ACTIVE, expires_at__lte=now).count()
    counts = StatusCounts(
        active=stored.get(PackStatus.ACTIVE, 0) - late,
        expired=stored.get(PackStatus.EXPIRED, 0) + late,
        fully_used=stored.get(PackStatus.FULLY_USED, 0),
        cancelled=stored.get(PackStatus.CANCELLED, 0),
    )

    owing = (
        await packs.filter(final_price__gt=F("amount_paid"))
        .exclude(status=PackStatus.CANCELLED)
        .annotate(due=Sum(F("final_price") - F("amount_paid")))
        .values_list("due", flat=True)
    )
    outstanding = int(owing[0] or 0) if owing else 0

    usage = (
        await PackItem.filter(
            Q(pack__expires_at__isnull=True) | Q(pack__expires_at__gt=now),
            business_id=actor.business_id,
            pack__status=PackStatus.ACTIVE,
            pack__deleted_at__isnull=True,
        )
        .annotate(used_total=Sum("used"), allowance_total=Sum("allowance"))
        .group_by("pack_id", "pack__final_price")
        .values_list("pack__final_price", "used_total", "allowance_total")
    )
    liability = sum(
        unearned_value(final_price=int(price), used=int(used), allowance=int(allowance))
        for price, used, allowance in usage
    )

    latest = (
        await CreditEntry.filter(business_id=actor.business_id)
        .annotate(last=Max("id"))
        .group_by("client_id")
        .values_list("last", flat=True)
    )
    balances = await CreditEntry.filter(id__in=list(latest)).values_list("balance_after", flat=True)
    client_credit = sum(int(balance) for balance in balances)

    expiring = await open_packs.filter(
        expires_at__lt=start_of(today + timedelta(days=EXPIRING_DAYS + 1))
    ).count()

    entries = await LedgerEntry.filter(
        business_id=actor.business_id,
        kind__in=[LedgerKind.REDEMPTION, LedgerKind.REVERSAL],
        created_at__gte=min(month_start, start_of(chart_first_day)),
        created_at__lt=tomorrow,
    ).values_list("created_at", "kind", "quantity", "pack__metric")
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    per_metric_today: dict[Metric, list[int]] = defaultdict(lambda: [0, 0])
    per_metric_month: dict[Metric, list[int]] = defaultdict(lambda: [0, 0])
    for created_at, kind, quantity, metric in entries:
        day = created_at.astimezone(tz).date()
        count = 1 if kind == LedgerKind.REDEMPTION else -1
        metric = Metric(metric)
        sessions = int(quantity) if metric == Metric.SESSIONS else 0
        per_day[day][0] += count
        per_day[day][1] += sessions
        buckets = [per_metric_month] if day >= today.replace(day=1) else []
        if day == today:
            buckets.append(per_metric_today)
        for bucket in buckets:
            bucket[metric][0] += count
            bucket[metric][1] += int(quantity)

    fully_used = await (
        Event.filter(
            business_id=actor.business_id,
            type=EventType.PACK_FULLY_USED,
            created_at__gte=month_start,
            created_at__lt=tomorrow,
            pack__status=PackStatus.FULLY_USED,
            pack__deleted_at__isnull=True,
        )
        .distinct()
        .values_list("pack_id", flat=True)
    )

    def by_metric(bucket: dict[Metric, list[int]]) -> tuple[MetricRedemptions, ...]:
        """Every metric, in enum order, zeros included."""
        return tuple(
            MetricRedemptions(metric=metric, redemptions=bucket[metric][0], units=bucket[metric][1])
            for metric in Metric
        )

    return PackSummary(
        generated_at=now,
        timezone=business.timezone,
        currency=business.currency,
        today=today,
        counts=counts,
        outstanding_balance_due=outstanding,
        unearned_liability=liability,
        client_credit=client_credit,
        expiring_within_30_days=expiring,
        units_redeemed_today=per_metric_today[Metric.SESSIONS][1],
        units_redeemed_this_month=per_metric_month[Metric.SESSIONS][1],
        redeemed_today=by_metric(per_metric_today),
        redeemed_this_month=by_metric(per_metric_month),
        packs_fully_used_this_month=len(set(fully_used)),
        redemptions_per_day=tuple(
            DayRedemptions(day=day, redemptions=per_day[day][0], sessions=per_day[day][1])
            for day in (chart_first_day + timedelta(days=n) for n in range(CHART_DAYS))
        ),
    )
