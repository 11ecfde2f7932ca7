"""Client credit (SPEC §6.1): the append-only credit ledger (``credit_entry``), payments moved to
or from it (method CLIENT_CREDIT, ``payment.credit_entry_id``) and its three event types.

Existing data migrates: an invoice paid beyond what it charges (a paid visit allocated to a pack
afterwards showed a negative balance due) has the excess moved to its client's credit, as the
application now does: a CREDITED entry and a negative CLIENT_CREDIT payment on the invoice, so
the invoice owes nothing and the client holds the money as credit. No event is written for it:
the outbox is history, and this is a correction of the past.
"""

from datetime import UTC, datetime

from tortoise import migrations
from tortoise.migrations import operations as ops
from packgraph.models.enums import CreditKind, EventType, PaymentMethod
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


CREDIT_REASON = "Over-payment moved to client credit"


async def credit_overpaid_invoices(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"

    def marks(count: int) -> str:
        return ", ".join(f"${i}" if postgres else "?" for i in range(1, count + 1))

    rows = await client.execute_query_dict(
        'SELECT "i"."id", "i"."business_id", "i"."client_id", '
        '(SELECT COALESCE(SUM("l"."amount" - "l"."voided_amount"), 0) FROM "invoice_line" "l" '
        'WHERE "l"."invoice_id" = "i"."id") AS "total", '
        '(SELECT COALESCE(SUM("p"."amount"), 0) FROM "payment" "p" '
        'WHERE "p"."invoice_id" = "i"."id") AS "paid" '
        'FROM "invoice" "i" WHERE "i"."voided_at" IS NULL ORDER BY "i"."id"'
    )
    now = datetime.now(UTC)
    balances: dict[int, int] = {}
    for row in rows:
        excess = int(row["paid"]) - int(row["total"])
        if excess <= 0:
            continue
        client_id = int(row["client_id"])
        balance = balances.get(client_id, 0) + excess
        balances[client_id] = balance
        entry = await client.execute_query_dict(
            'INSERT INTO "credit_entry" ("business_id", "client_id", "kind", "amount", '
            '"balance_after", "invoice_id", "reason", "created_at") '
            f"VALUES ({marks(8)}) RETURNING \"id\"",
            [row["business_id"], client_id, "CREDITED", excess, balance, row["id"],
             CREDIT_REASON, now],
        )
        await client.execute_query(
            'INSERT INTO "payment" ("business_id", "invoice_id", "amount", "method", "reason", '
            '"received_at", "credit_entry_id", "created_at") '
            f"VALUES ({marks(8)})",
            [row["business_id"], row["id"], -excess, "CLIENT_CREDIT", CREDIT_REASON, now,
             entry[0]["id"], now],
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0006_invoice_voids')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CreditEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='credit_entries', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='CREDITED: CREDITED\nAPPLIED: APPLIED\nREFUNDED: REFUNDED', enum_type=CreditKind, max_length=16)),
                ('amount', fields.BigIntField()),
                ('balance_after', fields.BigIntField()),
                ('invoice', fields.ForeignKeyField('models.Invoice', source_field='invoice_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('method', fields.CharEnumField(null=True, description='CARD: CARD\nCASH: CASH\nBANK_TRANSFER: BANK_TRANSFER\nINSURER: INSURER\nVOUCHER: VOUCHER\nOTHER: OTHER\nCLIENT_CREDIT: CLIENT_CREDIT', enum_type=PaymentMethod, max_length=32)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('staff', fields.ForeignKeyField('models.Staff', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_entry', 'app': 'models', 'indexes': [Index(fields=['client_id', 'id'], name='credit_entry_client')], 'pk_attr': 'id', 'table_description': "One change of a client's credit (SPEC §6.1), append-only: money moved to it from an"},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Event',
            name='type',
            field=fields.CharEnumField(description='PACK_SOLD: PACK_SOLD\nSESSION_REDEEMED: SESSION_REDEEMED\nREDEMPTION_REVERSED: REDEMPTION_REVERSED\nPACK_CORRECTED: PACK_CORRECTED\nPAYMENT_RECORDED: PAYMENT_RECORDED\nPAYMENT_REFUNDED: PAYMENT_REFUNDED\nEXPIRY_CHANGED: EXPIRY_CHANGED\nPACK_EXPIRING_SOON: PACK_EXPIRING_SOON\nPACK_EXPIRED: PACK_EXPIRED\nPACK_FULLY_USED: PACK_FULLY_USED\nPACK_CANCELLED: PACK_CANCELLED\nPACK_DELETED: PACK_DELETED\nNOTE_ADDED: NOTE_ADDED\nALLOCATIONS_MOVED: ALLOCATIONS_MOVED\nINVOICE_LINE_VOIDED: INVOICE_LINE_VOIDED\nINVOICE_VOIDED: INVOICE_VOIDED\nCLIENT_CREDITED: CLIENT_CREDITED\nCREDIT_APPLIED: CREDIT_APPLIED\nCREDIT_REFUNDED: CREDIT_REFUNDED', enum_type=EventType, max_length=32),
        ),
        ops.AlterField(
            model_name='Payment',
            name='method',
            field=fields.CharEnumField(description='CARD: CARD\nCASH: CASH\nBANK_TRANSFER: BANK_TRANSFER\nINSURER: INSURER\nVOUCHER: VOUCHER\nOTHER: OTHER\nCLIENT_CREDIT: CLIENT_CREDIT', enum_type=PaymentMethod, max_length=32),
        ),
        ops.AddField(
            model_name='Payment',
            name='credit_entry',
            field=fields.ForeignKeyField('models.CreditEntry', source_field='credit_entry_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.SET_NULL),
        ),
        ops.RunPython(credit_overpaid_invoices, ops.RunPython.noop),
    ]
