"""Random sequences of pack operations keep every invariant (issue 3, "Exactness").

A hypothesis state machine sells packs, checks clients in, cancels visits, corrects balances,
takes payments and refunds, allocates, unallocates and moves lines, lets time pass, restores and
cancels packs, with random arguments (many of them invalid on purpose). After every step, from the
database alone:

- each item's ``used`` equals the sum of its ledger entries and stays within ``0..allowance``;
- each pack's stored status equals the §1.2 rules computed from scratch;
- each pack's ``amount_paid`` equals the sum of its payments and its badge follows §1.2;
- a successful step wrote exactly the events its changes call for (one per changed pack or
  payment, plus PACK_FULLY_USED / PACK_EXPIRED for a pack that became fully used / expired), a
  failed step wrote nothing
  and changed nothing; the outbox ``seq`` has no gaps;
- money (SPEC §6.1): no invoice or line is ever deleted; a pack's balance due equals its sale
  line's unpaid amount (what the line charges after voids, less what the pack has paid); a void
  invoice charges nothing and holds no money; a void SERVICE line deducts nothing; and the
  report's outstanding balance is the sum of what the packs' sale lines leave unpaid. Lines and
  whole invoices are voided by the rules, with deletions, cancellations and refunds voiding sales;
- client credit (SPEC §6.1): no invoice is ever paid beyond what it charges (the excess of a void
  or a retrospective allocation moves to the credit); each client's credit entries form one chain
  that never goes below zero; every CREDITED/APPLIED entry equals the CLIENT_CREDIT payments
  linked to it; and Σ invoice totals − Σ payments in money + credit refunded = Σ balances due −
  credit balance. Credit is applied and refunded by the rules, and cancellations choose credit;
- one visit, one charge (SPEC §6.1): a SERVICE line deducted from a pack charges its session
  price (plus what a MONEY pack did not cover of the service price), one not deducted charges
  the service price, and a visit has one charged line. Services of visits and lines are changed
  by the rules;
- every pack read fresh equals the pack a live dashboard holds (issue 23): after each step the
  machine "delivers" the new events as ``packEvents`` does, reading each event's pack when it is
  delivered, and every field of every pack (``version`` and ``updated_at`` included) and of its
  items must equal what its latest event delivered. A change without an event, such as a version
  raised silently by a payment that did not reach the pack, fails here.

On SQLite and PostgreSQL. The concurrency of the conditional updates is proven on PostgreSQL by
the concurrency tests. Domain calls are async: each run of the machine drives them on its own
event loop.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from tortoise import Tortoise

from packgraph.domain.adjustments import cancel_pack, change_pack_expiry, correct_pack_balance
from packgraph.domain.appointments import (
    cancel_appointment,
    check_in_appointment,
    create_appointment,
)
from packgraph.domain.client_credit import credit_balance
from packgraph.domain.errors import DomainError
from packgraph.domain.expiry import process_expiries
from packgraph.domain.invoice_voids import void_invoice, void_invoice_line
from packgraph.domain.invoices import add_service_line, charged, invoice_paid
from packgraph.domain.notes import add_pack_note
from packgraph.domain.payment_allocation import payment_status_for
from packgraph.domain.payments import (
    apply_client_credit,
    record_payment,
    refund_client_credit,
    refund_payment,
)
from packgraph.domain.redemptions import (
    allocate_invoice_line,
    delete_pack,
    move_allocations,
    unallocate_invoice_line,
)
from packgraph.domain.reports import pack_summary
from packgraph.domain.service_changes import change_appointment_service, change_line_service
from packgraph.domain.status import compute_status
from packgraph.models import (
    AutoRenew,
    CreditEntry,
    CreditKind,
    Event,
    EventType,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LineKind,
    Metric,
    Pack,
    PackItem,
    PackStatus,
    Payment,
    PaymentMethod,
    RefundTo,
)
from packgraph.schema.packs import pack_from_row
from tests.conftest import fresh_database
from tests.databases import DatabaseFactory, init_orm
from tests.domain.builders import Clinic, add_template, build_clinic, sell, snapshot_counts


def _now() -> datetime:
    return datetime.now(UTC)


def _pick(values: list, index: int):
    return values[index % len(values)] if values else None


INDEX = st.integers(min_value=0, max_value=50)
ROLE = st.sampled_from(["owner", "manager", "manager", "staff", "integration"])
REASON = st.sampled_from(["fix", "paper card", ""])
AMOUNT = st.sampled_from([-100_00, -1, 0, 1, 50_00, 100_00, 300_00, 1000_00])
REFUND = st.sampled_from([0, 1, 20_00, 100_00, 1000_00])
# With ``likely`` the rule picks arguments that can succeed (an unallocated line and an active
# pack, ...); without it, anything, so failures are exercised too.
LIKELY = st.booleans()


async def _pack_views(business_id: int) -> dict[int, dict[str, Any]]:
    """Every pack of the business as a dashboard sees it: the whole row and its items."""
    items: dict[int, list[tuple]] = {}
    rows = (
        await PackItem.filter(pack__business_id=business_id)
        .order_by("id")
        .values_list("pack_id", "id", "used", "allowance")
    )
    for pack_id, *item in rows:
        items.setdefault(pack_id, []).append(tuple(item))
    return {
        row["id"]: {**row, "items": items.get(row["id"], [])}
        for row in await Pack.filter(business_id=business_id).values()
    }


class PackLedgerMachine(RuleBasedStateMachine):
    """One clinic, one client, templates of every metric; rules are the domain operations."""

    # The backend's database factory, set by the test that runs the machine.
    factory: DatabaseFactory

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.url = self.run(self.factory.create())
        self.run(self._setup())

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def _setup(self) -> None:
        await init_orm(self.url)
        clinic = await build_clinic(reminder_days=14)
        self.clinic: Clinic = clinic
        self.templates = [
            clinic.ten_massages,
            # Renewed when used up: a new pack and invoice appear inside another operation.
            await add_template(
                clinic.owner,
                name="3 massages",
                price=240_00,
                items=[(3, [clinic.massage])],
                auto_renew=AutoRenew.ON_FULLY_USED,
            ),
            await add_template(
                clinic.owner,
                name="2 massage + 2 physio",
                price=300_00,
                items=[(2, [clinic.massage]), (2, [clinic.physio])],
            ),
            await add_template(
                clinic.owner,
                name="3 hours",
                metric=Metric.MINUTES,
                price=270_00,
                items=[(180, [clinic.massage, clinic.long_massage])],
            ),
            await add_template(
                clinic.owner,
                name="$300 credit",
                metric=Metric.MONEY,
                price=300_00,
                items=[(300_00, [clinic.massage, clinic.long_massage, clinic.physio])],
            ),
        ]
        self.services = [clinic.massage, clinic.long_massage, clinic.physio]
        self.packs: list[int] = []
        self.appointments: list[int] = []
        self.lines: list[int] = []
        self.invoices: list[int] = []
        # Two packs to start with, so every rule has something to work on from the first step.
        for template in self.templates[:3:2]:
            sale = await sell(clinic, template=template, purchased_at=_now() - timedelta(days=2))
            self.packs.append(sale.pack.id)
            self.invoices.append(sale.invoice.id)
        # What a live dashboard holds: each pack as its latest event delivered it.
        self.delivered: dict[int, dict[str, Any]] = {}
        self.delivered_seq = 0
        self.seen_lines: set[int] = set()
        self.seen_invoices: set[int] = set()

    def teardown(self) -> None:
        try:
            self.run(Tortoise.close_connections())
            self.run(self.factory.drop(self.url))
        finally:
            self.loop.close()

    def actor(self, role: str):
        return getattr(self.clinic, role)

    # --- the step wrapper: events expected on success, nothing at all on failure ----------------

    def step(self, operation, expected_events) -> None:
        self.run(self._step(operation, expected_events))

    async def _step(self, operation, expected_events) -> None:
        business_id = self.clinic.business_id
        before = await snapshot_counts(business_id)
        statuses = dict(await Pack.filter(business_id=business_id).values_list("id", "status"))
        last_seq = before["event_seq"]
        try:
            result = await operation()
        except DomainError:
            assert await snapshot_counts(business_id) == before, "a failed step changed data"
            return
        expected = Counter(expected_events(result))
        after = dict(await Pack.filter(business_id=business_id).values_list("id", "status"))
        for pack_id, status in after.items():
            if pack_id not in statuses:
                # Every new pack is announced once: sold here, or renewed by the change.
                expected[EventType.PACK_SOLD] += 1
            if status == statuses.get(pack_id):
                continue
            # Whatever caused it (a redemption, a correction, the expiry job, a reversal on a
            # pack past its date), becoming fully used or expired is announced once.
            if status == PackStatus.FULLY_USED:
                expected[EventType.PACK_FULLY_USED] += 1
            if status == PackStatus.EXPIRED:
                expected[EventType.PACK_EXPIRED] += 1
        written = Counter(
            await Event.filter(business_id=business_id, seq__gt=last_seq).values_list(
                "type", flat=True
            )
        )
        assert written == expected, (written, expected)

    # --- rules --------------------------------------------------------------------------------

    @rule(template=INDEX, expires=st.booleans(), invoice=st.none() | INDEX)
    def sell_pack(self, template, expires, invoice):
        """A new invoice, or (``invoice``) an existing one, so that a payment on it reaches
        several packs."""

        async def operation():
            sale = await sell(
                self.clinic,
                template=_pick(self.templates, template),
                purchased_at=_now() - timedelta(days=2),
                expires_at=_now() + timedelta(days=60) if expires else None,
                invoice_id=None if invoice is None else _pick(self.invoices, invoice),
            )
            self.packs.append(sale.pack.id)
            if sale.invoice.id not in self.invoices:
                self.invoices.append(sale.invoice.id)
            return sale

        self.step(operation, lambda sale: [])

    @rule(service=INDEX)
    def check_in(self, service):
        async def operation():
            appointment = (
                await create_appointment(
                    actor=self.clinic.staff,
                    client_id=self.clinic.client.id,
                    service_id=_pick(self.services, service).id,
                    starts_at=_now() - timedelta(hours=1),
                )
            ).appointment
            self.appointments.append(appointment.id)
            result = await check_in_appointment(
                actor=self.clinic.staff, appointment_id=appointment.id
            )
            if result.line is not None:
                self.lines.append(result.line.id)
            # Visits' invoices are paid, refunded and voided by the rules too.
            if result.invoice is not None and result.invoice.id not in self.invoices:
                self.invoices.append(result.invoice.id)
            return result

        self.step(operation, lambda r: [EventType.SESSION_REDEEMED] if r.entry else [])

    @precondition(lambda self: self.appointments)
    @rule(appointment=INDEX)
    def cancel_visit(self, appointment):
        appointment_id = _pick(self.appointments, appointment)
        self.step(
            lambda: cancel_appointment(actor=self.clinic.staff, appointment_id=appointment_id),
            lambda r: (
                [EventType.REDEMPTION_REVERSED] * len(r.entries)
                + [EventType.INVOICE_LINE_VOIDED] * len(r.lines)
                + [EventType.CLIENT_CREDITED] * len(r.credits)
            ),
        )

    @rule(pack=INDEX, item=INDEX, delta=st.integers(-4, 4), role=ROLE, reason=REASON)
    def correct(self, pack, item, delta, role, reason):
        pack_id = _pick(self.packs, pack)

        async def operation():
            items = (
                await PackItem.filter(pack_id=pack_id).order_by("id").values_list("id", "allowance")
            )
            item_id, allowance = _pick(list(items), item)
            # Scale the delta to the metric: minutes and money packs move by a visit's worth.
            unit = 1 if allowance <= 10 else allowance // 6
            return await correct_pack_balance(
                actor=self.actor(role),
                pack_id=pack_id,
                item_id=item_id,
                delta=delta * unit,
                reason=reason,
            )

        self.step(operation, lambda r: [EventType.PACK_CORRECTED])

    def pay(self, where: dict, amount: int, role: str) -> None:
        self.step(
            lambda: record_payment(actor=self.actor(role), amount=amount, method="CARD", **where),
            lambda r: [EventType.PAYMENT_RECORDED] * len(r.payments),
        )

    @rule(pack=INDEX, amount=AMOUNT, role=ROLE)
    def pay_pack(self, pack, amount, role):
        self.pay({"pack_id": _pick(self.packs, pack)}, amount, role)

    @rule(invoice=INDEX, amount=AMOUNT, role=ROLE)
    def pay_invoice(self, invoice, amount, role):
        self.pay({"invoice_id": _pick(self.invoices, invoice)}, amount, role)

    def refund(self, where: dict, amount: int, role: str, reason: str) -> None:
        self.step(
            lambda: refund_payment(
                actor=self.actor(role), amount=amount, method="CASH", reason=reason, **where
            ),
            # A refund of a cancelled pack voids what it gives back of the pack's sale.
            lambda r: (
                [EventType.PAYMENT_REFUNDED] * len(r.payments)
                + [EventType.INVOICE_LINE_VOIDED]
                * sum(p.status == PackStatus.CANCELLED for p in r.packs)
            ),
        )

    @rule(pack=INDEX, amount=REFUND, role=ROLE, reason=REASON)
    def refund_pack(self, pack, amount, role, reason):
        self.refund({"pack_id": _pick(self.packs, pack)}, amount, role, reason)

    @rule(invoice=INDEX, amount=REFUND, role=ROLE, reason=REASON)
    def refund_invoice(self, invoice, amount, role, reason):
        self.refund({"invoice_id": _pick(self.invoices, invoice)}, amount, role, reason)

    @rule(service=INDEX)
    def charge_without_pack(self, service):
        async def operation():
            result = await add_service_line(
                actor=self.clinic.staff,
                client_id=self.clinic.client.id,
                service_id=_pick(self.services, service).id,
            )
            self.lines.append(result.line.id)
            if result.invoice.id not in self.invoices:
                self.invoices.append(result.invoice.id)
            return result

        self.step(operation, lambda r: [])

    async def _active_packs(self) -> list[int]:
        rows = await Pack.filter(id__in=self.packs, status=PackStatus.ACTIVE).order_by("id")
        return [pack.id for pack in rows] or self.packs

    async def _lines(self, *, allocated: bool) -> list[int]:
        rows = (
            await InvoiceLine.filter(id__in=self.lines, pack_id__isnull=not allocated)
            .order_by("id")
            .values_list("id", flat=True)
        )
        return list(rows) or self.lines

    @precondition(lambda self: self.lines)
    @rule(line=INDEX, pack=INDEX, likely=LIKELY)
    def allocate(self, line, pack, likely):
        async def operation():
            lines = await self._lines(allocated=False) if likely else self.lines
            packs = await self._active_packs() if likely else self.packs
            return await allocate_invoice_line(
                actor=self.clinic.staff, line_id=_pick(lines, line), pack_id=_pick(packs, pack)
            )

        self.step(
            operation,
            lambda r: (
                [EventType.SESSION_REDEEMED] + ([EventType.CLIENT_CREDITED] if r.credit else [])
            ),
        )

    @precondition(lambda self: self.lines)
    @rule(line=INDEX, likely=LIKELY)
    def unallocate(self, line, likely):
        async def operation():
            lines = await self._lines(allocated=True) if likely else self.lines
            return await unallocate_invoice_line(
                actor=self.clinic.staff, line_id=_pick(lines, line)
            )

        self.step(
            operation,
            lambda r: (
                [EventType.REDEMPTION_REVERSED] + ([EventType.CLIENT_CREDITED] if r.credit else [])
            ),
        )

    @rule(source=INDEX, destination=INDEX, likely=LIKELY)
    def move(self, source, destination, likely):
        async def operation():
            sources = self.packs
            if likely:
                allocated = await InvoiceLine.filter(
                    id__in=self.lines, pack_id__isnull=False
                ).values_list("pack_id", flat=True)
                sources = sorted(set(allocated)) or self.packs
            from_pack_id = _pick(sources, source)
            targets = self.packs
            if likely:
                targets = [p for p in await self._active_packs() if p != from_pack_id] or targets
            return await move_allocations(
                actor=self.clinic.manager,
                from_pack_id=from_pack_id,
                to_pack_id=_pick(targets, destination),
            )

        self.step(
            operation,
            lambda r: (
                [EventType.ALLOCATIONS_MOVED] * 2 + [EventType.CLIENT_CREDITED] * len(r.credits)
            ),
        )

    @precondition(lambda self: self.lines)
    @rule(
        line=INDEX,
        service=INDEX,
        pack=st.none() | INDEX,
        by_appointment=st.booleans(),
        likely=LIKELY,
    )
    def change_service(self, line, service, pack, by_appointment, likely):
        """The visit's (or the line's) service changed: the line re-priced and re-allocated to
        ``pack`` or by auto-allocation (SPEC §6.1, "one visit, one charge")."""
        lines = self.lines
        if likely:
            query = InvoiceLine.filter(id__in=self.lines, voided_at__isnull=True).order_by("id")
            lines = list(self.run(query.values_list("id", flat=True))) or self.lines
        current = self.run(InvoiceLine.get(id=_pick(lines, line)))
        was_allocated = current.pack_id is not None and current.voided_at is None
        services = self.services
        if likely:
            services = [s for s in self.services if s.id != current.service_id]

        async def operation():
            packs = await self._active_packs() if likely else self.packs
            pack_id = None if pack is None else _pick(packs, pack)
            service_id = _pick(services, service).id
            if by_appointment and current.appointment_id is not None:
                return await change_appointment_service(
                    actor=self.clinic.staff,
                    appointment_id=current.appointment_id,
                    service_id=service_id,
                    pack_id=pack_id,
                )
            return await change_line_service(
                actor=self.clinic.staff, line_id=current.id, service_id=service_id, pack_id=pack_id
            )

        self.step(
            operation,
            lambda r: (
                []
                if r.line is None
                else [EventType.REDEMPTION_REVERSED] * was_allocated
                + [EventType.SESSION_REDEEMED] * (r.entry is not None)
                + [EventType.SERVICE_CHANGED]
                + [EventType.CLIENT_CREDITED] * (r.credit is not None)
            ),
        )

    @rule(pack=INDEX)
    def time_passes_until_expiry(self, pack):
        """The pack's expiry date arrives (the clock moving on), then the expiry job runs."""
        pack_id = _pick(self.packs, pack)

        async def operation():
            await Pack.filter(id=pack_id).update(expires_at=_now() - timedelta(seconds=1))
            # The test's stand-in for the clock, not a change of the product: the dashboard is
            # taken to have held this date all along.
            self.delivered[pack_id] = (await _pack_views(self.clinic.business_id))[pack_id]
            before = await Pack.get(id=pack_id)
            report = await process_expiries()
            due = before.status == PackStatus.ACTIVE and before.deleted_at is None
            expected = (pack_id,) if due else ()
            assert report.expired == expected
            assert report.reminded == report.renewed == report.failed == ()
            return report

        self.step(operation, lambda r: [])

    @rule(pack=INDEX, days=st.sampled_from([None, -1, 30]), reason=REASON)
    def change_expiry(self, pack, days, reason):
        pack_id = _pick(self.packs, pack)
        expires_at = None if days is None else _now() + timedelta(days=days)

        async def operation():
            return await change_pack_expiry(
                actor=self.clinic.owner, pack_id=pack_id, expires_at=expires_at, reason=reason
            )

        self.step(operation, lambda r: [EventType.EXPIRY_CHANGED])

    @rule(pack=INDEX, role=ROLE)
    def note(self, pack, role):
        pack_id = _pick(self.packs, pack)
        self.step(
            lambda: add_pack_note(
                actor=self.actor(role), pack_id=pack_id, text="called the client"
            ),
            lambda r: [EventType.NOTE_ADDED],
        )

    @rule(pack=INDEX, role=ROLE)
    def delete(self, pack, role):
        pack_id = _pick(self.packs, pack)
        # What was paid moves to the credit; the sale line is voided whole (a cancelled pack's
        # was voided down to what it kept paid, so only when it kept something).
        self.step(
            lambda: delete_pack(actor=self.actor(role), pack_id=pack_id),
            lambda r: (
                ([EventType.CLIENT_CREDITED] if r.credit else [])
                + [EventType.PACK_DELETED]
                + (
                    [EventType.INVOICE_LINE_VOIDED]
                    if r.pack.status != PackStatus.CANCELLED or r.credit
                    else []
                )
            ),
        )

    @rule(
        pack=INDEX,
        refund=st.sampled_from([0, 0, 1, 50_00, 10_000_00]),
        refund_to=st.sampled_from(list(RefundTo)),
    )
    def cancel(self, pack, refund, refund_to):
        pack_id = _pick(self.packs, pack)
        self.step(
            lambda: cancel_pack(
                actor=self.clinic.owner,
                pack_id=pack_id,
                reason="r",
                refund=refund,
                method="CARD",
                refund_to=refund_to,
            ),
            # The sale line is voided down to what stays paid, when that is less than the price.
            lambda r: (
                [EventType.PACK_CANCELLED]
                + (
                    [
                        EventType.CLIENT_CREDITED
                        if refund_to == RefundTo.CLIENT_CREDIT
                        else EventType.PAYMENT_REFUNDED
                    ]
                    if refund
                    else []
                )
                + (
                    [EventType.INVOICE_LINE_VOIDED]
                    if r.pack.amount_paid < r.pack.final_price
                    else []
                )
            ),
        )

    async def _any_line(self, index: int, *, likely: bool) -> int:
        """Any line of the business (sale lines too, which are refused); ``likely``: one that
        is still charged."""
        query = InvoiceLine.filter(business_id=self.clinic.business_id)
        if likely:
            query = query.filter(voided_at__isnull=True, kind__not=LineKind.PACK_SALE)
        ids = list(await query.order_by("id").values_list("id", flat=True))
        if not ids:
            ids = list(
                await InvoiceLine.filter(business_id=self.clinic.business_id)
                .order_by("id")
                .values_list("id", flat=True)
            )
        return _pick(ids, index)

    @rule(line=INDEX, role=ROLE, reason=REASON, likely=LIKELY)
    def void_line(self, line, role, reason, likely):
        async def operation():
            line_id = await self._any_line(line, likely=likely)
            return await void_invoice_line(actor=self.actor(role), line_id=line_id, reason=reason)

        self.step(
            operation,
            lambda r: (
                ([EventType.REDEMPTION_REVERSED] if r.entry else [])
                + [EventType.INVOICE_LINE_VOIDED]
                + ([EventType.CLIENT_CREDITED] if r.credit else [])
            ),
        )

    @rule(invoice=INDEX, role=ROLE, reason=REASON)
    def void_whole_invoice(self, invoice, role, reason):
        invoice_id = _pick(self.invoices, invoice)
        self.step(
            lambda: void_invoice(actor=self.actor(role), invoice_id=invoice_id, reason=reason),
            lambda r: (
                [EventType.REDEMPTION_REVERSED] * len(r.entries)
                + ([EventType.CLIENT_CREDITED] if r.credit else [])
                + [EventType.INVOICE_VOIDED]
            ),
        )

    @rule(invoice=INDEX, amount=AMOUNT, role=ROLE)
    def apply_credit(self, invoice, amount, role):
        invoice_id = _pick(self.invoices, invoice)
        self.step(
            lambda: apply_client_credit(
                actor=self.actor(role), invoice_id=invoice_id, amount=amount
            ),
            lambda r: [EventType.CREDIT_APPLIED] * len(r.payments),
        )

    @rule(
        amount=REFUND, role=ROLE, reason=REASON, method=st.sampled_from(["CASH", "CLIENT_CREDIT"])
    )
    def refund_credit(self, amount, role, reason, method):
        self.step(
            lambda: refund_client_credit(
                actor=self.actor(role),
                client_id=self.clinic.client.id,
                amount=amount,
                method=method,
                reason=reason,
            ),
            lambda r: [EventType.CREDIT_REFUNDED],
        )

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def ledger_status_and_payments_are_consistent(self):
        self.run(self._check())

    async def _check(self) -> None:
        now = _now()
        business_id = self.clinic.business_id
        for pack in await Pack.filter(business_id=business_id):
            items = await PackItem.filter(pack_id=pack.id)
            for item in items:
                ledger = await LedgerEntry.filter(item_id=item.id).values_list(
                    "quantity", flat=True
                )
                assert item.used == sum(ledger), (pack.id, item.used, list(ledger))
                assert 0 <= item.used <= item.allowance
                allocated = await InvoiceLine.filter(
                    pack_item_id=item.id, kind=LineKind.SERVICE
                ).values_list("units", flat=True)
                corrections = await LedgerEntry.filter(
                    item_id=item.id, kind="CORRECTION"
                ).values_list("quantity", flat=True)
                assert item.used == sum(allocated) + sum(corrections)
            expected_status = compute_status(
                cancelled_at=pack.cancelled_at,
                items=[(i.used, i.allowance) for i in items],
                expires_at=pack.expires_at,
                now=now,
            )
            # A deleted pack keeps the status it was deleted with: nothing changes it any more
            # (what a deleted pack should report is issue 15's).
            if pack.deleted_at is None:
                assert pack.status == expected_status, (pack.id, pack.status, expected_status)
            paid = sum(await Payment.filter(pack_id=pack.id).values_list("amount", flat=True))
            assert pack.amount_paid == paid
            assert 0 <= paid <= pack.final_price
            assert pack.payment_status == payment_status_for(paid, pack.final_price)
        for invoice_id in self.invoices:
            paid = sum(await Payment.filter(invoice_id=invoice_id).values_list("amount", flat=True))
            assert paid >= 0
        await self._check_invoices()
        # Money received is positive and comes with a PAYMENT_RECORDED event; money given back is
        # negative, has its reason and comes with a PAYMENT_REFUNDED event.
        events = await Event.filter(business_id=business_id, payment_id__isnull=False).values_list(
            "payment_id", "type"
        )
        payments = await Payment.filter(business_id=business_id).values_list(
            "id", "amount", "reason", "method", "credit_entry_id"
        )
        payment_events = dict(events)
        # Exactly one event per payment row.
        assert len(events) == len(payment_events) == len(payments)
        for payment_id, amount, reason, method, credit_entry_id in payments:
            assert amount != 0
            assert (method == PaymentMethod.CLIENT_CREDIT) == (credit_entry_id is not None)
            if credit_entry_id is not None:
                kind = EventType.CLIENT_CREDITED if amount < 0 else EventType.CREDIT_APPLIED
            else:
                kind = EventType.PAYMENT_REFUNDED if amount < 0 else EventType.PAYMENT_RECORDED
            assert payment_events.get(payment_id) == kind
            assert bool(reason.strip()) == (amount < 0), (payment_id, amount, reason)
        seqs = (
            await Event.filter(business_id=business_id)
            .order_by("seq")
            .values_list("seq", flat=True)
        )
        assert list(seqs) == list(range(1, len(seqs) + 1))
        await self._check_live_view()

    async def _check_invoices(self) -> None:
        """Money: nothing is deleted, a pack's balance due is its sale line's unpaid amount, a
        void invoice charges nothing and holds no money, a void line deducts nothing, and the
        report's outstanding balance is what the packs' sale lines leave unpaid."""
        business_id = self.clinic.business_id
        lines = await InvoiceLine.filter(business_id=business_id)
        line_ids = {line.id for line in lines}
        assert self.seen_lines <= line_ids, "an invoice line was deleted"
        self.seen_lines = line_ids
        invoices = {row.id: row for row in await Invoice.filter(business_id=business_id)}
        assert self.seen_invoices <= set(invoices), "an invoice was deleted"
        self.seen_invoices = set(invoices)
        packs = {pack.id: pack for pack in await Pack.filter(business_id=business_id)}
        unpaid_sales = 0
        for line in lines:
            assert 0 <= line.voided_amount <= line.amount, line.id
            assert (line.voided_amount > 0) <= (line.voided_at is not None), line.id
            if line.voided_at is not None and line.kind == LineKind.SERVICE:
                assert line.pack_id is None and line.units == 0, line.id
            if invoices[line.invoice_id].voided_at is not None:
                assert charged(line) == 0, line.id
            if line.kind != LineKind.PACK_SALE:
                continue
            pack = pack_from_row(packs[line.pack_id])
            assert pack.balance_due == charged(line) - pack.amount_paid, (pack.id, line.id)
            if pack.deleted_at is None:
                unpaid_sales += pack.balance_due
        await self._check_one_charge(lines, packs)
        totals: dict[int, int] = {}
        for line in lines:
            totals[line.invoice_id] = totals.get(line.invoice_id, 0) + charged(line)
        balances_due = 0
        for invoice in invoices.values():
            paid = await invoice_paid(None, invoice.id)
            if invoice.voided_at is not None:
                assert paid == 0, invoice.id
            # Never paid beyond what it charges: the excess is the client's credit.
            assert 0 <= paid <= totals.get(invoice.id, 0), (invoice.id, paid)
            balances_due += totals.get(invoice.id, 0) - paid
        summary = await pack_summary(actor=self.clinic.owner)
        assert summary.outstanding_balance_due == unpaid_sales
        await self._check_credit(sum(totals.values()), balances_due)
        # The report's credit held is the client's credit (one client here).
        assert summary.client_credit == await credit_balance(None, self.clinic.client.id)

    async def _check_one_charge(self, lines: list[InvoiceLine], packs: dict[int, Pack]) -> None:
        """One visit, one charge (SPEC §6.1): a SERVICE line deducted from a pack charges its
        session price (plus, on a MONEY pack, the part of the price the pack did not cover),
        one not deducted charges the service price; a visit has one line still charged."""
        prices = {service.id: service.price for service in self.services}
        visits: Counter = Counter()
        for line in lines:
            if line.kind != LineKind.SERVICE or line.voided_at is not None:
                continue
            price = prices[line.service_id] * line.quantity
            if line.appointment_id is not None:
                visits[line.appointment_id] += 1
            if line.pack_id is None:
                assert line.amount == price, (line.id, line.amount, price)
                continue
            pack = packs[line.pack_id]
            uncovered = 0
            if pack.metric == Metric.MONEY:
                assert 0 < line.units <= price, (line.id, line.units, price)
                uncovered = price - line.units
            assert line.amount == pack.session_price * line.quantity + uncovered, line.id
        assert all(count == 1 for count in visits.values()), visits

    async def _check_credit(self, invoice_totals: int, balances_due: int) -> None:
        """The credit chain, its links to the payments, and the money identity of SPEC §6.1."""
        business_id = self.clinic.business_id
        client_id = self.clinic.client.id
        running = 0
        refunded = 0
        for entry in await CreditEntry.filter(client_id=client_id).order_by("id"):
            running += entry.amount
            assert entry.balance_after == running >= 0, entry.id
            linked = sum(
                await Payment.filter(credit_entry_id=entry.id).values_list("amount", flat=True)
            )
            if entry.kind == CreditKind.REFUNDED:
                assert entry.amount < 0 and linked == 0 and entry.method is not None
                refunded -= entry.amount
            else:
                assert (entry.amount > 0) == (entry.kind == CreditKind.CREDITED), entry.id
                assert linked == -entry.amount, (entry.id, linked)
        balance = await credit_balance(None, client_id)
        assert balance == running
        money = sum(
            await Payment.filter(business_id=business_id, invoice_id__isnull=False)
            .exclude(method=PaymentMethod.CLIENT_CREDIT)
            .values_list("amount", flat=True)
        )
        assert invoice_totals - money + refunded == balances_due - balance

    async def _check_live_view(self) -> None:
        """Deliver the events written since the last check, each with its pack read now, then
        compare every pack read fresh with the one its latest event delivered."""
        business_id = self.clinic.business_id
        delivered = (
            await Event.filter(
                business_id=business_id, seq__gt=self.delivered_seq, pack_id__isnull=False
            )
            .order_by("seq")
            .values_list("seq", "pack_id")
        )
        fresh = await _pack_views(business_id)
        for seq, pack_id in delivered:
            self.delivered[pack_id] = fresh[pack_id]
            self.delivered_seq = max(self.delivered_seq, seq)
        for pack_id, view in fresh.items():
            held = self.delivered.get(pack_id)
            assert held is not None, f"pack {pack_id} exists but no event announced it"
            changed = {key for key in view if view[key] != held[key]}
            assert not changed, (pack_id, {key: (held[key], view[key]) for key in changed})


# A fixed-size slice for `make test`: 25 runs of 20 steps on SQLite, fewer on PostgreSQL (every
# step is a handful of round trips to the server).
EXAMPLES = {"sqlite": 25, "postgres": 12}


@pytest.mark.parametrize("backend", list(EXAMPLES))
def test_pack_ledger_invariants(backend, database_factories):
    factory: DatabaseFactory = database_factories[backend]
    # Reach the backend first, so a missing service fails in CI (skips elsewhere) here rather
    # than inside hypothesis.
    asyncio.run(factory.drop(asyncio.run(fresh_database(factory))))

    class Machine(PackLedgerMachine):
        pass

    Machine.factory = factory
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=EXAMPLES[backend],
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
