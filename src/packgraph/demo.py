"""The demo business "Harbour Physio", built through the real domain functions.

Every pack, redemption, payment, correction and note of the curated demo is made by the same
functions the API calls, so the demo has real history and real events. Beyond the curated clients
(``--clients N`` larger than :data:`CURATED_CLIENTS`), :mod:`packgraph.demo_bulk` loads history in
bulk for load and pagination tests.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from packgraph.demo_bulk import bulk_seed
from packgraph.domain import auth
from packgraph.domain.actor import Actor
from packgraph.domain.adjustments import (
    cancel_pack,
    change_pack_expiry,
    correct_pack_balance,
    refund_quote,
)
from packgraph.domain.appointments import (
    cancel_appointment,
    check_in_appointment,
    create_appointment,
)
from packgraph.domain.catalog import (
    TemplateItemSpec,
    create_client,
    create_pack_template,
    create_service,
    set_client_billing_preference,
)
from packgraph.domain.clock import add_months, utcnow
from packgraph.domain.expiry import process_expiries
from packgraph.domain.notes import add_pack_note
from packgraph.domain.payments import record_payment
from packgraph.domain.selling import sell_pack
from packgraph.domain.tasks import complete_task
from packgraph.models import (
    AutoRenew,
    Business,
    Client,
    Event,
    Invoice,
    LedgerEntry,
    Metric,
    Pack,
    PackItem,
    PackTemplate,
    Role,
    Service,
    Staff,
    Task,
    TaskKind,
)

DEMO_BUSINESS = "Harbour Physio"
DEMO_TIMEZONE = "Australia/Sydney"
DEMO_CURRENCY = "AUD"
DEMO_PASSWORD = "demo"
DEMO_LOGINS = (
    ("owner@demo.test", Role.OWNER),
    ("manager@demo.test", Role.MANAGER),
    ("staff@demo.test", Role.STAFF),
)
CURATED_CLIENTS = 12

Progress = Callable[[int], None]


@dataclass(frozen=True)
class SeedReport:
    business_id: int
    clients: int
    packs: int
    seconds: float


async def database_has_data() -> bool:
    return await Business.all().exists()


async def demo_exists() -> bool:
    return await Staff.exists(email=DEMO_LOGINS[0][0])


@dataclass
class Demo:
    """What the scenarios need: the business, its people, services and templates, and a clock."""

    business: Business
    owner: Actor
    manager: Actor
    desk: Actor
    practitioners: list[int]
    services: dict[str, Service]
    templates: dict[str, PackTemplate]
    now: datetime

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.business.timezone)

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def days_ago(self, days: int, hour: int = 10, minute: int = 0) -> datetime:
        return self.local(self.today - timedelta(days=days), hour, minute)

    def today_at(self, hour: int, minute: int = 0) -> datetime:
        return self.local(self.today, hour, minute)

    async def sell(self, client: Client, template: str, days_ago: int, **options) -> Pack:
        result = await sell_pack(
            actor=self.desk,
            client_id=client.id,
            template_id=self.templates[template].id,
            purchased_at=self.days_ago(days_ago, 9, 30),
            **options,
        )
        return result.pack

    async def book(
        self, client: Client, service: str, starts_at: datetime, pack: Pack | None = None
    ) -> int:
        result = await create_appointment(
            actor=self.desk,
            client_id=client.id,
            service_id=self.services[service].id,
            starts_at=starts_at,
            practitioner_id=self.practitioners[starts_at.hour % len(self.practitioners)],
            chosen_pack_id=pack.id if pack else None,
        )
        return result.appointment.id

    async def visit(
        self, client: Client, service: str, starts_at: datetime, pack: Pack | None = None
    ) -> int:
        """A booked appointment that was checked in: the pack is charged through allocation."""
        appointment_id = await self.book(client, service, starts_at, pack)
        await check_in_appointment(actor=self.desk, appointment_id=appointment_id)
        return appointment_id

    async def visits(self, client: Client, pack: Pack, plan: list[tuple[str, int]]) -> None:
        for service, days_ago in plan:
            await self.visit(client, service, self.days_ago(days_ago, 10 + days_ago % 7), pack)

    async def pay(self, pack: Pack, amount: int, days_ago: int, method: str = "CARD") -> None:
        await record_payment(
            actor=self.desk,
            amount=amount,
            method=method,
            pack_id=pack.id,
            received_at=self.days_ago(days_ago, 9, 35),
        )

    async def note(self, pack: Pack, text: str, actor: Actor | None = None) -> None:
        await add_pack_note(actor=actor or self.desk, pack_id=pack.id, text=text)


async def _create_setup(now: datetime) -> Demo:
    business = await auth.create_business(
        name=DEMO_BUSINESS, timezone=DEMO_TIMEZONE, currency=DEMO_CURRENCY
    )
    people = {}
    for (email, role), name in zip(
        DEMO_LOGINS, ("Olivia Harbour", "Marcus Lee", "Sam Patel"), strict=True
    ):
        people[role] = await auth.create_staff(
            business_id=business.id, name=name, email=email, role=role, password=DEMO_PASSWORD
        )
    owner = auth.staff_actor(people[Role.OWNER])
    services = {}
    for key, name, minutes, price in (
        ("physio", "Physio", 45, 95_00),
        ("massage60", "Massage 60", 60, 110_00),
        ("massage90", "Massage 90", 90, 150_00),
        ("pilates", "Pilates", 50, 40_00),
        ("assessment", "Initial Assessment", 60, 120_00),
    ):
        services[key] = await create_service(
            actor=owner, name=name, duration_minutes=minutes, price=price
        )
    ids = {key: service.id for key, service in services.items()}
    therapy = [ids["physio"], ids["massage60"], ids["massage90"], ids["pilates"]]
    templates = {}
    for key, options in {
        "physio10": dict(
            name="10 Physio Sessions",
            description="Ten 45-minute physiotherapy sessions, valid for 12 months.",
            metric=Metric.SESSIONS,
            price=850_00,
            items=[TemplateItemSpec(10, [ids["physio"]])],
            validity_months=12,
            default_service_id=ids["physio"],
        ),
        "combo": dict(
            name="5 Physio + 5 Massage",
            description="Five physio sessions and five 60-minute massages.",
            metric=Metric.SESSIONS,
            price=900_00,
            items=[
                TemplateItemSpec(5, [ids["physio"]]),
                TemplateItemSpec(5, [ids["massage60"]]),
            ],
            validity_months=6,
        ),
        "visits8": dict(
            name="8 Visits: Physio or Massage",
            description="A shared pool of eight visits: physio or any massage.",
            metric=Metric.SESSIONS,
            price=720_00,
            items=[TemplateItemSpec(8, [ids["physio"], ids["massage60"], ids["massage90"]])],
            validity_months=6,
        ),
        "hours10": dict(
            name="10 Hours of Therapy",
            description="600 minutes of any therapy; each visit uses its length.",
            metric=Metric.MINUTES,
            price=1000_00,
            items=[TemplateItemSpec(600, therapy)],
            validity_months=12,
        ),
        "credit500": dict(
            name="$500 Treatment Credit",
            description="$500 of credit for $450; each visit uses the service price.",
            metric=Metric.MONEY,
            price=450_00,
            items=[TemplateItemSpec(500_00, [*therapy, ids["assessment"]])],
            validity_months=24,
        ),
        "insurer8": dict(
            name="Insurer Authorisation: 8 Physio",
            description="Physio sessions authorised by the client's insurer (90 days).",
            metric=Metric.SESSIONS,
            price=760_00,
            items=[TemplateItemSpec(8, [ids["physio"]])],
            validity_days=90,
            default_service_id=ids["physio"],
        ),
        "pilates10": dict(
            name="Pilates Class Pass",
            description="Ten Pilates classes; renews automatically when used up.",
            metric=Metric.SESSIONS,
            price=350_00,
            items=[TemplateItemSpec(10, [ids["pilates"]])],
            validity_months=3,
            default_service_id=ids["pilates"],
            auto_renew=AutoRenew.ON_FULLY_USED,
        ),
    }.items():
        templates[key] = await create_pack_template(actor=owner, **options)
    return Demo(
        business=business,
        owner=owner,
        manager=auth.staff_actor(people[Role.MANAGER]),
        desk=auth.staff_actor(people[Role.STAFF]),
        practitioners=[people[Role.OWNER].id, people[Role.MANAGER].id],
        services=services,
        templates=templates,
        now=now,
    )


async def _client(demo: Demo, name: str, phone: str, notes: str = "") -> Client:
    email = name.lower().replace(" ", ".").replace("'", "") + "@example.test"
    return await create_client(actor=demo.desk, name=name, email=email, phone=phone, notes=notes)


# Each scenario is one client with its packs and history; together they cover every status,
# every payment status, every metric, a discount, a correction, a reversal, notes and tasks,
# and today's appointments.


async def _ana(demo: Demo) -> None:
    ana = await _client(demo, "Ana Silva", "0412 555 101", "Prefers morning appointments.")
    pack = await demo.sell(ana, "physio10", 60)
    await demo.pay(pack, 850_00, 60)
    await demo.visits(ana, pack, [("physio", 55), ("physio", 41), ("physio", 27)])
    await set_client_billing_preference(actor=demo.desk, client_id=ana.id, pack_id=pack.id)
    await demo.note(pack, "Lower back rehab plan: weekly sessions.")
    await demo.book(ana, "physio", demo.today_at(9))


async def _ben(demo: Demo) -> None:
    ben = await _client(demo, "Ben Carter", "0412 555 102")
    pack = await demo.sell(ben, "combo", 30)
    await demo.pay(pack, 400_00, 30)
    await demo.visits(ben, pack, [("physio", 25), ("massage60", 18), ("physio", 10)])
    # The AcuBliss case: a 90-minute massage chosen at check-in instead of the pack's 60, so it
    # was charged in full and not deducted. The pack's investigation offers to change it.
    await demo.visit(ben, "massage90", demo.days_ago(5, 16))
    await demo.visit(ben, "physio", demo.today_at(9, 45))


async def _chloe(demo: Demo) -> None:
    chloe = await _client(demo, "Chloe Nguyen", "0412 555 103")
    pack = await demo.sell(chloe, "visits8", 120)
    await demo.pay(pack, 720_00, 120)
    plan = [("physio", 112), ("massage60", 98), ("physio", 84), ("massage90", 70)]
    plan += [("physio", 56), ("massage60", 42), ("physio", 28), ("massage60", 14)]
    await demo.visits(chloe, pack, plan)
    renewal = await demo.sell(chloe, "visits8", 0, discount=72_00)
    await demo.note(renewal, "Renewed with a 10% loyalty discount.")


async def _david(demo: Demo) -> None:
    david = await _client(demo, "David Okafor", "0412 555 104")
    pack = await demo.sell(david, "hours10", 50)
    await demo.pay(pack, 500_00, 50)
    await demo.visits(david, pack, [("physio", 45), ("massage60", 31), ("massage90", 17)])
    await demo.pay(pack, 500_00, 17)
    await demo.book(david, "massage60", demo.today_at(11))


async def _emma(demo: Demo) -> None:
    emma = await _client(demo, "Emma Thompson", "0412 555 105")
    pack = await demo.sell(emma, "credit500", 90)
    await demo.pay(pack, 450_00, 90)
    await demo.visits(emma, pack, [("physio", 80), ("massage90", 52), ("massage60", 20)])


async def _farah(demo: Demo) -> None:
    farah = await _client(demo, "Farah Haddad", "0412 555 106", "Workers' compensation claim.")
    bought = demo.days_ago(21, 9, 30)
    pack = await demo.sell(
        farah,
        "insurer8",
        21,
        referrer="Dr Amelia Chen (GP)",
        authorisation_number="WC-2291-884",
        authorised_from=bought.date(),
        authorised_until=bought.date() + timedelta(days=90),
    )
    await demo.visits(farah, pack, [("physio", 14), ("physio", 7)])
    await demo.note(pack, "Invoice the insurer monthly; client pays nothing.")


async def _george(demo: Demo) -> None:
    george = await _client(demo, "George Wilson", "0412 555 107")
    # Sold without an expiry, then given the standard 12 months: the pack expires a month ago.
    pack = await demo.sell(george, "physio10", 395, expires_at=None)
    await demo.pay(pack, 850_00, 395, method="CASH")
    plan = [("physio", 380), ("physio", 350), ("physio", 320), ("physio", 290), ("physio", 250)]
    await demo.visits(george, pack, [*plan, ("physio", 200)])
    bought = demo.days_ago(395, 9, 30)
    expiry = demo.local(add_months(bought.date(), 12), 9, 30)
    await change_pack_expiry(
        actor=demo.manager,
        pack_id=pack.id,
        expires_at=expiry,
        reason="Standard 12-month validity applied",
    )
    await demo.note(pack, "Called about the 4 unused sessions: offered 10% off a new pack.")
    task = await Task.filter(pack_id=pack.id, kind=TaskKind.PACK_EXPIRED).first()
    if task is not None:
        await complete_task(actor=demo.desk, task_id=task.id)


async def _hannah(demo: Demo) -> None:
    hannah = await _client(demo, "Hannah Kim", "0412 555 108")
    pack = await demo.sell(hannah, "combo", 20)
    await demo.pay(pack, 900_00, 20)
    await demo.visits(hannah, pack, [("massage60", 12)])
    refund = await refund_quote(await Pack.get(id=pack.id))
    await cancel_pack(
        actor=demo.manager,
        pack_id=pack.id,
        reason="Moving interstate",
        refund=refund,
        method="BANK_TRANSFER",
    )
    await demo.note(pack, "Refund of the unused sessions approved by Marcus.", demo.manager)


async def _isla(demo: Demo) -> None:
    isla = await _client(demo, "Isla Martin", "0412 555 109")
    bought = add_months(demo.today, -6) + timedelta(days=10)
    pack = await demo.sell(isla, "visits8", (demo.today - bought).days)
    await demo.pay(pack, 720_00, (demo.today - bought).days)
    await demo.visits(isla, pack, [("massage60", 150), ("physio", 120), ("massage90", 60)])
    await demo.book(isla, "massage60", demo.today_at(15, 30))


async def _jack(demo: Demo) -> None:
    jack = await _client(demo, "Jack Robinson", "0412 555 110")
    pack = await demo.sell(jack, "physio10", 45)
    await demo.visits(jack, pack, [("physio", 40), ("physio", 33)])
    cancelled = await demo.visit(jack, "physio", demo.days_ago(26, 14), pack)
    await cancel_appointment(actor=demo.desk, appointment_id=cancelled)
    item = await PackItem.filter(pack_id=pack.id).first()
    assert item is not None
    await correct_pack_balance(
        actor=demo.manager,
        pack_id=pack.id,
        item_id=item.id,
        delta=-2,
        reason="2 sessions used before the move to packgraph",
    )


async def _kiara(demo: Demo) -> None:
    kiara = await _client(demo, "Kiara Singh", "0412 555 111")
    pack = await demo.sell(kiara, "pilates10", 70)
    await demo.pay(pack, 350_00, 70)
    await demo.visits(kiara, pack, [("pilates", 63 - 7 * week) for week in range(9)])
    await demo.book(kiara, "pilates", demo.today_at(12, 30))


async def _liam(demo: Demo) -> None:
    liam = await _client(demo, "Liam O'Brien", "0412 555 112", "New client: referred by Ana.")
    # Paid for an assessment last week, which was then cancelled: the money is his credit now,
    # for today's assessment (or to give back).
    cancelled = await demo.visit(liam, "assessment", demo.days_ago(6, 15))
    invoice = await Invoice.filter(business_id=demo.business.id, client_id=liam.id).first()
    assert invoice is not None
    await record_payment(
        actor=demo.desk,
        amount=120_00,
        method="CARD",
        invoice_id=invoice.id,
        received_at=demo.days_ago(6, 15, 5),
    )
    await cancel_appointment(actor=demo.desk, appointment_id=cancelled)
    await demo.book(liam, "assessment", demo.today_at(14))


SCENARIOS: tuple[Callable[[Demo], Awaitable[None]], ...] = (
    _ana,
    _ben,
    _chloe,
    _david,
    _emma,
    _farah,
    _george,
    _hannah,
    _isla,
    _jack,
    _kiara,
    _liam,
)


async def _backdate_history(demo: Demo) -> None:
    """Date each visit's ledger entry (and its event) at the visit, not at the moment of seeding.

    The domain stamps entries with the time of the write, which is right in production; the demo
    replays months of visits in a second, and reports count redemptions per local day.
    """
    entries = await LedgerEntry.filter(
        business_id=demo.business.id, appointment_id__not_isnull=True
    ).prefetch_related("appointment")
    for entry in entries:
        visited_at = entry.appointment.starts_at
        if visited_at >= entry.created_at:
            continue
        await LedgerEntry.filter(id=entry.id).update(created_at=visited_at)
        await Event.filter(entry_id=entry.id).update(created_at=visited_at)


async def seed_demo(
    *, clients: int = CURATED_CLIENTS, now: datetime | None = None, progress: Progress | None = None
) -> SeedReport:
    """Create the demo business with ``clients`` clients; the caller checks it does not exist.

    The first :data:`CURATED_CLIENTS` clients are the hand-written scenarios, made through the
    domain functions; more are bulk-loaded with consistent history. ``progress`` is called with
    the number of clients done so far.
    """
    started = time.monotonic()
    demo = await _create_setup(now or utcnow())
    for done, scenario in enumerate(SCENARIOS[:clients], start=1):
        await scenario(demo)
        if progress:
            progress(done)
    await _backdate_history(demo)
    # Reminders for packs expiring soon and anything else due, as the server's job would.
    await process_expiries(business_id=demo.business.id)
    if clients > len(SCENARIOS):
        await bulk_seed(
            business=demo.business,
            services=list(demo.services.values()),
            templates=list(demo.templates.values()),
            staff_ids=[*demo.practitioners, demo.desk.staff_id],
            clients=clients - len(SCENARIOS),
            now=demo.now,
            progress=(lambda done: progress(len(SCENARIOS) + done)) if progress else None,
        )
    return SeedReport(
        business_id=demo.business.id,
        clients=await Client.filter(business_id=demo.business.id).count(),
        packs=await Pack.filter(business_id=demo.business.id).count(),
        seconds=time.monotonic() - started,
    )
