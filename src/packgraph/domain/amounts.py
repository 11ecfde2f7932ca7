"""Amounts as people read them in messages: money in the business's currency, a pack's units in
its metric. Storage and the API keep integer minor units; only words for people come from here.

Money is formatted by Babel (CLDR data) in the ``en`` locale, whose symbols say which currency
they are ("A$300.00", "€12.50", "¥1,500"), with the currency's own number of minor digits.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.models import Business, Metric

MESSAGE_LOCALE = "en"


def money_text(minor: int, currency: str) -> str:
    """``30000`` AUD -> "A$300.00"; ``1500`` JPY -> "¥1,500"."""
    digits = get_currency_precision(currency)
    return format_currency(Decimal(minor).scaleb(-digits), currency, locale=MESSAGE_LOCALE)


async def currency_of(conn: BaseDBAsyncClient | None, business_id: int) -> str:
    """The business's currency: one read, for messages (not for hot paths)."""
    business = await Business.get(id=business_id).using_db(conn)
    return business.currency


def units_text(units: int, metric: Metric, currency: str) -> str:
    """A quantity of a pack's metric: "3 sessions", "90 minutes", "A$120.00"."""
    if metric == Metric.SESSIONS:
        return f"{units} session" + ("" if units == 1 else "s")
    if metric == Metric.MINUTES:
        return f"{units} minutes"
    return money_text(units, currency)
