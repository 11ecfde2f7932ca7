"""Tasks raised by the system and the event outbox."""

from __future__ import annotations

from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.models import Model

from packgraph.models.enums import EventType, TaskKind


class Task(Model):
    """A to-do raised by the system. ``dedupe_key`` makes raising it idempotent across processes."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(TaskKind, max_length=32)
    pack = fields.ForeignKeyField("models.Pack", related_name=False, on_delete=fields.CASCADE)
    client = fields.ForeignKeyField("models.Client", related_name=False, on_delete=fields.CASCADE)
    dedupe_key = fields.CharField(max_length=120)
    created_at = fields.DatetimeField(auto_now_add=True)
    done_at = fields.DatetimeField(null=True)
    done_by = fields.ForeignKeyField(
        "models.Staff", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "task"
        constraints = (
            UniqueConstraint(fields=("business_id", "dedupe_key"), name="task_business_dedupe"),
        )


class Event(Model):
    """The outbox: one row per state change, written in the transaction of the change.

    ``seq`` numbers a business's events without gaps, in commit order; it is the resume cursor.
    """

    id = fields.BigIntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    seq = fields.BigIntField()
    type = fields.CharEnumField(EventType, max_length=32)
    pack = fields.ForeignKeyField(
        "models.Pack", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    client = fields.ForeignKeyField(
        "models.Client", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor = fields.CharField(max_length=64)
    actor_name = fields.CharField(max_length=200, default="")
    entry = fields.ForeignKeyField(
        "models.LedgerEntry", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    payment = fields.ForeignKeyField(
        "models.Payment", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    payload = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "event"
        constraints = (UniqueConstraint(fields=("business_id", "seq"), name="event_business_seq"),)
