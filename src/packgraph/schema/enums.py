"""GraphQL enums. Each mirrors a model or domain enum value for value, with a description per value.

The mirrors are built from the source enum, so a value added to the model without a description
here fails at import time instead of reaching the schema undocumented.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from packgraph.domain.errors import ErrorCode
from packgraph.models import enums as model_enums


def mirror(source: type[Enum], *, name: str, description: str, values: dict[str, str]) -> type:
    """A strawberry enum with the members of ``source``; ``values`` describes every member."""
    names = [member.name for member in source]  # type: ignore[attr-defined]
    if set(names) != set(values):
        missing, extra = sorted(set(names) - set(values)), sorted(set(values) - set(names))
        raise RuntimeError(
            f"{name} does not describe {source.__name__} exactly: missing {missing}, extra {extra}"
        )
    members = {
        member.name: strawberry.enum_value(member.value, description=values[member.name])
        for member in source  # type: ignore[attr-defined]
    }
    return strawberry.enum(Enum(name, members), name=name, description=description)  # type: ignore[arg-type]


Role = mirror(
    model_enums.Role,
    name="Role",
    description="What a staff member or API key may do inside its business.",
    values={
        "OWNER": "Runs the business: every action, including settings and API keys.",
        "MANAGER": "Every action, including corrections, expiry edits, cancelling and deleting.",
        "STAFF": "Front desk: sells, books, checks in, redeems, takes payments, adds notes.",
        "INTEGRATION": "An API key: reads and subscribes, never writes.",
    },
)

Metric = mirror(
    model_enums.Metric,
    name="Metric",
    description="The unit a pack counts in. Allowances and usage are integers in this unit.",
    values={
        "SESSIONS": "A count of visits.",
        "MINUTES": "Time in minutes (the dashboard shows hours); a visit uses its duration.",
        "MONEY": "A credit balance in minor currency units; a visit uses its service price.",
    },
)

PackStatus = mirror(
    model_enums.PackStatus,
    name="PackStatus",
    description="Where a pack is in its life. Only ACTIVE packs can be redeemed.",
    values={
        "ACTIVE": "Open: has balance left, not expired, not cancelled.",
        "EXPIRED": "Its expiry date has passed with balance left.",
        "FULLY_USED": "Every item has used its whole allowance.",
        "CANCELLED": "Cancelled by a manager; nothing more can be redeemed.",
    },
)

PaymentMethod = mirror(
    model_enums.PaymentMethod,
    name="PaymentMethod",
    description="How money was received or given back.",
    values={
        "CARD": "A credit, debit or EFTPOS card.",
        "CASH": "Cash.",
        "BANK_TRANSFER": "A bank transfer or deposit.",
        "INSURER": "Paid by (or back to) a health insurer or fund.",
        "VOUCHER": "A gift card or voucher.",
        "OTHER": "Anything else.",
        "CLIENT_CREDIT": "Moved from an invoice or pack to the client's credit (negative) or "
        "paid from it (positive). Set by the system; `recordPayment` and `refundPayment` refuse "
        "it: use `applyClientCredit` and `refundClientCredit`.",
    },
)

RefundTo = mirror(
    model_enums.RefundTo,
    name="RefundTo",
    description="Where money given back for a cancelled pack goes.",
    values={
        "PAID_OUT": "Paid back to the client in the refund's `method`.",
        "CLIENT_CREDIT": "Kept as the client's credit, to apply to another invoice or refund "
        "later.",
    },
)

CreditKind = mirror(
    model_enums.CreditKind,
    name="CreditKind",
    description="What a client credit entry records.",
    values={
        "CREDITED": "Money moved to the credit: an invoice paid beyond what it charges after a "
        "void or a retrospective allocation, or what a deleted or cancelled pack had paid.",
        "APPLIED": "Credit used to pay an invoice.",
        "REFUNDED": "Credit given back to the client, in a payment method.",
    },
)

PaymentStatus = mirror(
    model_enums.PaymentStatus,
    name="PaymentStatus",
    description="How much of a pack's final price has been paid (net of refunds).",
    values={
        "PAID": "Payments cover the final price.",
        "PARTIAL": "Something has been paid, but less than the final price.",
        "UNPAID": "Nothing has been paid.",
    },
)

InvoiceStatus = mirror(
    model_enums.InvoiceStatus,
    name="InvoiceStatus",
    description="Where an invoice is in its life, from its lines and payments (net of refunds).",
    values={
        "ISSUED": "Something is charged and nothing is paid yet.",
        "PARTIALLY_PAID": "Something is paid, but less than the total.",
        "PAID": "Payments cover the total (also an invoice that charges nothing).",
        "VOID": "Voided with a reason: it charges nothing and takes no new lines or payments.",
    },
)

AutoRenew = mirror(
    model_enums.AutoRenew,
    name="AutoRenew",
    description="When a new unpaid pack of the same template is created for the client.",
    values={
        "NEVER": "Never renew automatically.",
        "ON_EXPIRY": "Renew when the pack expires.",
        "ON_FULLY_USED": "Renew when the pack's last unit is used.",
    },
)

LedgerKind = mirror(
    model_enums.LedgerKind,
    name="LedgerKind",
    description="What a ledger entry records.",
    values={
        "REDEMPTION": "Units used by a visit or a walk-in redemption.",
        "REVERSAL": "Units given back, e.g. an unallocated invoice line or a cancelled visit.",
        "CORRECTION": "A manager's manual correction, with its reason.",
    },
)

AppointmentStatus = mirror(
    model_enums.AppointmentStatus,
    name="AppointmentStatus",
    description="Where an appointment is in its life.",
    values={
        "BOOKED": "Booked, not yet checked in.",
        "ATTENDED": "Checked in: the client came.",
        "NO_SHOW": "The client did not come.",
        "CANCELLED": "Cancelled; any redemption it made was reversed.",
    },
)

LineKind = mirror(
    model_enums.LineKind,
    name="InvoiceLineKind",
    description="What an invoice line charges for.",
    values={
        "SERVICE": "A visit; when allocated to a pack it deducts from the pack.",
        "PACK_SALE": "The sale of a pack.",
        "PRODUCT": "Anything else sold.",
    },
)

TaskKind = mirror(
    model_enums.TaskKind,
    name="TaskKind",
    description="Why the system raised a task.",
    values={
        "PACK_USED_UP": "A pack's last unit was used: offer a new pack.",
        "PACK_EXPIRED": "A pack expired with balance left.",
        "PACK_EXPIRING_SOON": "A pack expires soon with balance left.",
    },
)

UserErrorCode = mirror(
    ErrorCode,
    name="UserErrorCode",
    description="Why a mutation did not do what was asked. Every expected failure has a code.",
    values={
        "NOT_FOUND": "An ID does not exist (or belongs to another business: they look the same).",
        "PERMISSION_DENIED": "Your role may not do this.",
        "UNAUTHENTICATED": "No valid token was sent.",
        "INVALID_INPUT": "An input value is not acceptable; `field` says which.",
        "INVALID_CREDENTIALS": "Unknown email or wrong password.",
        "RATE_LIMITED": "Too many failed logins: wait and try again.",
        "PACK_NOT_ACTIVE": "The pack is expired, cancelled or fully used.",
        "INSUFFICIENT_BALANCE": "The pack does not have enough balance left.",
        "SERVICE_NOT_IN_PACK": "No item of the pack covers this service.",
        "PACK_NOT_PAID": "The business requires packs to be paid in full before redeeming.",
        "PACK_HAS_INVOICES": "Lines still allocated to the pack; the message names the invoices.",
        "OVERPAYMENT": "The payment is more than the balance due.",
        "REFUND_TOO_LARGE": "The refund is more than the amount paid.",
        "REASON_REQUIRED": "This change must be given a reason.",
        "ALREADY_ALLOCATED": "The invoice line is already allocated to a pack.",
        "NOT_ALLOCATED": "The invoice line is not allocated to a pack.",
        "INVALID_STATE": "The object is not in a state that allows this change.",
        "IDEMPOTENCY_KEY_REUSED": "The idempotency key was used before for a different request.",
        "INVOICE_VOID": "The invoice or line is void: it takes no new lines, payments or "
        "allocations.",
        "INVOICE_HAS_PAYMENTS": "No longer returned: what a change leaves paid beyond the "
        "charge moves to the client's credit.",
        "INSUFFICIENT_CREDIT": "The client's credit is less than the amount.",
    },
)


@strawberry.enum(description="The order of the `packs` connection. Ties are broken by pack ID.")
class PackOrder(Enum):
    PURCHASED_AT_DESC = strawberry.enum_value(
        "PURCHASED_AT_DESC", description="Newest purchase first (the default)."
    )
    PURCHASED_AT_ASC = strawberry.enum_value(
        "PURCHASED_AT_ASC", description="Oldest purchase first."
    )
    EXPIRES_AT_ASC = strawberry.enum_value(
        "EXPIRES_AT_ASC", description="Soonest expiry first; packs without expiry last."
    )
    NAME_ASC = strawberry.enum_value("NAME_ASC", description="By pack name, A to Z.")
    UPDATED_AT_DESC = strawberry.enum_value(
        "UPDATED_AT_DESC", description="Most recently changed first."
    )


def to_model(value: Enum | None, model_enum: type[Enum]) -> Enum | None:
    """The model enum member for a GraphQL enum member (they share values)."""
    return None if value is None else model_enum(value.value)
