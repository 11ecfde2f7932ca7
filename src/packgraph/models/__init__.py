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
    CreditKind,
    EventType,
    InvoiceStatus,
    LedgerKind,
    LineKind,
    Metric,
    PackStatus,
    PaymentMethod,
    PaymentStatus,
    RefundTo,
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
from packgraph.models.visits import Appointment, CreditEntry, Invoice, InvoiceLine, Payment
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
    CreditEntry,
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
    "CreditKind",
    "InvoiceStatus",
    "RefundTo",
    "PaymentStatus",
    "Role",
    "TaskKind",
]
