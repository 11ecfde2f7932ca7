"""How findings word days and service kinds for the people reading them (amounts: ``amounts``)."""

from __future__ import annotations

import re
from datetime import date


def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def service_kind(name: str) -> str:
    """The first word of a service name, lower case: "Massage 60" -> "massage"."""
    match = re.match(r"\s*([^\W\d_]+)", name)
    return match.group(1).lower() if match else ""
