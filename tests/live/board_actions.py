"""A front desk making pack changes through the GraphQL API, for the live board test.

An action is a kind and three small numbers (drawn by hypothesis, or written out by hand); the
:class:`FrontDesk` turns the numbers into real arguments by picking among what exists at that moment
(the packs sold so far, the visits booked, the invoice lines charged), so every program is valid
whatever came before it. Some actions are refused by the server (a refund larger than what was
paid, deleting a pack that still has allocated lines): a refusal is a userError, writes no event,
and is part of the test too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from packgraph.domain.expiry import process_expiries
from tests.api.support import Api, Tenant, pk
from tests.live.board_fold import iso

Action = tuple[str, int, int, int]

KINDS = (
    "sell",
    "sell",
    "sell",
    "visit",
    "visit",
    "cancel_visit",
    "redeem",
    "redeem",
    "unallocate",
    "allocate",
    "move",
    "correct",
    "change_expiry",
    "pay",
    "pay",
    "pay_invoice",
    "note",
    "cancel_pack",
    "delete_pack",
    "void_line",
    "void_invoice",
    "change_service",
    "apply_credit",
    "refund_credit",
    "run_expiry_job",
)

# Names, phones and emails for the board's search (SPEC §6.7: any word in any of them).
CLIENTS = (
    {"name": "Ana Lima", "phone": "0412 345 678", "email": "ana.lima@example.com"},
    {"name": "Bruno Costa", "phone": "(02) 9876 5432", "email": "bcosta@clinic.example"},
    {"name": "Chloé Martin", "phone": "+61 400 123 456", "email": "chloe@martin.fr"},
)
# Expiry offsets from the board's "now", in days: inside and outside every "expiring within"
# window (7, 14, 30, 60, 90), never on a boundary except where a test puts it there on purpose.
EXPIRY_OFFSETS = (3.25, 10.25, 20.25, 45.25, 75.25, 120.25)
# Packs the desk sells at most (automatic renewals come on top): every board fits on one page.
MAX_SOLD = 16


@dataclass
class SoldPack:
    id: str
    invoice_id: str
    client_id: str
    item_ids: list[str]
    service_ids: list[str]


@dataclass
class Line:
    """A SERVICE invoice line charged for a client's visit."""

    id: str
    client_id: str


@dataclass
class FrontDesk:
    """Runs actions for one business; ``now`` is the open boards' "now"."""

    api: Api
    tenant: Tenant
    now: datetime
    services: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    # The service a template's first session is used with when it is sold (custom packs: physio).
    first_services: list[str] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)
    packs: list[SoldPack] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    appointments: list[str] = field(default_factory=list)
    allocated_lines: list[Line] = field(default_factory=list)
    loose_lines: list[Line] = field(default_factory=list)
    # The line each checked-in visit charged, to forget it when the visit is cancelled.
    visit_lines: dict[str, Line] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)

    # --- the catalog ----------------------------------------------------------------------------

    async def open_clinic(self) -> None:
        """Services, templates (every metric, two items, one that renews itself) and clients."""
        massage = await self._create(
            "createService", "service", name="Massage 60", durationMinutes=60, price=90_00
        )
        physio = await self._create(
            "createService", "service", name="Physio", durationMinutes=45, price=80_00
        )
        self.services = [massage, physio]
        both = [massage, physio]
        for name, metric, price, items, renew in (
            ("10 massages", "SESSIONS", 800_00, [(10, [massage])], "NEVER"),
            ("3 hours of therapy", "MINUTES", 270_00, [(180, both)], "NEVER"),
            ("$300 credit", "MONEY", 300_00, [(300_00, both)], "NEVER"),
            ("2 massage + 2 physio", "SESSIONS", 300_00, [(2, [massage]), (2, [physio])], "NEVER"),
            ("3 physio, renewing", "SESSIONS", 210_00, [(3, [physio])], "ON_FULLY_USED"),
        ):
            template = await self._create(
                "createPackTemplate",
                "packTemplate",
                name=name,
                metric=metric,
                price=price,
                items=[{"allowance": a, "serviceIds": s} for a, s in items],
                autoRenew=renew,
            )
            self.templates.append(template)
            self.first_services.append(items[0][1][0])
        for client in CLIENTS:
            self.clients.append(await self._create("createClient", "client", **client))

    async def _create(self, mutation: str, field_name: str, **values: Any) -> str:
        payload = await self.api.mutate(
            mutation, values, f"{field_name} {{ id }}", token=self.tenant.owner_token
        )
        assert payload["userErrors"] == [], payload
        return payload[field_name]["id"]

    # --- running actions ------------------------------------------------------------------------

    async def run(self, action: Action) -> None:
        kind, a, b, c = action
        await getattr(self, f"_{kind}")(a, b, c)

    async def _mutate(self, name: str, values: dict[str, Any], selection: str = "") -> dict | None:
        token = self.tenant.manager_token
        payload = await self.api.mutate(name, values, selection, token=token)
        if payload["userErrors"]:
            self.outcomes[f"{name}: {payload['userErrors'][0]['code']}"] += 1
            return None
        self.outcomes[name] += 1
        return payload

    def _pack(self, index: int, *, client_id: str | None = None) -> SoldPack | None:
        alive = [p for p in self.packs if p.id not in self.deleted]
        if client_id is not None:
            alive = [p for p in alive if p.client_id == client_id] or alive
        return alive[index % len(alive)] if alive else None

    async def _current(self, pack: SoldPack) -> dict[str, Any]:
        data = await self.api.ok(
            "query($id: ID!) { pack(id: $id) { status balanceDue amountPaid } }",
            {"id": pack.id},
            token=self.tenant.manager_token,
        )
        return data["pack"]

    async def _sell(self, a: int, b: int, c: int) -> None:
        """From a template or custom; plain, discounted, first session used, expiring in one of
        the board's windows, or bought days ago (no expiry, or expiring in six days)."""
        client_id = self.clients[a % len(self.clients)]
        values: dict[str, Any] = {"clientId": client_id}
        template_index = b % (len(self.templates) + 1)
        if template_index < len(self.templates):
            values["templateId"] = self.templates[template_index]
        else:
            values["custom"] = {
                "name": "Physio block",
                "metric": "SESSIONS",
                "price": 400_00,
                "items": [{"allowance": 5, "serviceIds": [self.services[1]]}],
            }
        variant = c % 6
        if c % 12 == 6:
            # On the invoice of one of the client's packs: one invoice then sells several.
            same = self._pack(a, client_id=client_id)
            if same is not None and same.client_id == client_id:
                values["invoiceId"] = same.invoice_id
        if variant == 1:
            values["discount"] = 30_00
        elif variant == 2:
            values["useFirstSession"] = True
            values["serviceId"] = [*self.first_services, self.services[1]][template_index]
        elif variant == 3:
            offset = EXPIRY_OFFSETS[c // 6 % len(EXPIRY_OFFSETS)]
            values["expiresAt"] = iso(self.now + timedelta(days=offset))
        elif variant in (4, 5):
            values["purchasedAt"] = iso(datetime.now(UTC) - timedelta(days=1 + c % 20))
            if variant == 5:
                values["expiresAt"] = iso(self.now + timedelta(days=6))
        await self.sell(values)

    async def sell(self, values: dict[str, Any]) -> SoldPack | None:
        if len(self.packs) >= MAX_SOLD:
            self.outcomes["sellPack: skipped, enough packs"] += 1
            return None
        payload = await self._mutate(
            "sellPack", values, "pack { id items { id services { id } } } invoice { id }"
        )
        if payload is None:
            return None
        pack = payload["pack"]
        items = pack["items"]
        sold = SoldPack(
            id=pack["id"],
            invoice_id=payload["invoice"]["id"],
            client_id=values["clientId"],
            item_ids=[item["id"] for item in items],
            service_ids=sorted({s["id"] for item in items for s in item["services"]}),
        )
        self.packs.append(sold)
        return sold

    async def _visit(self, a: int, b: int, c: int) -> None:
        """Book a visit starting now (sometimes with a chosen pack) and check it in."""
        client_id = self.clients[a % len(self.clients)]
        services = self.services
        values: dict[str, Any] = {
            "clientId": client_id,
            "startsAt": iso(datetime.now(UTC)),
        }
        chosen = self._pack(c, client_id=client_id)
        if c % 3 == 0 and chosen is not None and chosen.client_id == client_id:
            values["chosenPackId"] = chosen.id
            services = chosen.service_ids
        values["serviceId"] = services[b % len(services)]
        booked = await self._mutate("createAppointment", values, "appointment { id }")
        if booked is None:
            return
        appointment_id = booked["appointment"]["id"]
        self.appointments.append(appointment_id)
        checked_in = await self._mutate(
            "checkInAppointment",
            {"appointmentId": appointment_id},
            "invoiceLine { id pack { id } }",
        )
        charged = self._charged(checked_in, client_id)
        if charged is not None:
            self.visit_lines[appointment_id] = charged

    def _charged(self, payload: dict | None, client_id: str) -> Line | None:
        line = payload and payload.get("invoiceLine")
        if not line:
            return None
        charged = Line(line["id"], client_id)
        (self.allocated_lines if line.get("pack") else self.loose_lines).append(charged)
        return charged

    def _forget(self, line: Line) -> None:
        for lines in (self.allocated_lines, self.loose_lines):
            if line in lines:
                lines.remove(line)

    def _newest_lines(self) -> list[Line]:
        """The charged lines still open, newest first."""
        lines = self.allocated_lines + self.loose_lines
        return sorted(lines, key=lambda line: pk(line.id), reverse=True)

    async def _cancel_visit(self, a: int, b: int, c: int) -> None:
        """A visit cancelled: its line is voided (and its session given back)."""
        if self.appointments:
            appointment_id = self.appointments[a % len(self.appointments)]
            if await self._mutate("cancelAppointment", {"appointmentId": appointment_id}):
                self.appointments.remove(appointment_id)
                if appointment_id in self.visit_lines:
                    self._forget(self.visit_lines.pop(appointment_id))

    async def _redeem(self, a: int, b: int, c: int) -> None:
        pack = self._pack(a)
        if pack is None:
            return
        values = {
            "packId": pack.id,
            "serviceId": pack.service_ids[b % len(pack.service_ids)],
            "quantity": 1 + c % 2,
        }
        redeemed = await self._mutate("redeemSession", values, "invoiceLine { id pack { id } }")
        self._charged(redeemed, pack.client_id)

    async def _unallocate(self, a: int, b: int, c: int) -> None:
        if not self.allocated_lines:
            return
        line = self.allocated_lines[a % len(self.allocated_lines)]
        if await self._mutate("unallocateInvoiceLine", {"lineId": line.id}) is not None:
            self.allocated_lines.remove(line)
            self.loose_lines.append(line)

    async def _allocate(self, a: int, b: int, c: int) -> None:
        if not self.loose_lines:
            return
        line = self.loose_lines[a % len(self.loose_lines)]
        pack = self._pack(b, client_id=line.client_id)
        if pack is None:
            return
        if await self._mutate("allocateInvoiceLine", {"lineId": line.id, "packId": pack.id}):
            self.loose_lines.remove(line)
            self.allocated_lines.append(line)

    async def _move(self, a: int, b: int, c: int) -> None:
        source = self._pack(a)
        target = source and self._pack(b, client_id=source.client_id)
        if source is not None and target is not None and source is not target:
            await self._mutate("moveAllocations", {"fromPackId": source.id, "toPackId": target.id})

    async def _correct(self, a: int, b: int, c: int) -> None:
        pack = self._pack(a)
        if pack is None:
            return
        values = {
            "packId": pack.id,
            "itemId": pack.item_ids[b % len(pack.item_ids)],
            "delta": (-2, -1, 1, 2)[c % 4],
            "reason": "paper card",
        }
        await self._mutate("correctPackBalance", values)

    async def _change_expiry(self, a: int, b: int, c: int) -> None:
        """Never, into a board window, into the past (expires at once), a later date (which
        restores an expired pack, with a reason), or exactly the end of the 30-day window."""
        pack = self._pack(a)
        if pack is None:
            return
        choice = b % 5
        expires_at: str | None = None
        if choice == 1:
            expires_at = iso(self.now + timedelta(days=EXPIRY_OFFSETS[c % len(EXPIRY_OFFSETS)]))
        elif choice == 2:
            expires_at = iso(datetime.now(UTC) - timedelta(hours=1))
        elif choice == 3:
            expires_at = iso(self.now + timedelta(days=200))
        elif choice == 4:
            # "Expiring within 30 days" means before now + 30 days: this pack is just outside.
            expires_at = iso(self.now + timedelta(days=30))
        values = {"packId": pack.id, "expiresAt": expires_at, "reason": "sessions are owed"}
        await self._mutate("changePackExpiry", values)

    async def _pay(self, a: int, b: int, c: int) -> None:
        """Part of the price, all that is due, or a refund."""
        pack = self._pack(a)
        if pack is None:
            return
        choice = b % 4
        if choice == 0:
            amount = 50_00
        elif choice == 1:
            amount = (await self._current(pack))["balanceDue"]
        elif choice == 2:
            amount = -20_00
        else:
            amount = 1
        if amount > 0:
            await self._mutate(
                "recordPayment", {"packId": pack.id, "amount": amount, "method": "CARD"}
            )
        elif amount < 0:
            refund = {"packId": pack.id, "amount": -amount, "method": "CASH", "reason": "goodwill"}
            await self._mutate("refundPayment", refund)

    async def _pay_invoice(self, a: int, b: int, c: int) -> None:
        """A payment on the pack's sale invoice, which may sell other packs too (``_sell``), some
        of them paid up or cancelled: only the packs the money reaches change (issue 23)."""
        pack = self._pack(a)
        if pack is None:
            return
        due = (await self._current(pack))["balanceDue"]
        amount = max(1, min(due, (10_00, 100_00, due)[b % 3]))
        await self._mutate(
            "recordPayment", {"invoiceId": pack.invoice_id, "amount": amount, "method": "CASH"}
        )

    async def _note(self, a: int, b: int, c: int) -> None:
        pack = self._pack(a)
        if pack is not None:
            await self._mutate(
                "addPackNote", {"packId": pack.id, "text": f"called the client ({b})"}
            )

    async def _cancel_pack(self, a: int, b: int, c: int) -> None:
        pack = self._pack(a)
        if pack is None:
            return
        refund = 0
        if b % 2:
            refund = min(10_00, (await self._current(pack))["amountPaid"])
        values = {"packId": pack.id, "reason": "moved away", "refund": refund, "method": "CARD"}
        await self._mutate("cancelPack", values)

    async def _delete_pack(self, a: int, b: int, c: int) -> None:
        pack = self._pack(a)
        if pack is not None and await self._mutate("deletePack", {"packId": pack.id}):
            self.deleted.add(pack.id)

    async def _void_line(self, a: int, b: int, c: int) -> None:
        """A charged visit voided: an allocated one gives its session back to its pack."""
        lines = self._newest_lines()
        if not lines:
            return
        line = lines[a % len(lines)]
        values = {"lineId": line.id, "reason": "entered by mistake"}
        if await self._mutate("voidInvoiceLine", values) is not None:
            self._forget(line)

    async def _change_service(self, a: int, b: int, c: int) -> None:
        """A charged visit was another service: its line is re-priced and deducted again (from
        the pack it had, when that pack covers the new service), else charged in full."""
        lines = self._newest_lines()
        if not lines:
            return
        line = lines[a % len(lines)]
        values = {"lineId": line.id, "serviceId": self.services[b % len(self.services)]}
        selection = "invoiceLine { id pack { id } }"
        changed = await self._mutate("changeInvoiceLineService", values, selection)
        if changed is not None:
            self._forget(line)
            self._charged(changed, line.client_id)

    async def _void_invoice(self, a: int, b: int, c: int) -> None:
        """The invoice of a deleted pack (or, refused while it sells a live pack, of any)."""
        gone = [p for p in self.packs if p.id in self.deleted] or self.packs
        if gone:
            pack = gone[a % len(gone)]
            await self._mutate("voidInvoice", {"invoiceId": pack.invoice_id, "reason": "mistake"})

    async def _credit(self, client_id: str) -> int:
        data = await self.api.ok(
            "query($id: ID!) { client(id: $id) { creditBalance } }",
            {"id": client_id},
            token=self.tenant.manager_token,
        )
        return data["client"]["creditBalance"]

    async def _apply_credit(self, a: int, b: int, c: int) -> None:
        """The client's credit (from a deleted paid pack, a voided paid visit) paying what a
        pack's sale invoice owes, as far as it goes (or 1 more than the credit: refused)."""
        pack = self._pack(a)
        if pack is None:
            return
        credit = await self._credit(pack.client_id)
        due = (await self._current(pack))["balanceDue"]
        amount = credit + 1 if b % 3 == 2 else min(credit, due, (10_00, due)[b % 2])
        if amount > 0:
            values = {"invoiceId": pack.invoice_id, "amount": amount}
            await self._mutate("applyClientCredit", values)

    async def _refund_credit(self, a: int, b: int, c: int) -> None:
        """Some or all of a client's credit given back."""
        client_id = self.clients[a % len(self.clients)]
        credit = await self._credit(client_id)
        amount = min(credit, (5_00, credit)[b % 2])
        if amount > 0:
            values = {"clientId": client_id, "amount": amount, "method": "CASH", "reason": "moved"}
            await self._mutate("refundClientCredit", values)

    async def _run_expiry_job(self, a: int, b: int, c: int) -> None:
        """What the server's periodic job does: expire due packs, remind of packs expiring soon;
        now, or as it will run a week from now (packs expiring before then expire)."""
        later = timedelta(days=7 if a % 2 else 0)
        report = await process_expiries(business_id=self.tenant.id, now=datetime.now(UTC) + later)
        self.outcomes["expiry job"] += 1
        self.outcomes["expiry job: expired"] += len(report.expired)
        self.outcomes["expiry job: reminded"] += len(report.reminded)
