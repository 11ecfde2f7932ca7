"""Every row an investigation reads, each kind in one query, and the visits made of them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from packgraph.domain.actor import Actor
from packgraph.domain.units import units_for
from packgraph.models import (
    Appointment,
    Business,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    LineKind,
    Pack,
    PackItem,
    PackItemService,
    Service,
)

# How far before the purchase day an uncounted visit is still reported (BILLED_BEFORE_PURCHASE).
BILLED_BEFORE_DAYS = 14


@dataclass
class Evidence:
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
    async def load(cls, actor: Actor, pack: Pack) -> Evidence:
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

    def eligible_items(self, service_id: int) -> list[PackItem]:
        """The pack's items the service may use, in primary-key order."""
        return [
            item for item in self.items if service_id in self.services_of_item.get(item.id, set())
        ]

    def service_names(self, item: PackItem) -> list[str]:
        ids = sorted(self.services_of_item.get(item.id, set()))
        return [self.services[sid].name for sid in ids if sid in self.services]

    def visit_of_line(self, line: InvoiceLine) -> Visit | None:
        """The visit a SERVICE line charged: at its appointment's start, else when it was
        charged on its invoice's day. None for a service outside the evidence."""
        service = self.services.get(line.service_id or 0)
        if service is None:
            return None
        appointment = self.appointments.get(line.appointment_id or 0)
        if appointment is not None:
            moment = appointment.starts_at
            day = moment.astimezone(ZoneInfo(self.business.timezone)).date()
        else:
            moment = line.created_at
            day = self.invoices[line.invoice_id].issued_on
        return Visit(moment, day, service, line.quantity, appointment, line)

    def usable_at(self, moment: datetime) -> bool:
        """Before the pack's expiry and its cancellation (when they are set)."""
        pack = self.pack
        if pack.expires_at is not None and moment >= pack.expires_at:
            return False
        return pack.cancelled_at is None or moment < pack.cancelled_at

    def room_for(self, visit: Visit) -> tuple[PackItem, int] | None:
        """The item a visit would have used, and its units; None when the pack was not usable
        at the visit's moment or no eligible item had room when it was charged."""
        if not self.usable_at(visit.moment):
            return None
        units = units_for(metric=self.pack.metric, service=visit.service, quantity=visit.quantity)
        if units <= 0:
            return None
        for item in self.eligible_items(visit.service.id):
            before = sum(
                entry.quantity
                for entry in self.entries
                if entry.item_id == item.id and entry.created_at < visit.charged_at
            )
            if before + units <= item.allowance:
                return item, units
        return None


@dataclass(frozen=True)
class Visit:
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
