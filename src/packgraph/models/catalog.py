"""Clients, the services sold per visit, and the pack templates sold from."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from packgraph.models.enums import AutoRenew, Metric


class Client(Model):
    """The customer or patient who owns packs."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name="clients", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, default="")
    phone = fields.CharField(max_length=64, default="")
    # Name, phone digits and email as search compares them (domain/search.py), written with them.
    search_text = fields.TextField(default="")
    notes = fields.TextField(default="")
    # Billing setup: at most one of these is set; it is added to each new appointment.
    preferred_pack = fields.ForeignKeyField(
        "models.Pack", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    preferred_service = fields.ForeignKeyField(
        "models.Service", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "client"
        indexes = (Index(fields=("business_id", "name"), name="client_business_name"),)


class Service(Model):
    """What is sold per visit."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name="services", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    duration_minutes = fields.IntField()
    price = fields.BigIntField()
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "service"


class PackTemplate(Model):
    """A pack definition. Selling copies it into the pack, so later edits never touch sold packs."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name="pack_templates", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    metric = fields.CharEnumField(Metric, max_length=16)
    price = fields.BigIntField()
    session_price = fields.BigIntField(default=0)
    validity_days = fields.IntField(null=True)
    validity_months = fields.IntField(null=True)
    default_service = fields.ForeignKeyField(
        "models.Service", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    auto_renew = fields.CharEnumField(AutoRenew, max_length=16, default=AutoRenew.NEVER)
    archived = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pack_template"


class PackTemplateItem(Model):
    """One allowance of a template, in the template's metric units."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    template = fields.ForeignKeyField(
        "models.PackTemplate", related_name="items", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)
    allowance = fields.BigIntField()

    class Meta:
        table = "pack_template_item"


class PackTemplateItemService(Model):
    """A service eligible for a template item."""

    id = fields.IntField(primary_key=True)
    business = fields.ForeignKeyField(
        "models.Business", related_name=False, on_delete=fields.CASCADE
    )
    item = fields.ForeignKeyField(
        "models.PackTemplateItem", related_name="eligible", on_delete=fields.CASCADE
    )
    service = fields.ForeignKeyField("models.Service", related_name=False, on_delete=fields.CASCADE)

    class Meta:
        table = "pack_template_item_service"
        unique_together = (("item", "service"),)
