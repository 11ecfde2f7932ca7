"""The pack investigation, "why is the count wrong?" (SPEC §1.8): the AcuBliss detective work done
for the user, with one finding per cause and the mutation that fixes it.

Words used below (dates are calendar days in the business timezone):

- *purchase day*: the day of ``pack.purchased_at``.
- *usable*: a moment is inside the pack's usable time when it is before ``expires_at`` and before
  ``cancelled_at`` (when they are set).
- *visit*: an invoice SERVICE line of the pack's client, or an appointment of the client. Its
  *moment* is the appointment's start (else the line's creation time); its *day* is the
  appointment's day (else the invoice's ``issued_on``).
- *uncounted line*: a SERVICE line allocated to no pack, whose appointment (if any) is not
  CANCELLED or NO_SHOW, and that was never given back: a line once allocated and then
  unallocated ("red X") or moved carries a REVERSAL entry and was removed on purpose.
- *eligible*: the service is one of an item's services. *Room*: an eligible item whose ledger
  total just before the line was charged (for a visit without a line: its moment), plus the
  visit's units, is within its allowance; the finding names the first such item (primary-key
  order, the order deduction uses). So a visit charged at the full price because the pack was
  used up at the time is not reported.

The codes, in the order findings are listed:

- ``LEDGER_MISMATCH``: an item whose stored ``used`` differs from the sum of its ledger entries.
  Must never occur. No fix; the ledger is taken as the truth for ``expectedUsed``.
- ``PACK_NOT_PAID``: the business redeems only fully paid packs and this pack is open (ACTIVE,
  not deleted, not past its expiry) and not PAID. Fix ``recordPayment`` of the balance due.
  Names no visit: the visits it blocked are reported under their own codes.
- ``FIRST_SESSION_NOT_DEDUCTED``: the first (by moment) uncounted line for an eligible service on
  the purchase day, usable and with room, when no line allocated to this pack is dated on the
  purchase day ("use first session" was not ticked). Fix ``allocateInvoiceLine``.
- ``LINE_NOT_ALLOCATED``: any other uncounted line for an eligible service dated on or after the
  purchase day, usable and with room (the pack had balance). Fix ``allocateInvoiceLine``.
- ``BILLED_BEFORE_PURCHASE``: an uncounted line for an eligible service dated in the
  ``BILLED_BEFORE_DAYS`` days before the purchase day. Fix ``allocateInvoiceLine`` (the line
  becomes ``retrospective``).
- ``SERVICE_NOT_IN_PACK``: an uncounted line dated on or after the purchase day and usable, for a
  service that is not eligible but of the same kind: its name starts with the same word as an
  eligible service's ("Massage 90" for a "Massage 60" pack), or its appointment chose this pack.
  For managers, fix ``correctPackBalance`` marking its units used with a reason naming the line
  (``[line N]``); such a correction resolves the finding. No fix for other roles.
- ``APPOINTMENT_NOT_CHECKED_IN``: a not-deleted BOOKED appointment that has started, for an
  eligible service, dated on or after the purchase day, usable and with room. Fix
  ``checkInAppointment`` (auto-allocation then picks the pack, SPEC §1.4).
- ``APPOINTMENT_NO_CHARGE``: a not-deleted ATTENDED appointment without a SERVICE line (checked in
  with "no charge"), otherwise as above. Fix ``chargeAppointment`` to this pack.
- ``APPOINTMENT_DELETED``: a deleted appointment without a SERVICE line that was ATTENDED, or
  BOOKED and has started, otherwise as above. Fix ``chargeAppointment`` to this pack. (A deleted
  appointment that was charged is judged by its line.)

``units`` is what the finding's visit would deduct. A finding is ``counted`` when the pack's own
rules would have deducted it, i.e. every visit code above except BILLED_BEFORE_PURCHASE (a pack
covers visits from its purchase day on), SERVICE_NOT_IN_PACK and a deleted appointment that was
never checked in (nothing says the client came). Per item, ``expected_used`` is the ledger total
plus the units of its counted findings, capped at the allowance: the count the pack should show,
and what it shows once every counted finding's fix is applied.

A fix is offered only when the actor may apply it (staff roles; corrections: managers and
owners) and it can succeed now: deducting fixes need the pack open (ACTIVE, not deleted, not
past its expiry), paid when the business requires it, with the units left on the item. Fix
inputs name objects with :class:`Ref`; the API turns them into global IDs.

Diagnosing costs a fixed number of queries, however many visits the client has.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from packgraph.domain.actor import STAFF_ROLES, Actor
from packgraph.domain.errors import not_found
from packgraph.domain.status import is_open, utcnow
from packgraph.domain.units import units_for
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    Business,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    LineKind,
    Metric,
    Pack,
    PackItem,
    PackItemService,
    PackStatus,
    PaymentStatus,
    Service,
)

# How far before the purchase day an uncounted visit is still reported (BILLED_BEFORE_PURCHASE).
BILLED_BEFORE_DAYS = 14
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


async def diagnose_pack(
    *, actor: Actor, pack_id: int, now: datetime | None = None
) -> PackDiagnosis:
    """Investigate a pack's count (any role, integrations included; read only).

    Unknown packs and packs of another business raise NOT_FOUND. See the module docstring for
    what each finding means and when a fix is offered.
    """
    now = now or utcnow()
    pack = await Pack.get_or_none(id=pack_id, business_id=actor.business_id)
    if pack is None:
        raise not_found("pack", "packId")
    evidence = await _Evidence.load(actor, pack)
    return _Investigation(actor, evidence, now).run()


@dataclass
class _Evidence:
    """Every row the investigation reads, each kind in one query."""

    business: Business
    pack: Pack
    items: list[PackItem]
    services_of_item: dict[int, set[int]]
    entries: list[LedgerEntry]
    invoices: dict[int, Invoice]
    lines: list[InvoiceLine]
    appointments: dict[int, Appointment]
    reversed_line_ids: set[int]
    services: dict[int, Service]

    @classmethod
    async def load(cls, actor: Actor, pack: Pack) -> _Evidence:
        business = await Business.get(id=actor.business_id)
        tz = ZoneInfo(business.timezone)
        first_day = pack.purchased_at.astimezone(tz).date() - timedelta(days=BILLED_BEFORE_DAYS)
        since = datetime.combine(first_day, time(0), tz)
        items = await PackItem.filter(pack_id=pack.id).order_by("id")
        links = await PackItemService.filter(item__pack_id=pack.id).values_list(
            "item_id", "service_id"
        )
        services_of_item: dict[int, set[int]] = defaultdict(set)
        for item_id, service_id in links:
            services_of_item[item_id].add(service_id)
        entries = await LedgerEntry.filter(pack_id=pack.id).order_by("created_at", "id")
        mine = {"business_id": actor.business_id}
        invoices = await Invoice.filter(**mine, client_id=pack.client_id, issued_on__gte=first_day)
        lines = await InvoiceLine.filter(
            **mine,
            kind=LineKind.SERVICE,
            invoice__client_id=pack.client_id,
            invoice__issued_on__gte=first_day,
        ).order_by("id")
        appointments = await Appointment.filter(
            **mine, client_id=pack.client_id, starts_at__gte=since
        ).order_by("starts_at", "id")
        line_ids = [line.id for line in lines]
        reversed_ids = set()
        if line_ids:
            reversed_ids = set(
                await LedgerEntry.filter(
                    **mine, kind=LedgerKind.REVERSAL, invoice_line_id__in=line_ids
                ).values_list("invoice_line_id", flat=True)
            )
        service_ids = {line.service_id for line in lines if line.service_id is not None}
        service_ids |= {appointment.service_id for appointment in appointments}
        service_ids |= {sid for sids in services_of_item.values() for sid in sids}
        services = await Service.filter(**mine, id__in=sorted(service_ids)) if service_ids else []
        return cls(
            business=business,
            pack=pack,
            items=list(items),
            services_of_item=dict(services_of_item),
            entries=list(entries),
            invoices={invoice.id: invoice for invoice in invoices},
            lines=list(lines),
            appointments={appointment.id: appointment for appointment in appointments},
            reversed_line_ids=reversed_ids,
            services={service.id: service for service in services},
        )


@dataclass(frozen=True)
class _Visit:
    moment: datetime
    day: date
    service: Service
    quantity: int
    appointment: Appointment | None
    line: InvoiceLine | None

    @property
    def charged_at(self) -> datetime:
        """When the pack had to have room for it: when it was charged, else when it happened."""
        return self.line.created_at if self.line is not None else self.moment


class _Investigation:
    """Turns the evidence into findings (no queries)."""

    def __init__(self, actor: Actor, evidence: _Evidence, now: datetime) -> None:
        self.actor = actor
        self.evidence = evidence
        self.pack = evidence.pack
        self.now = now
        self.tz = ZoneInfo(evidence.business.timezone)
        self.currency = evidence.business.currency
        self.purchase_day = self.pack.purchased_at.astimezone(self.tz).date()
        self.ledger_used: dict[int, int] = defaultdict(int)
        for entry in evidence.entries:
            self.ledger_used[entry.item_id] += entry.quantity
        self.open_now = is_open(self.pack, now)
        self.may_write = actor.role in STAFF_ROLES
        self.findings: list[Finding] = []

    def run(self) -> PackDiagnosis:
        self._check_ledger()
        self._check_payment()
        visit_findings: list[tuple[datetime, int, Finding]] = []
        visit_findings += self._check_lines()
        visit_findings += self._check_appointments()
        visit_findings.sort(key=lambda row: (row[0], row[1]))
        self.findings += [finding for _, _, finding in visit_findings]
        counted: dict[int, int] = defaultdict(int)
        for finding in self.findings:
            if finding.counted and finding.item is not None:
                counted[finding.item.id] += finding.units
        items = tuple(
            ItemDiagnosis(
                item=item,
                shown_used=item.used,
                ledger_used=self.ledger_used[item.id],
                expected_used=max(
                    0, min(item.allowance, self.ledger_used[item.id] + counted[item.id])
                ),
            )
            for item in self.evidence.items
        )
        return PackDiagnosis(pack=self.pack, items=items, findings=tuple(self.findings))

    # --- pack-level findings ----------------------------------------------------------------

    def _check_ledger(self) -> None:
        for item in self.evidence.items:
            total = self.ledger_used[item.id]
            if item.used == total:
                continue
            self.findings.append(
                Finding(
                    code=FindingCode.LEDGER_MISMATCH,
                    message=f"The count stored for {self._item_words(item)} ({item.used}) does "
                    f"not match its history ({total}). This should never happen: please "
                    "report it. The history is taken as correct.",
                    item=item,
                )
            )

    def _check_payment(self) -> None:
        pack = self.pack
        if not self.evidence.business.redemption_requires_full_payment:
            return
        if pack.payment_status == PaymentStatus.PAID or not self.open_now:
            return
        due = max(0, pack.final_price - pack.amount_paid)
        fix = None
        if self.may_write and due > 0:
            fix = Fix(
                mutation="recordPayment",
                input={
                    "packId": Ref("Pack", pack.id),
                    "amount": due,
                    "method": DEFAULT_PAYMENT_METHOD,
                },
                label=f"Record a payment of {self._money(due)}",
            )
        self.findings.append(
            Finding(
                code=FindingCode.PACK_NOT_PAID,
                message=f"This pack is not fully paid: {self._money(pack.amount_paid)} of "
                f"{self._money(pack.final_price)} received, {self._money(due)} still owing. "
                "Your business only deducts visits from fully paid packs, so until it is paid "
                "visits are charged at the full price instead.",
                fix=fix,
            )
        )

    # --- visits ------------------------------------------------------------------------------

    def _line_visit(self, line: InvoiceLine) -> _Visit | None:
        service = self.evidence.services.get(line.service_id or 0)
        if service is None:
            return None
        appointment = self.evidence.appointments.get(line.appointment_id or 0)
        if appointment is not None:
            moment = appointment.starts_at
            day = moment.astimezone(self.tz).date()
        else:
            moment = line.created_at
            day = self.evidence.invoices[line.invoice_id].issued_on
        return _Visit(moment, day, service, line.quantity, appointment, line)

    def _check_lines(self) -> list[tuple[datetime, int, Finding]]:
        evidence = self.evidence
        found: list[tuple[datetime, int, Finding]] = []
        visits = [visit for line in evidence.lines if (visit := self._line_visit(line))]
        visits.sort(key=lambda visit: (visit.moment, visit.line.id))  # type: ignore[union-attr]
        first_session_done = any(
            visit.line.pack_id == self.pack.id and visit.day == self.purchase_day  # type: ignore[union-attr]
            for visit in visits
        )
        corrected = {
            int(match.group(1))
            for entry in evidence.entries
            if entry.kind == LedgerKind.CORRECTION
            for match in LINE_MARKER.finditer(entry.reason)
        }
        for visit in visits:
            line = visit.line
            assert line is not None
            if line.pack_id is not None or line.id in evidence.reversed_line_ids:
                continue
            if visit.appointment is not None and visit.appointment.status in (
                AppointmentStatus.CANCELLED,
                AppointmentStatus.NO_SHOW,
            ):
                continue
            finding: Finding | None
            if not self._eligible_items(visit.service.id):
                if line.id in corrected:
                    continue
                finding = self._not_in_pack(visit)
            elif visit.day < self.purchase_day:
                finding = self._billed_before(visit)
            else:
                code = FindingCode.LINE_NOT_ALLOCATED
                if visit.day == self.purchase_day and not first_session_done:
                    code = FindingCode.FIRST_SESSION_NOT_DEDUCTED
                finding = self._unallocated(visit, code)
                if finding is not None and code == FindingCode.FIRST_SESSION_NOT_DEDUCTED:
                    first_session_done = True
            if finding is not None:
                found.append((visit.moment, line.id, finding))
        return found

    def _check_appointments(self) -> list[tuple[datetime, int, Finding]]:
        charged = {line.appointment_id for line in self.evidence.lines if line.appointment_id}
        found: list[tuple[datetime, int, Finding]] = []
        for appointment in self.evidence.appointments.values():
            service = self.evidence.services.get(appointment.service_id)
            if appointment.id in charged or service is None:
                continue
            visit = _Visit(
                moment=appointment.starts_at,
                day=appointment.starts_at.astimezone(self.tz).date(),
                service=service,
                quantity=1,
                appointment=appointment,
                line=None,
            )
            finding = self._missed_appointment(visit)
            if finding is not None:
                found.append((visit.moment, 0, finding))
        return found

    def _unallocated(self, visit: _Visit, code: FindingCode) -> Finding | None:
        slot = self._room(visit)
        if slot is None:
            return None
        item, units = slot
        line = visit.line
        assert line is not None
        invoice = self.evidence.invoices[line.invoice_id]
        what = f"{visit.service.name} on {self._day(visit.day)} (invoice {invoice.number})"
        if code == FindingCode.FIRST_SESSION_NOT_DEDUCTED:
            message = (
                f"{what} was on the day this pack was bought, but it was not deducted from the "
                "pack: the “use first session” option was probably not ticked at the sale."
            )
        else:
            message = (
                f"{what} was charged at the full price instead of being deducted from this "
                "pack, although the pack had enough left at the time."
            )
            if visit.appointment is not None and visit.appointment.deleted_at is not None:
                message += " Its appointment was later deleted from the schedule."
        return Finding(
            code=code,
            message=message,
            units=units,
            counted=True,
            item=item,
            appointment=visit.appointment,
            line=line,
            visit_day=visit.day,
            fix=self._allocate_fix(line, item, units, "Deduct this visit from the pack"),
        )

    def _billed_before(self, visit: _Visit) -> Finding:
        line = visit.line
        assert line is not None
        item = self._eligible_items(visit.service.id)[0]
        units = units_for(metric=self.pack.metric, service=visit.service, quantity=visit.quantity)
        invoice = self.evidence.invoices[line.invoice_id]
        return Finding(
            code=FindingCode.BILLED_BEFORE_PURCHASE,
            message=f"{visit.service.name} on {self._day(visit.day)} (invoice {invoice.number}) "
            f"was billed before this pack was bought on {self._day(self.purchase_day)}, so it "
            "was not deducted. If the pack is meant to cover that visit, deduct it now.",
            units=units,
            item=item,
            appointment=visit.appointment,
            line=line,
            visit_day=visit.day,
            fix=self._allocate_fix(line, item, units, "Deduct it from this pack (backdated)"),
        )

    def _not_in_pack(self, visit: _Visit) -> Finding | None:
        line = visit.line
        assert line is not None
        if visit.day < self.purchase_day or not self._usable(visit.moment):
            return None
        item = self._same_kind_item(visit)
        if item is None:
            return None
        units = units_for(metric=self.pack.metric, service=visit.service, quantity=visit.quantity)
        invoice = self.evidence.invoices[line.invoice_id]
        names = ", ".join(self._service_names(item))
        fix = None
        if (
            self.actor.is_manager
            and self.pack.status != PackStatus.CANCELLED
            and self.pack.deleted_at is None
            and 0 < units <= item.allowance - item.used
        ):
            fix = Fix(
                mutation="correctPackBalance",
                input={
                    "packId": Ref("Pack", self.pack.id),
                    "itemId": Ref("PackItem", item.id),
                    "delta": -units,
                    "reason": f"{visit.service.name} on {self._day(visit.day)} (invoice "
                    f"{invoice.number}) counted as {names} [line {line.id}]",
                },
                label=f"Mark {self._units(units)} used (manager)",
            )
        return Finding(
            code=FindingCode.SERVICE_NOT_IN_PACK,
            message=f"{visit.service.name} on {self._day(visit.day)} (invoice {invoice.number}) "
            f"was not deducted because it is not one of this pack's services ({names}). If it "
            "was meant to count, a manager can mark it as used.",
            units=units,
            item=item,
            appointment=visit.appointment,
            line=line,
            visit_day=visit.day,
            fix=fix,
        )

    def _missed_appointment(self, visit: _Visit) -> Finding | None:
        appointment = visit.appointment
        assert appointment is not None
        deleted = appointment.deleted_at is not None
        happened = appointment.status == AppointmentStatus.ATTENDED or (
            appointment.status == AppointmentStatus.BOOKED and appointment.starts_at <= self.now
        )
        if not happened or visit.day < self.purchase_day:
            return None
        slot = self._room(visit)
        if slot is None:
            return None
        item, units = slot
        local = appointment.starts_at.astimezone(self.tz)
        what = f"The {visit.service.name} appointment on {self._day(visit.day)} at {local:%H:%M}"
        charge = Fix(
            mutation="chargeAppointment",
            input={"appointmentId": Ref("Appointment", appointment.id), "packId": self._pack_ref},
            label="Charge this visit to the pack",
        )
        if deleted:
            code = FindingCode.APPOINTMENT_DELETED
            counted = appointment.status == AppointmentStatus.ATTENDED
            if counted:
                message = (
                    f"{what} was attended and then deleted from the schedule, so the visit was "
                    "never deducted from this pack."
                )
            else:
                message = (
                    f"{what} was deleted from the schedule without being checked in, so "
                    "nothing was deducted. If the client came, charge the visit to this pack."
                )
            fix = self._deducting_fix(item, units, charge)
        elif appointment.status == AppointmentStatus.BOOKED:
            code, counted = FindingCode.APPOINTMENT_NOT_CHECKED_IN, True
            message = (
                f"{what} was never checked in, so nothing was charged or deducted. If the "
                "client came, check them in; if not, mark it as a no-show or cancel it."
            )
            fix = None
            if self.may_write:
                fix = Fix(
                    mutation="checkInAppointment",
                    input={"appointmentId": Ref("Appointment", appointment.id)},
                    label="Check in this appointment",
                )
        else:
            code, counted = FindingCode.APPOINTMENT_NO_CHARGE, True
            message = (
                f"{what} was checked in with “no charge”, so it was not deducted from this pack."
            )
            fix = self._deducting_fix(item, units, charge)
        return Finding(
            code=code,
            message=message,
            units=units,
            counted=counted,
            item=item,
            appointment=appointment,
            visit_day=visit.day,
            fix=fix,
        )

    # --- helpers -----------------------------------------------------------------------------

    @property
    def _pack_ref(self) -> Ref:
        return Ref("Pack", self.pack.id)

    def _eligible_items(self, service_id: int) -> list[PackItem]:
        return [
            item
            for item in self.evidence.items
            if service_id in self.evidence.services_of_item.get(item.id, set())
        ]

    def _usable(self, moment: datetime) -> bool:
        pack = self.pack
        if pack.expires_at is not None and moment >= pack.expires_at:
            return False
        return pack.cancelled_at is None or moment < pack.cancelled_at

    def _room(self, visit: _Visit) -> tuple[PackItem, int] | None:
        """The item a visit would have used, and its units; None when the pack was not usable
        at the visit's moment or no eligible item had room when it was charged."""
        if not self._usable(visit.moment):
            return None
        units = units_for(metric=self.pack.metric, service=visit.service, quantity=visit.quantity)
        if units <= 0:
            return None
        for item in self._eligible_items(visit.service.id):
            before = sum(
                entry.quantity
                for entry in self.evidence.entries
                if entry.item_id == item.id and entry.created_at < visit.charged_at
            )
            if before + units <= item.allowance:
                return item, units
        return None

    def _deducting_fix(self, item: PackItem, units: int, fix: Fix) -> Fix | None:
        """``fix`` when it can deduct ``units`` from ``item`` now (PACK_NOT_PAID's fix comes
        first when the business redeems only paid packs)."""
        unpaid = (
            self.evidence.business.redemption_requires_full_payment
            and self.pack.payment_status != PaymentStatus.PAID
        )
        if self.may_write and self.open_now and not unpaid and units <= item.allowance - item.used:
            return fix
        return None

    def _allocate_fix(
        self, line: InvoiceLine, item: PackItem, units: int, label: str
    ) -> Fix | None:
        fix = Fix(
            mutation="allocateInvoiceLine",
            input={"lineId": Ref("InvoiceLine", line.id), "packId": self._pack_ref},
            label=label,
        )
        return self._deducting_fix(item, units, fix)

    def _same_kind_item(self, visit: _Visit) -> PackItem | None:
        """The item a non-eligible service was probably meant for, or None when it is unrelated."""
        kind = _kind(visit.service.name)
        for item in self.evidence.items:
            if kind and kind in {_kind(name) for name in self._service_names(item)}:
                return item
        chosen = visit.appointment.chosen_pack_id if visit.appointment else None
        if chosen == self.pack.id and self.evidence.items:
            return self.evidence.items[0]
        return None

    def _service_names(self, item: PackItem) -> list[str]:
        services = self.evidence.services
        ids = sorted(self.evidence.services_of_item.get(item.id, set()))
        return [services[sid].name for sid in ids if sid in services]

    def _item_words(self, item: PackItem) -> str:
        if len(self.evidence.items) == 1:
            return "this pack"
        return "the " + " / ".join(self._service_names(item)) + " allowance"

    def _units(self, units: int) -> str:
        metric = self.pack.metric
        if metric == Metric.SESSIONS:
            return f"{units} session" + ("" if units == 1 else "s")
        if metric == Metric.MINUTES:
            return f"{units} minutes"
        return self._money(units)

    def _money(self, amount: int) -> str:
        sign = "-" if amount < 0 else ""
        amount = abs(amount)
        return f"{sign}{amount // 100}.{amount % 100:02d} {self.currency}"

    @staticmethod
    def _day(day: date) -> str:
        return f"{day:%a} {day.day} {day:%b %Y}"


def _kind(name: str) -> str:
    """The first word of a service name, lower case: "Massage 60" -> "massage"."""
    match = re.match(r"\s*([^\W\d_]+)", name)
    return match.group(1).lower() if match else ""
