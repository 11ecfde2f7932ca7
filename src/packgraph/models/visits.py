"""Appointments, invoices with their lines, and payments."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.models import Model

from packgraph.models.enums import AppointmentStatus, CreditKind, LineKind, PaymentMethod


class Appointment(Model):
    """A visit. Never hard-deleted: ``deleted_at`` marks a removed one."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    client = fields.ForeignKeyField(
        "models.Client", related_name="appointments", on_delete=fields.CASCADE
    )
    service = fields.ForeignKeyField("models.Service", related_name=False, on_delete=fields.CASCADE)
    practitioner = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    starts_at = fields.DatetimeField()
    status = fields.CharEnumField(
        AppointmentStatus, max_length=16, default=AppointmentStatus.BOOKED
    )
    no_charge = fields.BooleanField(default=False)
    chosen_pack = fields.ForeignKeyField(
        "models.Pack", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "appointment"
        indexes = (
            Index(fields=("business_id", "starts_at"), name="appointment_business_time"),
            Index(fields=("business_id", "client_id", "starts_at"), name="appointment_client"),
        )


class Invoice(Model):
    """What a client is charged. Numbers are unique per business; invoices are voided, never
    deleted."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    client = fields.ForeignKeyField(
        "models.Client", related_name="invoices", on_delete=fields.CASCADE
    )
    number = fields.CharField(max_length=32)
    issued_on = fields.DateField()
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set by voidInvoice: the invoice charges nothing and takes no new lines or payments.
    voided_at = fields.DatetimeField(null=True)
    void_reason = fields.CharField(max_length=500, default="")
    voided_by = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "invoice"
        constraints = (
            UniqueConstraint(fields=("business_id", "number"), name="invoice_business_number"),
        )


class InvoiceLine(Model):
    """One charge. A SERVICE line allocated to a pack deducts from it. Lines are voided (in whole
    or, for a cancelled pack's sale, the unpaid part), never deleted."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    invoice = fields.ForeignKeyField(
        "models.Invoice", related_name="lines", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(LineKind, max_length=16)
    description = fields.CharField(max_length=300, default="")
    service = fields.ForeignKeyField(
        "models.Service", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    appointment = fields.ForeignKeyField(
        "models.Appointment", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # The pack this SERVICE line is allocated to (deducting), or the pack a PACK_SALE line sells.
    pack = fields.ForeignKeyField(
        "models.Pack", related_name="lines", null=True, on_delete=fields.SET_NULL
    )
    pack_item = fields.ForeignKeyField(
        "models.PackItem", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    units = fields.BigIntField(default=0)
    session_number = fields.IntField(null=True)
    retrospective = fields.BooleanField(default=False)
    quantity = fields.IntField(default=1)
    unit_price = fields.BigIntField()
    amount = fields.BigIntField()
    # The part of ``amount`` no longer charged: all of it once the line is voided, the unpaid
    # part of a cancelled or deleted pack's sale line. The line charges amount - voided_amount.
    voided_amount = fields.BigIntField(default=0)
    voided_at = fields.DatetimeField(null=True)
    void_reason = fields.CharField(max_length=500, default="")
    voided_by = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "invoice_line"
        indexes = (Index(fields=("pack_id", "kind"), name="invoice_line_pack"),)


class Payment(Model):
    """Money received (positive) or given back (negative: a refund, with its reason)."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    invoice = fields.ForeignKeyField(
        "models.Invoice", related_name="payments", null=True, on_delete=fields.SET_NULL
    )
    pack = fields.ForeignKeyField(
        "models.Pack", related_name="payments", null=True, on_delete=fields.SET_NULL
    )
    amount = fields.BigIntField()
    method = fields.CharEnumField(PaymentMethod, max_length=32)
    reason = fields.CharField(max_length=500, default="")
    received_at = fields.DatetimeField()
    staff = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # Set on money moved to or from the client's credit (method CLIENT_CREDIT).
    credit_entry = fields.ForeignKeyField(
        "models.CreditEntry", related_name="payments", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment"


class CreditEntry(Model):
    """One change of a client's credit (SPEC §6.1), append-only: money moved to it from an
    invoice or a pack (CREDITED, positive), applied from it to an invoice (APPLIED, negative) or
    refunded to the client (REFUNDED, negative). ``balance_after`` is the credit after it: every
    entry is written under the business row lock, so the entries of a client form one chain."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    client = fields.ForeignKeyField(
        "models.Client", related_name="credit_entries", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(CreditKind, max_length=16)
    amount = fields.BigIntField()
    balance_after = fields.BigIntField()
    # The invoice the money came from (CREDITED) or went to (APPLIED).
    invoice = fields.ForeignKeyField(
        "models.Invoice", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # How a refund was paid out (REFUNDED only).
    method = fields.CharEnumField(PaymentMethod, max_length=32, null=True)
    reason = fields.CharField(max_length=500, default="")
    staff = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "credit_entry"
        indexes = (Index(fields=("client_id", "id"), name="credit_entry_client"),)
