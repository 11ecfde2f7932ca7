"""DataLoaders for every relation, created per request and bound to one business.

Each loader answers a whole batch of keys with one SQL statement, so a page of 5 packs and a
page of 50 run the same statements. Every statement filters by the business: a key from another
business loads as None (or an empty list), exactly like a key that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from packgraph.models import (
    ApiKey,
    Appointment,
    Business,
    Client,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Pack,
    PackItem,
    PackItemService,
    PackNote,
    PackTemplate,
    PackTemplateItem,
    PackTemplateItemService,
    Payment,
    Service,
    Staff,
    Task,
)

M = TypeVar("M", bound=Model)


class Loaders:
    """One DataLoader per relation. ``business_id=None`` (anonymous) loads nothing."""

    def __init__(self, business_id: int | None) -> None:
        self.business_id = business_id
        self.business: DataLoader[int, Business | None] = DataLoader(self._load_businesses)
        self.staff = self._by_id(Staff)
        self.api_key = self._by_id(ApiKey)
        self.client = self._by_id(Client)
        self.service = self._by_id(Service)
        self.template = self._by_id(PackTemplate)
        self.pack = self._by_id(Pack)
        self.pack_item = self._by_id(PackItem)
        self.entry = self._by_id(LedgerEntry)
        self.note = self._by_id(PackNote)
        self.appointment = self._by_id(Appointment)
        self.invoice = self._by_id(Invoice)
        self.line = self._by_id(InvoiceLine)
        self.payment = self._by_id(Payment)
        self.task = self._by_id(Task)

        self.template_items = self._children(PackTemplateItem, "template_id", "position", "id")
        self.template_item_services = self._children(PackTemplateItemService, "item_id", "id")
        self.pack_items = self._children(PackItem, "pack_id", "position", "id")
        self.pack_item_services = self._children(PackItemService, "item_id", "id")
        self.pack_payments = self._children(Payment, "pack_id", "received_at", "id")
        self.pack_notes = self._children(PackNote, "pack_id", "-created_at", "-id")
        self.pack_lines = self._children(InvoiceLine, "pack_id", "id")
        self.client_packs = self._children(
            Pack, "client_id", "-purchased_at", "-id", deleted_at__isnull=True
        )
        self.client_appointments = self._children(
            Appointment, "client_id", "-starts_at", "-id", deleted_at__isnull=True
        )
        self.client_invoices = self._children(Invoice, "client_id", "-issued_on", "-id")
        self.invoice_lines = self._children(InvoiceLine, "invoice_id", "id")
        self.invoice_payments = self._children(Payment, "invoice_id", "received_at", "id")
        self.appointment_lines = self._children(InvoiceLine, "appointment_id", "id")
        self.business_staff = self._children(Staff, "business_id", "name", "id")
        self.business_api_keys = self._children(ApiKey, "business_id", "-created_at", "-id")

    async def _load_businesses(self, keys: list[int]) -> list[Business | None]:
        if self.business_id is None or self.business_id not in keys:
            return [None] * len(keys)
        business = await Business.get_or_none(id=self.business_id)
        return [business if key == self.business_id else None for key in keys]

    def _by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        async def load(keys: list[int]) -> list[M | None]:
            if self.business_id is None:
                return [None] * len(keys)
            rows = await model.filter(business_id=self.business_id, id__in=keys)
            found = {row.pk: row for row in rows}
            return [found.get(key) for key in keys]

        return DataLoader(load)

    def _children(
        self, model: type[M], key_field: str, *order: str, **conditions: Any
    ) -> DataLoader[int, list[M]]:
        async def load(keys: list[int]) -> list[list[M]]:
            if self.business_id is None:
                return [[] for _ in keys]
            rows = await model.filter(
                business_id=self.business_id, **{f"{key_field}__in": keys}, **conditions
            ).order_by(*order)
            grouped: dict[int, list[M]] = defaultdict(list)
            for row in rows:
                grouped[getattr(row, key_field)].append(row)
            return [grouped.get(key, []) for key in keys]

        return DataLoader(load)

    def prime(self, loader: DataLoader[int, Any], rows: Sequence[Model]) -> None:
        """Seed a by-id loader with rows a list query already fetched."""
        for row in rows:
            loader.prime(row.pk, row)
