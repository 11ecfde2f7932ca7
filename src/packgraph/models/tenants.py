"""The tenant and the people and keys that act inside it."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from packgraph.models.enums import Role


class Business(Model):
    """A clinic, salon or studio: the tenant every other row belongs to."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    timezone = fields.CharField(max_length=64, default="UTC")
    currency = fields.CharField(max_length=3, default="AUD")
    redemption_requires_full_payment = fields.BooleanField(default=False)
    redeem_on_no_show = fields.BooleanField(default=False)
    create_task_on_pack_end = fields.BooleanField(default=True)
    reminder_days = fields.IntField(default=14)
    # Per-business counters, advanced with conditional UPDATEs inside the writing transaction.
    # event_seq orders the outbox: the row lock it takes serialises event numbering per business
    # until commit, so a reader never sees event n+1 before event n is visible.
    event_seq = fields.BigIntField(default=0)
    invoice_seq = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "business"


class Staff(Model):
    """A person who logs in to the dashboard."""

    id = fields.IntField(primary_key=True)
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="staff", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, unique=True)
    role = fields.CharEnumField(Role, max_length=16)
    password_hash = fields.CharField(max_length=255)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff"


class StaffSession(Model):
    """A login: the bearer token is random and only its SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="sessions", on_delete=fields.CASCADE
    )
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="sessions", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_session"


class ApiKey(Model):
    """An integration's credential: read and subscribe only."""

    id = fields.IntField(primary_key=True)
    business: fields.ForeignKeyRelation[Business] = fields.ForeignKeyField(
        "models.Business", related_name="api_keys", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=16, default=Role.INTEGRATION)
    token_hash = fields.CharField(max_length=64, unique=True)
    token_prefix = fields.CharField(max_length=16)
    created_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class LoginAttempt(Model):
    """A failed login, kept in the database so the rate limit holds across server processes."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    address = fields.CharField(max_length=64, db_index=True)
    attempted_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "login_attempt"
