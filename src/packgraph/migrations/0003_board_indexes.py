"""Board indexes: keyset pages in purchase order for every status and payment tab, a status's
packs by expiry (the expiring tab, reports), a pack's items by pack, the board's counts
(totalCount, the status tabs) from an index alone, and (on PostgreSQL with pg_trgm) trigram
indexes for searching names.

Also repairs SQLite databases migrated by 0002: Tortoise rebuilds an SQLite table to add a CHECK
constraint and the rebuild dropped the pack indexes 0002 had just created, so on SQLite the
old indexes may be missing (they are dropped with IF EXISTS) and the one kept is created.
"""

import logging

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

log = logging.getLogger("packgraph.migrations")

# 0002's pack index that this migration keeps: SQLite lost it (see above).
KEPT_PACK_INDEXES = {
    "pack_business_client": ("business_id", "client_id", "id"),
}
# On the expression Tortoise writes for `name__icontains` on PostgreSQL, so the planner can use
# them for the board's search (LIKE '%text%').
# Partial (deleted packs are never listed), so counting a status or payment tab reads only this
# small index. Not in Pack.Meta: Tortoise's Index cannot express ``WHERE deleted_at IS NULL``.
COUNTS_INDEX = (
    'CREATE INDEX IF NOT EXISTS "pack_business_counts" ON "pack" '
    '("business_id", "status", "payment_status") WHERE "deleted_at" IS NULL'
)
TRIGRAM_INDEXES = {
    "pack_name_trigram": "pack",
    "client_name_trigram": "client",
}
TRIGRAM_AVAILABLE = """
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS installed,
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') AS available,
       COALESCE((SELECT bool_or(trusted) FROM pg_available_extension_versions
                 WHERE name = 'pg_trgm'), false) AS trusted,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       has_database_privilege(current_database(), 'CREATE') AS may_create
"""


class RemoveIndexIfExists(ops.RemoveIndex):
    """RemoveIndex that tolerates an index the database never got (SQLite, see above)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None:
            await state_editor.client.execute_script(f'DROP INDEX IF EXISTS "{self.name}"')


async def restore_sqlite_pack_indexes(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "sqlite":
        return
    for name, columns in KEPT_PACK_INDEXES.items():
        quoted = ", ".join(f'"{column}"' for column in columns)
        await client.execute_script(f'CREATE INDEX IF NOT EXISTS "{name}" ON "pack" ({quoted})')


async def add_counts_index(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(COUNTS_INDEX)


async def remove_counts_index(apps, schema_editor) -> None:
    await schema_editor.client.execute_script('DROP INDEX IF EXISTS "pack_business_counts"')


async def add_trigram_indexes(apps, schema_editor) -> None:
    """Trigram indexes on PostgreSQL when pg_trgm is installed or this role may install it (a
    trusted extension since PostgreSQL 13). Without them search works, only by scanning, so a
    database that cannot have them is migrated anyway, with a warning. SQLite has no trigrams."""
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    (found,) = await client.execute_query_dict(TRIGRAM_AVAILABLE)
    may_install = found["available"] and (
        found["superuser"] or (found["trusted"] and found["may_create"])
    )
    if not found["installed"] and not may_install:
        log.warning("pg_trgm is not available: board search will scan instead of using an index")
        return
    await client.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table in TRIGRAM_INDEXES.items():
        await client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            'USING gin (UPPER(CAST("name" AS VARCHAR)) gin_trgm_ops)'
        )


async def remove_trigram_indexes(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    for name in TRIGRAM_INDEXES:
        await client.execute_script(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [('models', '0002_indexes_and_constraints')]

    initial = False

    operations = [
        RemoveIndexIfExists(
            model_name='Pack',
            name='pack_business_status',
            fields=None,
        ),
        RemoveIndexIfExists(
            model_name='Pack',
            name='pack_business_payment',
            fields=None,
        ),
        RemoveIndexIfExists(
            model_name='Pack',
            name='pack_business_expiry',
            fields=None,
        ),
        ops.AddIndex(
            model_name='Pack',
            index=Index(fields=['business_id', 'purchased_at', 'id'], name='pack_business_purchased'),
        ),
        ops.AddIndex(
            model_name='Pack',
            index=Index(fields=['business_id', 'status', 'purchased_at', 'id'], name='pack_business_status'),
        ),
        ops.AddIndex(
            model_name='Pack',
            index=Index(fields=['business_id', 'payment_status', 'purchased_at', 'id'], name='pack_business_payment'),
        ),
        ops.AddIndex(
            model_name='Pack',
            index=Index(fields=['business_id', 'status', 'expires_at', 'id'], name='pack_business_expiry'),
        ),
        ops.AddIndex(
            model_name='PackItem',
            index=Index(fields=['pack_id', 'position', 'id'], name='pack_item_pack'),
        ),
        ops.RunPython(restore_sqlite_pack_indexes, ops.RunPython.noop),
        ops.RunPython(add_counts_index, remove_counts_index),
        ops.RunPython(add_trigram_indexes, remove_trigram_indexes),
    ]
