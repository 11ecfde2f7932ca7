"""Invoice lines and invoices can be voided (SPEC §6.1): void columns on both tables.

Existing data migrates: the sale line of a pack deleted or cancelled before voids existed kept
charging its full price (a deleted unpaid pack left its invoice owing it). Each such line is
voided down to what the pack has paid, with the time and reason of the deletion or cancellation,
so the invoice owes what the pack does.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from packgraph.models.enums import EventType
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint


async def void_unpaid_sales_of_ended_packs(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    marks = ["$1", "$2", "$3", "$4"] if postgres else ["?"] * 4
    rows = await client.execute_query_dict(
        'SELECT "l"."id", "l"."amount", "p"."amount_paid", "p"."deleted_at", "p"."cancelled_at", '
        '"p"."cancel_reason" FROM "invoice_line" "l" JOIN "pack" "p" ON "p"."id" = "l"."pack_id" '
        "WHERE \"l\".\"kind\" = 'PACK_SALE' AND \"l\".\"voided_at\" IS NULL "
        'AND ("p"."deleted_at" IS NOT NULL OR "p"."cancelled_at" IS NOT NULL) '
        'AND "l"."amount" > "p"."amount_paid"'
    )
    update = (
        f'UPDATE "invoice_line" SET "voided_amount" = {marks[0]}, "voided_at" = {marks[1]}, '
        f'"void_reason" = {marks[2]} WHERE "id" = {marks[3]}'
    )
    for row in rows:
        if row["deleted_at"] is not None:
            when, reason = row["deleted_at"], "Pack deleted"
        else:
            when, reason = row["cancelled_at"], row["cancel_reason"] or "Pack cancelled"
        voided = int(row["amount"]) - max(int(row["amount_paid"]), 0)
        await client.execute_query(update, [voided, when, reason[:500], row["id"]])


class Migration(migrations.Migration):
    dependencies = [('models', '0005_payment_methods')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Event',
            name='type',
            field=fields.CharEnumField(description='PACK_SOLD: PACK_SOLD\nSESSION_REDEEMED: SESSION_REDEEMED\nREDEMPTION_REVERSED: REDEMPTION_REVERSED\nPACK_CORRECTED: PACK_CORRECTED\nPAYMENT_RECORDED: PAYMENT_RECORDED\nPAYMENT_REFUNDED: PAYMENT_REFUNDED\nEXPIRY_CHANGED: EXPIRY_CHANGED\nPACK_EXPIRING_SOON: PACK_EXPIRING_SOON\nPACK_EXPIRED: PACK_EXPIRED\nPACK_FULLY_USED: PACK_FULLY_USED\nPACK_CANCELLED: PACK_CANCELLED\nPACK_DELETED: PACK_DELETED\nNOTE_ADDED: NOTE_ADDED\nALLOCATIONS_MOVED: ALLOCATIONS_MOVED\nINVOICE_LINE_VOIDED: INVOICE_LINE_VOIDED\nINVOICE_VOIDED: INVOICE_VOIDED', enum_type=EventType, max_length=32),
        ),
        ops.AlterModelOptions(
            name='Invoice',
            options={'table': 'invoice', 'app': 'models', 'constraints': [UniqueConstraint(fields=('business_id', 'number'), name='invoice_business_number')], 'pk_attr': 'id', 'table_description': 'What a client is charged. Numbers are unique per business; invoices are voided, never'},
        ),
        ops.AddField(
            model_name='Invoice',
            name='void_reason',
            field=fields.CharField(default='', max_length=500),
        ),
        ops.AddField(
            model_name='Invoice',
            name='voided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Invoice',
            name='voided_by',
            field=fields.ForeignKeyField('models.Staff', source_field='voided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AlterModelOptions(
            name='InvoiceLine',
            options={'table': 'invoice_line', 'app': 'models', 'indexes': [Index(fields=['pack_id', 'kind'], name='invoice_line_pack')], 'pk_attr': 'id', 'table_description': 'One charge. A SERVICE line allocated to a pack deducts from it. Lines are voided (in whole'},
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='void_reason',
            field=fields.CharField(default='', max_length=500),
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='voided_amount',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='voided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='voided_by',
            field=fields.ForeignKeyField('models.Staff', source_field='voided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.RunPython(void_unpaid_sales_of_ended_packs, ops.RunPython.noop),
    ]
