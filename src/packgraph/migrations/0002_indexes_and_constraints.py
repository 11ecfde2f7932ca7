from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Appointment',
            index=Index(fields=['business_id', 'starts_at'], name='appointment_business_time'),
        ),
        ops.AddIndex(
            model_name='Appointment',
            index=Index(fields=['business_id', 'client_id', 'starts_at'], name='appointment_client'),
        ),
        ops.AddIndex(
            model_name='Client',
            index=Index(fields=['business_id', 'name'], name='client_business_name'),
        ),
        ops.AddConstraint(
            model_name='Event',
            constraint=UniqueConstraint(fields=('business_id', 'seq'), name='event_business_seq'),
        ),
        ops.AddConstraint(
            model_name='IdempotencyRecord',
            constraint=UniqueConstraint(fields=('business_id', 'key'), name='idempotency_business_key'),
        ),
        ops.AddConstraint(
            model_name='Invoice',
            constraint=UniqueConstraint(fields=('business_id', 'number'), name='invoice_business_number'),
        ),
        ops.AddIndex(
            model_name='InvoiceLine',
            index=Index(fields=['pack_id', 'kind'], name='invoice_line_pack'),
        ),
        ops.AddIndex(
            model_name='LedgerEntry',
            index=Index(fields=['pack_id', 'id'], name='ledger_pack'),
        ),
        ops.AddIndex(
            model_name='LedgerEntry',
            index=Index(fields=['business_id', 'created_at'], name='ledger_business_time'),
        ),
        ops.AddIndex(
            model_name='Pack',
            index=Index(fields=['business_id', 'status', 'id'], name='pack_business_status'),
        ),
        ops.AddIndex(
            model_name='Pack',
            index=Index(fields=['business_id', 'payment_status', 'id'], name='pack_business_payment'),
        ),
        ops.AddIndex(
            model_name='Pack',
            index=Index(fields=['business_id', 'expires_at', 'id'], name='pack_business_expiry'),
        ),
        ops.AddIndex(
            model_name='Pack',
            index=Index(fields=['business_id', 'client_id', 'id'], name='pack_business_client'),
        ),
        ops.AddConstraint(
            model_name='Pack',
            constraint=CheckConstraint(check='discount >= 0 AND final_price >= 0', name='pack_price_valid'),
        ),
        ops.AddConstraint(
            model_name='PackItem',
            constraint=CheckConstraint(check='used >= 0 AND used <= allowance AND allowance > 0', name='pack_item_used_within_allowance'),
        ),
        ops.AddConstraint(
            model_name='Task',
            constraint=UniqueConstraint(fields=('business_id', 'dedupe_key'), name='task_business_dedupe'),
        ),
    ]
