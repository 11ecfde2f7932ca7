"""The rules of the investigation: evidence in, findings out, without a query.

The codes, their order and when a fix is offered are described in the package docstring
(:mod:`packgraph.domain.diagnosis`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from packgraph.domain.actor import STAFF_ROLES, Actor
from packgraph.domain.amounts import money_text, units_text
from packgraph.domain.diagnosis.evidence import Evidence, Visit
from packgraph.domain.diagnosis.findings import (
    DEFAULT_PAYMENT_METHOD,
    LINE_MARKER,
    Finding,
    FindingCode,
    Fix,
    ItemDiagnosis,
    PackDiagnosis,
    Ref,
)
from packgraph.domain.diagnosis.wording import day_text, service_kind
from packgraph.domain.status import is_open
from packgraph.domain.units import units_for
from packgraph.models import (
    AppointmentStatus,
    InvoiceLine,
    LedgerKind,
    PackItem,
    PaymentStatus,
    Service,
)


class Investigation:
    """Turns the evidence into findings (no queries)."""

    def __init__(self, actor: Actor, evidence: Evidence, now: datetime) -> None:
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

    def _check_lines(self) -> list[tuple[datetime, int, Finding]]:
        evidence = self.evidence
        found: list[tuple[datetime, int, Finding]] = []
        visits = [visit for line in evidence.lines if (visit := evidence.visit_of_line(line))]
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
            if line.voided_at is not None:
                # Voided on purpose by a manager: nothing to deduct, nothing to allocate.
                continue
            if visit.appointment is not None and visit.appointment.status in (
                AppointmentStatus.CANCELLED,
                AppointmentStatus.NO_SHOW,
            ):
                continue
            finding: Finding | None
            if not self.evidence.eligible_items(visit.service.id):
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
            visit = Visit(
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

    def _unallocated(self, visit: Visit, code: FindingCode) -> Finding | None:
        slot = self.evidence.room_for(visit)
        if slot is None:
            return None
        item, units = slot
        line = visit.line
        assert line is not None
        invoice = self.evidence.invoices[line.invoice_id]
        what = f"{visit.service.name} on {day_text(visit.day)} (invoice {invoice.number})"
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

    def _billed_before(self, visit: Visit) -> Finding:
        line = visit.line
        assert line is not None
        item = self.evidence.eligible_items(visit.service.id)[0]
        units = units_for(metric=self.pack.metric, service=visit.service, quantity=visit.quantity)
        invoice = self.evidence.invoices[line.invoice_id]
        return Finding(
            code=FindingCode.BILLED_BEFORE_PURCHASE,
            message=f"{visit.service.name} on {day_text(visit.day)} (invoice {invoice.number}) "
            f"was billed before this pack was bought on {day_text(self.purchase_day)}, so it "
            "was not deducted. If the pack is meant to cover that visit, deduct it now.",
            units=units,
            item=item,
            appointment=visit.appointment,
            line=line,
            visit_day=visit.day,
            fix=self._allocate_fix(line, item, units, "Deduct it from this pack (backdated)"),
        )

    def _not_in_pack(self, visit: Visit) -> Finding | None:
        line = visit.line
        assert line is not None
        if visit.day < self.purchase_day or not self.evidence.usable_at(visit.moment):
            return None
        item = self._same_kind_item(visit)
        if item is None:
            return None
        invoice = self.evidence.invoices[line.invoice_id]
        names = ", ".join(self.evidence.service_names(item))
        what = f"{visit.service.name} on {day_text(visit.day)} (invoice {invoice.number})"
        target = self._service_for(item, visit)
        if target is None:
            units = units_for(
                metric=self.pack.metric, service=visit.service, quantity=visit.quantity
            )
            message = (
                f"{what} was not deducted because it is not one of this pack's services "
                f"({names}), and none of those can be charged any more (archived)."
            )
            fix = None
        else:
            units = units_for(metric=self.pack.metric, service=target, quantity=visit.quantity)
            message = (
                f"{what} was not deducted because it is not one of this pack's services "
                f"({names}). If the visit was a {target.name}, change its service: it is then "
                "deducted from this pack and charged once, at the pack's price."
            )
            fix = self._deducting_fix(item, units, self._change_service_fix(visit, target))
        return Finding(
            code=FindingCode.SERVICE_NOT_IN_PACK,
            message=message,
            units=units,
            item=item,
            appointment=visit.appointment,
            line=line,
            visit_day=visit.day,
            fix=fix,
        )

    def _service_for(self, item: PackItem, visit: Visit) -> Service | None:
        """The service of ``item`` the visit was probably meant to be: an active one of the same
        kind ("Massage 60" for a "Massage 90" visit), else its first active one."""
        services = self.evidence.services
        ids = sorted(self.evidence.services_of_item.get(item.id, set()))
        active = [services[sid] for sid in ids if sid in services and services[sid].active]
        kind = service_kind(visit.service.name)
        same = [service for service in active if kind and service_kind(service.name) == kind]
        return (same or active or [None])[0]

    def _change_service_fix(self, visit: Visit, service: Service) -> Fix:
        """``changeAppointmentService`` for a visit on the schedule, else the line's own."""
        line = visit.line
        assert line is not None
        label = f"Change it to {service.name} and deduct it"
        appointment = visit.appointment
        if appointment is not None and appointment.deleted_at is None:
            return Fix(
                mutation="changeAppointmentService",
                input={
                    "appointmentId": Ref("Appointment", appointment.id),
                    "serviceId": Ref("Service", service.id),
                    "packId": self._pack_ref,
                },
                label=label,
            )
        return Fix(
            mutation="changeInvoiceLineService",
            input={
                "lineId": Ref("InvoiceLine", line.id),
                "serviceId": Ref("Service", service.id),
                "packId": self._pack_ref,
            },
            label=label,
        )

    def _missed_appointment(self, visit: Visit) -> Finding | None:
        appointment = visit.appointment
        assert appointment is not None
        deleted = appointment.deleted_at is not None
        happened = appointment.status == AppointmentStatus.ATTENDED or (
            appointment.status == AppointmentStatus.BOOKED and appointment.starts_at <= self.now
        )
        if not happened or visit.day < self.purchase_day:
            return None
        slot = self.evidence.room_for(visit)
        if slot is None:
            return None
        item, units = slot
        local = appointment.starts_at.astimezone(self.tz)
        what = f"The {visit.service.name} appointment on {day_text(visit.day)} at {local:%H:%M}"
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

    def _same_kind_item(self, visit: Visit) -> PackItem | None:
        """The item a non-eligible service was probably meant for, or None when it is unrelated."""
        kind = service_kind(visit.service.name)
        for item in self.evidence.items:
            if kind and kind in {service_kind(name) for name in self.evidence.service_names(item)}:
                return item
        chosen = visit.appointment.chosen_pack_id if visit.appointment else None
        if chosen == self.pack.id and self.evidence.items:
            return self.evidence.items[0]
        return None

    def _item_words(self, item: PackItem) -> str:
        if len(self.evidence.items) == 1:
            return "this pack"
        return "the " + " / ".join(self.evidence.service_names(item)) + " allowance"

    def _units(self, units: int) -> str:
        return units_text(units, self.pack.metric, self.currency)

    def _money(self, amount: int) -> str:
        return money_text(amount, self.currency)
