"""What an investigation answers: the findings, their fixes and the counts per item."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from packgraph.models import Appointment, InvoiceLine, Pack, PackItem

# The payment method a PACK_NOT_PAID fix proposes; the dashboard lets the user change it.
DEFAULT_PAYMENT_METHOD = "CARD"
# A correction whose reason carries this marker accounts for that line (SERVICE_NOT_IN_PACK).
LINE_MARKER = re.compile(r"\[line (\d+)\]")


class FindingCode(StrEnum):
    LEDGER_MISMATCH = "LEDGER_MISMATCH"
    PACK_NOT_PAID = "PACK_NOT_PAID"
    FIRST_SESSION_NOT_DEDUCTED = "FIRST_SESSION_NOT_DEDUCTED"
    APPOINTMENT_NOT_CHECKED_IN = "APPOINTMENT_NOT_CHECKED_IN"
    APPOINTMENT_NO_CHARGE = "APPOINTMENT_NO_CHARGE"
    APPOINTMENT_DELETED = "APPOINTMENT_DELETED"
    LINE_NOT_ALLOCATED = "LINE_NOT_ALLOCATED"
    BILLED_BEFORE_PURCHASE = "BILLED_BEFORE_PURCHASE"
    SERVICE_NOT_IN_PACK = "SERVICE_NOT_IN_PACK"


@dataclass(frozen=True)
class Ref:
    """An object named in a fix's input, e.g. ``Ref("InvoiceLine", 12)``."""

    type_name: str
    id: int


@dataclass(frozen=True)
class Fix:
    """The mutation (GraphQL name) and input that fix a finding, and a button label."""

    mutation: str
    input: dict[str, Any]
    label: str


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    message: str
    units: int = 0
    counted: bool = False
    item: PackItem | None = None
    appointment: Appointment | None = None
    line: InvoiceLine | None = None
    visit_day: date | None = None
    fix: Fix | None = None


@dataclass(frozen=True)
class ItemDiagnosis:
    item: PackItem
    shown_used: int
    ledger_used: int
    expected_used: int


@dataclass(frozen=True)
class PackDiagnosis:
    """The count the pack shows, the count it should show, and why they differ."""

    pack: Pack
    items: tuple[ItemDiagnosis, ...]
    findings: tuple[Finding, ...]

    @property
    def shown_used(self) -> int:
        return sum(item.shown_used for item in self.items)

    @property
    def expected_used(self) -> int:
        return sum(item.expected_used for item in self.items)
