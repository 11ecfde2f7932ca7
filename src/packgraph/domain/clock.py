"""Time as the domain reads it: now in UTC, and calendar days in a business's timezone.

Time is stored in UTC; "today", "this month" and expiry dates are counted on the business's
calendar (SPEC §1). Every module takes its "now", its local dates and its calendar arithmetic
from here.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from packgraph.domain.errors import invalid


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of ``moment`` in the business timezone."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def validity_end(
    purchased_at: datetime, *, days: int | None, months: int | None, timezone: str
) -> datetime | None:
    """When a pack bought at ``purchased_at`` expires, counted on the business's calendar."""
    if days is None and months is None:
        return None
    try:
        local = purchased_at.astimezone(ZoneInfo(timezone))
        if days is not None:
            end_day = local.date() + timedelta(days=days)
        else:
            end_day = add_months(local.date(), months or 0)
        end = datetime.combine(end_day, local.timetz().replace(tzinfo=None), ZoneInfo(timezone))
        return end.astimezone(purchased_at.tzinfo)
    except (OverflowError, ValueError):
        # A purchase near the end of the calendar (year 9999) has no representable expiry.
        raise invalid("the pack would expire after the year 9999", "purchasedAt") from None
