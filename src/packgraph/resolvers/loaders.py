"""DataLoaders for every relation, created per request and bound to one business.

Each loader answers a whole batch of keys with one SQL statement, so a page of 5 packs and a
page of 50 run the same statements. Every statement filters by the business: a key from another
business loads as None (or an empty list), exactly like a key that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, overload

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from packgraph.models import (
    ApiKey,
    Appointment,
    Business,
    Client,
    CreditEntry,
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
T = TypeVar("T")


class _Lazy(Generic[T]):
    """A per-instance attribute made by ``make(instance)`` on first access, then kept.

    Building all 35 loaders for every context was a sixth of the CPU of a small mutation.
    """

    def __init__(self, make: Callable[[Any], T]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _Lazy[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> T | _Lazy[T]:
        if instance is None:
            return self
        value = self.make(instance)
        # A non-data descriptor: from now on the instance attribute is found first.
        instance.__dict__[self.name] = value
        return value


class Loaders:
    """One DataLoader per relation. ``business_id=None`` (anonymous) loads nothing."""

    # Made on first use (see _Lazy): a request touches a few of these relations, and a context
    # makes fresh loaders several times per request.
    business: _Lazy[DataLoader[int, Business | None]] = _Lazy(
        lambda self: DataLoader(self._load_businesses)
    )
    staff = _Lazy(lambda self: self._by_id(Staff))
    api_key = _Lazy(lambda self: self._by_id(ApiKey))
    client = _Lazy(lambda self: self._by_id(Client))
    service = _Lazy(lambda self: self._by_id(Service))
    template = _Lazy(lambda self: self._by_id(PackTemplate))
    pack = _Lazy(lambda self: self._by_id(Pack))
    pack_item = _Lazy(lambda self: self._by_id(PackItem))
    entry = _Lazy(lambda self: self._by_id(LedgerEntry))
    note = _Lazy(lambda self: self._by_id(PackNote))
    appointment = _Lazy(lambda self: self._by_id(Appointment))
    invoice = _Lazy(lambda self: self._by_id(Invoice))
    line = _Lazy(lambda self: self._by_id(InvoiceLine))
    payment = _Lazy(lambda self: self._by_id(Payment))
    credit_entry = _Lazy(lambda self: self._by_id(CreditEntry))
    task = _Lazy(lambda self: self._by_id(Task))

    template_items = _Lazy(
        lambda self: self._children(PackTemplateItem, "template_id", "position", "id")
    )
    template_item_services = _Lazy(
        lambda self: self._children(PackTemplateItemService, "item_id", "id")
    )
    pack_items = _Lazy(lambda self: self._children(PackItem, "pack_id", "position", "id"))
    pack_item_services = _Lazy(lambda self: self._children(PackItemService, "item_id", "id"))
    pack_payments = _Lazy(lambda self: self._children(Payment, "pack_id", "received_at", "id"))
    pack_notes = _Lazy(lambda self: self._children(PackNote, "pack_id", "-created_at", "-id"))
    pack_lines = _Lazy(lambda self: self._children(InvoiceLine, "pack_id", "id"))
    client_packs = _Lazy(
        lambda self: self._children(
            Pack, "client_id", "-purchased_at", "-id", deleted_at__isnull=True
        )
    )
    client_appointments = _Lazy(
        lambda self: self._children(
            Appointment, "client_id", "-starts_at", "-id", deleted_at__isnull=True
        )
    )
    client_invoices = _Lazy(lambda self: self._children(Invoice, "client_id", "-issued_on", "-id"))
    # Newest first: the first one's balance_after is the client's credit.
    client_credit_entries = _Lazy(lambda self: self._children(CreditEntry, "client_id", "-id"))
    invoice_lines = _Lazy(lambda self: self._children(InvoiceLine, "invoice_id", "id"))
    invoice_payments = _Lazy(
        lambda self: self._children(Payment, "invoice_id", "received_at", "id")
    )
    credit_entry_payments = _Lazy(lambda self: self._children(Payment, "credit_entry_id", "id"))
    appointment_lines = _Lazy(lambda self: self._children(InvoiceLine, "appointment_id", "id"))
    business_staff = _Lazy(lambda self: self._children(Staff, "business_id", "name", "id"))
    business_api_keys = _Lazy(
        lambda self: self._children(ApiKey, "business_id", "-created_at", "-id")
    )

    def __init__(self, business_id: int | None) -> None:
        self.business_id = business_id

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
