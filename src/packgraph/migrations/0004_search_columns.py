"""Search columns (SPEC §6.7): ``client.search_text`` (name, phone digits, email) and
``pack.search_name``, normalised by packgraph.domain.search so a search matches words whatever
their case and accents; filled in for the rows already there.

On PostgreSQL with pg_trgm (installed by 0003 when it could be), trigram indexes on the new
columns, in the expression Tortoise writes for ``__contains`` (``CAST(... AS VARCHAR) LIKE``),
replace 0003's indexes on ``UPPER(name)``, which search no longer reads.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from packgraph.domain.search import client_search_text, pack_search_name

BATCH = 2000
TRIGRAM_INDEXES = {
    "pack_search_name_trigram": ("pack", "search_name"),
    "client_search_text_trigram": ("client", "search_text"),
}
NAME_TRIGRAM_INDEXES = {"pack_name_trigram": "pack", "client_name_trigram": "client"}
TRIGRAM_INSTALLED = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS yes"


async def _fill(client, table: str, columns: str, column: str, text_of) -> None:
    """Set ``column`` of every row of ``table`` to ``text_of(row)``, in batches by id."""
    first, second = ("$1", "$2") if client.capabilities.dialect == "postgres" else ("?", "?")
    select = f'SELECT {columns} FROM "{table}" WHERE "id" > {first} ORDER BY "id" LIMIT {BATCH}'
    update = f'UPDATE "{table}" SET "{column}" = {first} WHERE "id" = {second}'
    last = 0
    while rows := await client.execute_query_dict(select, [last]):
        await client.execute_many(update, [[text_of(row), row["id"]] for row in rows])
        last = rows[-1]["id"]


async def fill_search_columns(apps, schema_editor) -> None:
    client = schema_editor.client
    await _fill(
        client,
        "client",
        '"id", "name", "email", "phone"',
        "search_text",
        lambda row: client_search_text(name=row["name"], email=row["email"], phone=row["phone"]),
    )
    await _fill(
        client, "pack", '"id", "name"', "search_name", lambda row: pack_search_name(row["name"])
    )


async def _trigrams_installed(client) -> bool:
    if client.capabilities.dialect != "postgres":
        return False
    (found,) = await client.execute_query_dict(TRIGRAM_INSTALLED)
    return bool(found["yes"])


async def add_search_trigram_indexes(apps, schema_editor) -> None:
    client = schema_editor.client
    if not await _trigrams_installed(client):
        return
    for name in NAME_TRIGRAM_INDEXES:
        await client.execute_script(f'DROP INDEX IF EXISTS "{name}"')
    for name, (table, column) in TRIGRAM_INDEXES.items():
        await client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((CAST("{column}" AS VARCHAR)) gin_trgm_ops)'
        )


async def remove_search_trigram_indexes(apps, schema_editor) -> None:
    client = schema_editor.client
    if not await _trigrams_installed(client):
        return
    for name in TRIGRAM_INDEXES:
        await client.execute_script(f'DROP INDEX IF EXISTS "{name}"')
    for name, table in NAME_TRIGRAM_INDEXES.items():
        await client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            'USING gin (UPPER(CAST("name" AS VARCHAR)) gin_trgm_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0003_board_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Client',
            name='search_text',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='Pack',
            name='search_name',
            field=fields.TextField(default='', unique=False),
        ),
        ops.RunPython(fill_search_columns, ops.RunPython.noop),
        ops.RunPython(add_search_trigram_indexes, remove_search_trigram_indexes),
    ]
