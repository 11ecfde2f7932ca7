"""Tortoise models, one module per aggregate."""

from packgraph.models.catalog import (
    Client,
    PackTemplate,
    PackTemplateItem,
    PackTemplateItemService,
    Service,
)
from packgraph.models.enums import (
    AppointmentStatus,
    AutoRenew,
    EventType,
    InvoiceStatus,
    LedgerKind,
    LineKind,
    Metric,
    PackStatus,
    PaymentMethod,
    PaymentStatus,
    Role,
    TaskKind,
)
from packgraph.models.packs import (
    IdempotencyRecord,
    LedgerEntry,
    Pack,
    PackItem,
    PackItemService,
    PackNote,
)
from packgraph.models.tenants import ApiKey, Business, LoginAttempt, Staff, StaffSession
from packgraph.models.visits import Appointment, Invoice, InvoiceLine, Payment
from packgraph.models.work import Event, Task

__models__ = [
    Business,
    Staff,
    StaffSession,
    ApiKey,
    LoginAttempt,
    Client,
    Service,
    PackTemplate,
    PackTemplateItem,
    PackTemplateItemService,
    Pack,
    PackItem,
    PackItemService,
    LedgerEntry,
    PackNote,
    IdempotencyRecord,
    Appointment,
    Invoice,
    InvoiceLine,
    Payment,
    Task,
    Event,
]

__all__ = [model.__name__ for model in __models__] + [
    "AppointmentStatus",
    "AutoRenew",
    "EventType",
    "LedgerKind",
    "LineKind",
    "Metric",
    "PackStatus",
    "PaymentMethod",
    "InvoiceStatus",
    "PaymentStatus",
    "Role",
    "TaskKind",
]
