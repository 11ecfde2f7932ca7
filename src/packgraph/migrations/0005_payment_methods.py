"""Payment methods become an enum (SPEC §6.1) and payments get a reason (refunds need one).

Existing free-text methods map to the enum: card terminals and card names to CARD, transfers to
BANK_TRANSFER, insurers' names to INSURER, gift cards to VOUCHER. Anything else becomes OTHER
with the text it had kept in ``reason`` ("method: PayPal"), so nothing recorded is lost. Refunds
written before refunds had reasons (``cancelPack``'s "REFUND") become OTHER with "refund
recorded before refund reasons".
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from packgraph.models.enums import EventType, PaymentMethod

SYNONYMS = {
    PaymentMethod.CARD: {
        "CARD", "EFTPOS", "CREDIT", "CREDIT_CARD", "DEBIT", "DEBIT_CARD", "VISA", "MASTERCARD",
        "AMEX", "TAP", "CONTACTLESS", "POS", "TERMINAL",
    },
    PaymentMethod.CASH: {"CASH"},
    PaymentMethod.BANK_TRANSFER: {
        "BANK_TRANSFER", "TRANSFER", "BANK", "EFT", "DIRECT_DEPOSIT", "DEPOSIT", "WIRE", "ACH",
        "BACS", "SEPA",
    },
    PaymentMethod.INSURER: {"INSURER", "INSURANCE", "HICAPS", "MEDICARE", "HEALTH_FUND"},
    PaymentMethod.VOUCHER: {"VOUCHER", "GIFT_CARD", "GIFTCARD", "GIFT", "GIFT_VOUCHER"},
    PaymentMethod.OTHER: {"OTHER"},
}
METHOD_OF = {text: method for method, texts in SYNONYMS.items() for text in texts}
LEGACY_REFUND = "refund recorded before refund reasons"


def _normalised(text: str) -> str:
    return "_".join(text.upper().replace("-", " ").split())


def method_of(text: str, amount: int) -> tuple[PaymentMethod, str]:
    """The enum value for a stored method text, and the reason to keep with it."""
    method = METHOD_OF.get(_normalised(text or ""))
    if method is not None:
        return method, ""
    if _normalised(text or "") == "REFUND" and amount < 0:
        return PaymentMethod.OTHER, LEGACY_REFUND
    return PaymentMethod.OTHER, f"method: {text.strip()[:480]}"


async def map_payment_methods(apps, schema_editor) -> None:
    client = schema_editor.client
    marks = ("$1", "$2", "$3") if client.capabilities.dialect == "postgres" else ("?", "?", "?")
    rows = await client.execute_query_dict(
        'SELECT DISTINCT "method", "amount" < 0 AS "refund" FROM "payment"'
    )
    update = (
        f'UPDATE "payment" SET "method" = {marks[0]}, "reason" = {marks[1]} '
        f'WHERE "method" = {marks[2]} AND "amount" {{}} 0'
    )
    for row in rows:
        refund = bool(row["refund"])
        method, reason = method_of(row["method"], -1 if refund else 1)
        if method.value == row["method"] and not reason:
            continue
        await client.execute_query(
            update.format("<" if refund else ">="), [method.value, reason, row["method"]]
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0004_search_columns')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Event',
            name='type',
            field=fields.CharEnumField(description='PACK_SOLD: PACK_SOLD\nSESSION_REDEEMED: SESSION_REDEEMED\nREDEMPTION_REVERSED: REDEMPTION_REVERSED\nPACK_CORRECTED: PACK_CORRECTED\nPAYMENT_RECORDED: PAYMENT_RECORDED\nPAYMENT_REFUNDED: PAYMENT_REFUNDED\nEXPIRY_CHANGED: EXPIRY_CHANGED\nPACK_EXPIRING_SOON: PACK_EXPIRING_SOON\nPACK_EXPIRED: PACK_EXPIRED\nPACK_FULLY_USED: PACK_FULLY_USED\nPACK_CANCELLED: PACK_CANCELLED\nPACK_DELETED: PACK_DELETED\nNOTE_ADDED: NOTE_ADDED\nALLOCATIONS_MOVED: ALLOCATIONS_MOVED', enum_type=EventType, max_length=32),
        ),
        ops.AlterModelOptions(
            name='Payment',
            options={'table': 'payment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Money received (positive) or given back (negative: a refund, with its reason).'},
        ),
        ops.AlterField(
            model_name='Payment',
            name='method',
            field=fields.CharEnumField(description='CARD: CARD\nCASH: CASH\nBANK_TRANSFER: BANK_TRANSFER\nINSURER: INSURER\nVOUCHER: VOUCHER\nOTHER: OTHER', enum_type=PaymentMethod, max_length=32),
        ),
        ops.AddField(
            model_name='Payment',
            name='reason',
            field=fields.CharField(default='', max_length=500),
        ),
        ops.RunPython(map_payment_methods, ops.RunPython.noop),
    ]
