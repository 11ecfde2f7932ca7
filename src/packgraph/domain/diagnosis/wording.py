"""How findings word amounts, units and days for the people reading them."""

from __future__ import annotations

import re
from datetime import date

from packgraph.models import Metric


def money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}{amount // 100}.{amount % 100:02d} {currency}"


def units_text(units: int, metric: Metric, currency: str) -> str:
    if metric == Metric.SESSIONS:
        return f"{units} session" + ("" if units == 1 else "s")
    if metric == Metric.MINUTES:
        return f"{units} minutes"
    return money(units, currency)


def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def service_kind(name: str) -> str:
    """The first word of a service name, lower case: "Massage 60" -> "massage"."""
    match = re.match(r"\s*([^\W\d_]+)", name)
    return match.group(1).lower() if match else ""
