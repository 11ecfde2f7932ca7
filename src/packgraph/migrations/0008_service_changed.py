from tortoise import migrations
from tortoise.migrations import operations as ops
from packgraph.models.enums import EventType
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_client_credit')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Event',
            name='type',
            field=fields.CharEnumField(description='PACK_SOLD: PACK_SOLD\nSESSION_REDEEMED: SESSION_REDEEMED\nREDEMPTION_REVERSED: REDEMPTION_REVERSED\nPACK_CORRECTED: PACK_CORRECTED\nPAYMENT_RECORDED: PAYMENT_RECORDED\nPAYMENT_REFUNDED: PAYMENT_REFUNDED\nEXPIRY_CHANGED: EXPIRY_CHANGED\nPACK_EXPIRING_SOON: PACK_EXPIRING_SOON\nPACK_EXPIRED: PACK_EXPIRED\nPACK_FULLY_USED: PACK_FULLY_USED\nPACK_CANCELLED: PACK_CANCELLED\nPACK_DELETED: PACK_DELETED\nNOTE_ADDED: NOTE_ADDED\nALLOCATIONS_MOVED: ALLOCATIONS_MOVED\nINVOICE_LINE_VOIDED: INVOICE_LINE_VOIDED\nINVOICE_VOIDED: INVOICE_VOIDED\nCLIENT_CREDITED: CLIENT_CREDITED\nCREDIT_APPLIED: CREDIT_APPLIED\nCREDIT_REFUNDED: CREDIT_REFUNDED\nSERVICE_CHANGED: SERVICE_CHANGED', enum_type=EventType, max_length=32),
        ),
    ]
