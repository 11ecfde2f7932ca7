"""Expected failures as data: every domain function raises DomainError with one of these codes."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every expected failure of a mutation. The GraphQL ``UserErrorCode`` enum mirrors it."""

    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    RATE_LIMITED = "RATE_LIMITED"
    PACK_NOT_ACTIVE = "PACK_NOT_ACTIVE"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    SERVICE_NOT_IN_PACK = "SERVICE_NOT_IN_PACK"
    PACK_NOT_PAID = "PACK_NOT_PAID"
    PACK_HAS_INVOICES = "PACK_HAS_INVOICES"
    OVERPAYMENT = "OVERPAYMENT"
    REFUND_TOO_LARGE = "REFUND_TOO_LARGE"
    REASON_REQUIRED = "REASON_REQUIRED"
    ALREADY_ALLOCATED = "ALREADY_ALLOCATED"
    NOT_ALLOCATED = "NOT_ALLOCATED"
    INVALID_STATE = "INVALID_STATE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INVOICE_VOID = "INVOICE_VOID"
    INVOICE_HAS_PAYMENTS = "INVOICE_HAS_PAYMENTS"
    INSUFFICIENT_CREDIT = "INSUFFICIENT_CREDIT"


class DomainError(Exception):
    """An expected failure: the API turns it into a ``userErrors`` entry, never a 500."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.code.value}, {self.message!r}, field={self.field!r})"


def not_found(what: str, field: str | None = None) -> DomainError:
    """The one error for unknown IDs and IDs of another business: they must look the same."""
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found", field)


def invalid(message: str, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message, field)


# The length of every reason column (corrections, expiry changes, cancellations, refunds).
MAX_REASON_LENGTH = 500


def check_reason(reason: str | None, *, required: bool) -> str:
    """A manager's reason for a change, stripped: REASON_REQUIRED when ``required`` and blank."""
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError(ErrorCode.REASON_REQUIRED, "a reason is required", "reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise invalid(f"a reason is at most {MAX_REASON_LENGTH} characters", "reason")
    return reason
