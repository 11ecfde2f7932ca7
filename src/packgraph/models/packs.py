"""A client's pack, its items, the append-only ledger and the notes on it."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint
from tortoise.models import Model

from packgraph.models.enums import LedgerKind, Metric, PackStatus, PaymentStatus


class Pack(Model):
    """One client's pack, copied from a template (or custom) at sale."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name="packs", on_delete=fields.CASCADE
    )
    client = fields.ForeignKeyField("models.Client", related_name="packs", on_delete=fields.CASCADE)
    template = fields.ForeignKeyField(
        "models.PackTemplate", related_name="packs", null=True, on_delete=fields.SET_NULL
    )
    name = fields.CharField(max_length=200)
    # The name as search compares it (domain/search.py), written with the pack.
    search_name = fields.TextField(default="")
    description = fields.TextField(default="")
    metric = fields.CharEnumField(Metric, max_length=16)
    price = fields.BigIntField()
    discount = fields.BigIntField(default=0)
    final_price = fields.BigIntField()
    session_price = fields.BigIntField(default=0)
    purchased_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    status = fields.CharEnumField(PackStatus, max_length=16, default=PackStatus.ACTIVE)
    # Net payments allocated to the pack; kept with F() updates so paymentStatus can be filtered.
    amount_paid = fields.BigIntField(default=0)
    payment_status = fields.CharEnumField(
        PaymentStatus, max_length=16, default=PaymentStatus.UNPAID
    )
    referrer = fields.CharField(max_length=200, default="")
    authorisation_number = fields.CharField(max_length=100, default="")
    authorised_from = fields.DateField(null=True)
    authorised_until = fields.DateField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    cancel_reason = fields.TextField(default="")
    deleted_at = fields.DatetimeField(null=True)
    expiry_reminder_sent_at = fields.DatetimeField(null=True)
    # The expiry date the reminder was sent for: a reminder fires once per expiry date.
    expiry_reminder_for = fields.DatetimeField(null=True)
    # Bumped by every change; a snapshot with a higher version is newer.
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "pack"
        # The board lists a business's packs newest first (keyset pages on purchased_at, id):
        # with these a page reads only its own rows, unfiltered or filtered by status or
        # payment, however many packs there are. Other filters (balance due, search) walk
        # pack_business_purchased and stop after a page; "ACTIVE and expiring before" (the
        # expiring tab, reports) reads pack_business_expiry. Migration 0003 also creates what
        # Tortoise's Index cannot express: the partial index the board's counts read, and
        # (PostgreSQL only) trigram indexes for search.
        indexes = (
            Index(fields=("business_id", "purchased_at", "id"), name="pack_business_purchased"),
            Index(
                fields=("business_id", "status", "purchased_at", "id"),
                name="pack_business_status",
            ),
            Index(
                fields=("business_id", "payment_status", "purchased_at", "id"),
                name="pack_business_payment",
            ),
            Index(
                fields=("business_id", "status", "expires_at", "id"),
                name="pack_business_expiry",
            ),
            Index(fields=("business_id", "client_id", "id"), name="pack_business_client"),
        )
        constraints = (
            CheckConstraint(check="discount >= 0 AND final_price >= 0", name="pack_price_valid"),
        )


class PackItem(Model):
    """One allowance inside a pack. ``used`` equals the sum of its ledger entries."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    pack = fields.ForeignKeyField("models.Pack", related_name="items", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    allowance = fields.BigIntField()
    used = fields.BigIntField(default=0)

    class Meta:
        table = "pack_item"
        # A page of pack cards loads its packs' items in one query (pack_id IN (...)).
        indexes = (Index(fields=("pack_id", "position", "id"), name="pack_item_pack"),)
        constraints = (
            CheckConstraint(
                check="used >= 0 AND used <= allowance AND allowance > 0",
                name="pack_item_used_within_allowance",
            ),
        )


class PackItemService(Model):
    """A service eligible for a pack item."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    item = fields.ForeignKeyField(
        "models.PackItem", related_name="eligible", on_delete=fields.CASCADE
    )
    service = fields.ForeignKeyField("models.Service", related_name=False, on_delete=fields.CASCADE)

    class Meta:
        table = "pack_item_service"
        unique_together = (("item", "service"),)


class LedgerEntry(Model):
    """Append-only history of a pack item. ``quantity`` is the signed change to ``used``."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    pack = fields.ForeignKeyField("models.Pack", related_name="entries", on_delete=fields.CASCADE)
    item = fields.ForeignKeyField(
        "models.PackItem", related_name="entries", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(LedgerKind, max_length=16)
    quantity = fields.BigIntField()
    session_number = fields.IntField(null=True)
    staff = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    reason = fields.TextField(default="")
    appointment = fields.ForeignKeyField(
        "models.Appointment", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    invoice_line = fields.ForeignKeyField(
        "models.InvoiceLine", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    reverses = fields.ForeignKeyField(
        "models.LedgerEntry", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ledger_entry"
        indexes = (
            Index(fields=("pack_id", "id"), name="ledger_pack"),
            Index(fields=("business_id", "created_at"), name="ledger_business_time"),
        )


class PackNote(Model):
    """A note on a pack, with its author."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    pack = fields.ForeignKeyField("models.Pack", related_name="notes", on_delete=fields.CASCADE)
    text = fields.TextField()
    staff = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pack_note"


class IdempotencyRecord(Model):
    """The first result of a redeeming operation, replayed when its key is used again."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=200)
    operation = fields.CharField(max_length=64)
    result = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_record"
        constraints = (
            UniqueConstraint(fields=("business_id", "key"), name="idempotency_business_key"),
        )
