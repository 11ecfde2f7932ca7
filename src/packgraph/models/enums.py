"""Enumerations stored in the database. Their values are the public GraphQL enum values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "OWNER"
    MANAGER = "MANAGER"
    STAFF = "STAFF"
    INTEGRATION = "INTEGRATION"


class Metric(StrEnum):
    SESSIONS = "SESSIONS"
    MINUTES = "MINUTES"
    MONEY = "MONEY"


class PackStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    FULLY_USED = "FULLY_USED"
    CANCELLED = "CANCELLED"


class PaymentMethod(StrEnum):
    """How money was received or given back (SPEC §6.1)."""

    CARD = "CARD"
    CASH = "CASH"
    BANK_TRANSFER = "BANK_TRANSFER"
    INSURER = "INSURER"
    VOUCHER = "VOUCHER"
    OTHER = "OTHER"
    # Money moved between an invoice and the client's credit (``client_credit``), never chosen
    # for money received or given back.
    CLIENT_CREDIT = "CLIENT_CREDIT"


class RefundTo(StrEnum):
    """Where the money given back for a cancelled pack goes (SPEC §6.1)."""

    PAID_OUT = "PAID_OUT"
    CLIENT_CREDIT = "CLIENT_CREDIT"


class CreditKind(StrEnum):
    """A client credit entry (SPEC §6.1): money moved to the credit, applied from it to an
    invoice, or refunded from it."""

    CREDITED = "CREDITED"
    APPLIED = "APPLIED"
    REFUNDED = "REFUNDED"


class PaymentStatus(StrEnum):
    PAID = "PAID"
    PARTIAL = "PARTIAL"
    UNPAID = "UNPAID"


class InvoiceStatus(StrEnum):
    """Computed from an invoice's lines and payments (never stored): see ``invoices.status_of``."""

    ISSUED = "ISSUED"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    VOID = "VOID"


class AutoRenew(StrEnum):
    NEVER = "NEVER"
    ON_EXPIRY = "ON_EXPIRY"
    ON_FULLY_USED = "ON_FULLY_USED"


class LedgerKind(StrEnum):
    REDEMPTION = "REDEMPTION"
    REVERSAL = "REVERSAL"
    CORRECTION = "CORRECTION"


class AppointmentStatus(StrEnum):
    BOOKED = "BOOKED"
    ATTENDED = "ATTENDED"
    NO_SHOW = "NO_SHOW"
    CANCELLED = "CANCELLED"


class LineKind(StrEnum):
    SERVICE = "SERVICE"
    PACK_SALE = "PACK_SALE"
    PRODUCT = "PRODUCT"


class TaskKind(StrEnum):
    PACK_USED_UP = "PACK_USED_UP"
    PACK_EXPIRED = "PACK_EXPIRED"
    PACK_EXPIRING_SOON = "PACK_EXPIRING_SOON"


class EventType(StrEnum):
    PACK_SOLD = "PACK_SOLD"
    SESSION_REDEEMED = "SESSION_REDEEMED"
    REDEMPTION_REVERSED = "REDEMPTION_REVERSED"
    PACK_CORRECTED = "PACK_CORRECTED"
    PAYMENT_RECORDED = "PAYMENT_RECORDED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"
    EXPIRY_CHANGED = "EXPIRY_CHANGED"
    PACK_EXPIRING_SOON = "PACK_EXPIRING_SOON"
    PACK_EXPIRED = "PACK_EXPIRED"
    PACK_FULLY_USED = "PACK_FULLY_USED"
    PACK_CANCELLED = "PACK_CANCELLED"
    PACK_DELETED = "PACK_DELETED"
    NOTE_ADDED = "NOTE_ADDED"
    ALLOCATIONS_MOVED = "ALLOCATIONS_MOVED"
    INVOICE_LINE_VOIDED = "INVOICE_LINE_VOIDED"
    INVOICE_VOIDED = "INVOICE_VOIDED"
    CLIENT_CREDITED = "CLIENT_CREDITED"
    CREDIT_APPLIED = "CREDIT_APPLIED"
    CREDIT_REFUNDED = "CREDIT_REFUNDED"
    SERVICE_CHANGED = "SERVICE_CHANGED"
