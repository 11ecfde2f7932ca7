"""The demo business: built through the domain, covering every status, with consistent history,
also when bulk-loaded for large data sets."""

from __future__ import annotations

from collections import Counter

from packgraph import demo
from packgraph.domain import auth
from packgraph.domain.clock import utcnow
from packgraph.domain.diagnosis import FindingCode, diagnose_pack
from packgraph.domain.selling import sell_pack
from packgraph.domain.status import compute_status
from packgraph.models import (
    Appointment,
    AppointmentStatus,
    Business,
    Client,
    Event,
    EventType,
    Invoice,
    LedgerEntry,
    LedgerKind,
    Pack,
    PackItem,
    PackNote,
    PackTemplate,
    Payment,
    Role,
    Staff,
    Task,
)
from packgraph.settings import Settings


async def _assert_consistent(business_id: int) -> None:
    """The invariants the domain keeps hold for every pack of the business."""
    now = utcnow()
    items = await PackItem.filter(business_id=business_id).values(
        "id", "pack_id", "used", "allowance"
    )
    sums = Counter()
    for item_id, quantity in await LedgerEntry.filter(business_id=business_id).values_list(
        "item_id", "quantity"
    ):
        sums[item_id] += quantity
    by_pack: dict[int, list[tuple[int, int]]] = {}
    for item in items:
        assert item["used"] == sums[item["id"]], item
        assert 0 <= item["used"] <= item["allowance"]
        by_pack.setdefault(item["pack_id"], []).append((item["used"], item["allowance"]))
    paid = Counter()
    for pack_id, amount in await Payment.filter(business_id=business_id).values_list(
        "pack_id", "amount"
    ):
        paid[pack_id] += amount
    for pack in await Pack.filter(business_id=business_id):
        expected = compute_status(
            cancelled_at=pack.cancelled_at,
            items=by_pack[pack.id],
            expires_at=pack.expires_at,
            now=now,
        )
        assert pack.status == expected, (pack.id, pack.name)
        assert pack.amount_paid == paid[pack.id]
        assert pack.final_price == pack.price - pack.discount
    numbers = await Invoice.filter(business_id=business_id).values_list("number", flat=True)
    assert len(numbers) == len(set(numbers))


async def test_the_demo_covers_every_status_metric_and_kind_of_history(db):
    report = await demo.seed_demo()
    business = await Business.get(id=report.business_id)
    assert (business.name, business.timezone, business.currency) == (
        "Harbour Physio",
        "Australia/Sydney",
        "AUD",
    )
    assert report.clients == demo.CURATED_CLIENTS == await Client.filter(business=business).count()
    assert await demo.demo_exists() and await demo.database_has_data()

    packs = await Pack.filter(business=business)
    assert {pack.status.value for pack in packs} == {"ACTIVE", "FULLY_USED", "EXPIRED", "CANCELLED"}
    assert {pack.payment_status.value for pack in packs} == {"PAID", "PARTIAL", "UNPAID"}
    assert {pack.metric.value for pack in packs} == {"SESSIONS", "MINUTES", "MONEY"}
    assert any(pack.discount > 0 for pack in packs)
    assert any(pack.authorisation_number for pack in packs)
    assert await PackTemplate.filter(business=business).count() >= 6

    kinds = set(await LedgerEntry.filter(business=business).values_list("kind", flat=True))
    assert kinds == {LedgerKind.REDEMPTION, LedgerKind.REVERSAL, LedgerKind.CORRECTION}
    assert await PackNote.filter(business=business).count() >= 3
    assert await Payment.filter(business=business, amount__lt=0).exists()  # a refund
    assert await Task.filter(business=business).exists()

    # Made through the domain: every pack was sold with an event, history has events too.
    events = Counter(await Event.filter(business=business).values_list("type", flat=True))
    assert events[EventType.PACK_SOLD] == len(packs)
    for kind in (EventType.SESSION_REDEEMED, EventType.PAYMENT_RECORDED, EventType.PACK_EXPIRED):
        assert events[kind] > 0, kind

    today = utcnow().astimezone(business_zone(business)).date()
    todays = [
        appointment
        for appointment in await Appointment.filter(business=business)
        if appointment.starts_at.astimezone(business_zone(business)).date() == today
    ]
    statuses = Counter(appointment.status for appointment in todays)
    assert statuses[AppointmentStatus.BOOKED] >= 3
    assert statuses[AppointmentStatus.ATTENDED] >= 1
    await _assert_consistent(business.id)

    # Ben's 90-minute massage, charged in full against his 60-minute massages: the investigation
    # finds it and offers the service change (the dashboard's walkthrough of the fix).
    ben = await Pack.get(business=business, client__name="Ben Carter")
    owner = await Staff.get(business=business, role=Role.OWNER)
    diagnosis = await diagnose_pack(actor=auth.staff_actor(owner), pack_id=ben.id)
    [finding] = diagnosis.findings
    assert finding.code == FindingCode.SERVICE_NOT_IN_PACK
    assert finding.fix is not None and finding.fix.mutation == "changeAppointmentService"


def business_zone(business: Business):
    from zoneinfo import ZoneInfo

    return ZoneInfo(business.timezone)


async def test_the_demo_logins_work(db):
    await demo.seed_demo(clients=1)
    for email, role in demo.DEMO_LOGINS:
        result = await auth.login(
            email=email, password=demo.DEMO_PASSWORD, address="127.0.0.1", settings=Settings()
        )
        assert result.staff.role == role


async def test_bulk_history_keeps_the_invariants_and_the_domain_keeps_working(db):
    progress: list[int] = []
    report = await demo.seed_demo(clients=demo.CURATED_CLIENTS + 30, progress=progress.append)
    assert report.clients == demo.CURATED_CLIENTS + 30
    assert report.packs >= demo.CURATED_CLIENTS + 30 * 3
    assert progress[-1] == demo.CURATED_CLIENTS + 30 and progress == sorted(progress)
    await _assert_consistent(report.business_id)

    # Ids and invoice numbers continue after the bulk rows (sequences were moved past them).
    owner = await auth.login(
        email="owner@demo.test", password="demo", address="127.0.0.1", settings=Settings()
    )
    actor = auth.staff_actor(owner.staff)
    client = await Client.filter(business_id=report.business_id).order_by("-id").first()
    template = await PackTemplate.filter(business_id=report.business_id).first()
    sale = await sell_pack(actor=actor, client_id=client.id, template_id=template.id)
    newest = await Pack.all().order_by("-id").first()
    assert newest is not None and sale.pack.id == newest.id
    await _assert_consistent(report.business_id)
