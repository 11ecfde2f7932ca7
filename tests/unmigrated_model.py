"""A model no migration knows about: proves the missing-migration check can fail."""

from tortoise import fields
from tortoise.models import Model


class Unmigrated(Model):
    id = fields.IntField(primary_key=True)
    label = fields.CharField(max_length=20)

    class Meta:
        table = "unmigrated"
