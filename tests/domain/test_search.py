"""The search columns (SPEC §6.7): what normalising keeps, and that every write of a name, phone
or email keeps them right, including rows written before migration 0004 and the bulk demo.
The matching itself is tested through the API against the shared table of cases
(tests/api/test_search_cases.py)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from tortoise import Tortoise

from packgraph import demo
from packgraph.domain import catalog
from packgraph.domain.search import (
    client_search_text,
    normalise,
    pack_search_name,
    phone_digits,
    search_words,
)
from packgraph.models import Client, Pack
from tests.api.support import given_catalog, given_pack, make_tenant

search_columns = importlib.import_module("packgraph.migrations.0004_search_columns")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", []),
        (" \t\n ", []),
        ("Zoë ÆRØ", ["zoe", "aero"]),
        ("O’Brien-Smith, Jr.", ["o", "brien", "smith", "jr"]),
        ("Straße ﬁne ０４１２", ["strasse", "fine", "0412"]),
        ("ΟΔΟΣ İstanbul Łódź", ["οδοσ", "istanbul", "lodz"]),
        # Repeated words, and words inside longer ones, add nothing to the query.
        ("ann Anna a ANNA b", ["anna", "b"]),
    ],
)
def test_search_words(text, words):
    assert search_words(text) == words


def test_stored_fields_keep_spaces_drop_punctuation_and_phones_keep_digits():
    assert normalise("  Seán  O’Brien-Smith ") == "sean obriensmith"
    assert pack_search_name("Physio — 6 sessions") == "physio 6 sessions"
    assert phone_digits("+61 (0)412 345-678") == "610412345678"
    assert phone_digits("０４１２ ９９９") == "0412999"
    assert (
        client_search_text(name="Zoë Ærø", email="Zoe.Aero@Example.com", phone="0412 345 678")
        == "zoe aero 0412345678 zoeaeroexamplecom"
    )
    assert client_search_text(name="Bo") == "bo"


async def test_clients_and_packs_are_written_with_their_search_text(db):
    tenant = await make_tenant()
    given = await given_catalog(tenant, client_name="Zoë Ærø")
    sale = await given_pack(tenant, given)
    assert (await Pack.get(id=sale.pack.id)).search_name == "10 massages"
    assert (await Client.get(id=given.client.id)).search_text == "zoe aero"

    await catalog.update_client(
        actor=tenant.staff, client_id=given.client.id, phone="0412 345 678", notes="VIP"
    )
    assert (await Client.get(id=given.client.id)).search_text == "zoe aero 0412345678"
    updated = await catalog.update_client(
        actor=tenant.staff, client_id=given.client.id, name="Chloé", email="c@x.io"
    )
    assert updated.search_text == "chloe 0412345678 cxio"
    assert (await Client.get(id=given.client.id)).search_text == "chloe 0412345678 cxio"


async def test_migration_0004_fills_the_columns_of_rows_written_before_it(db, monkeypatch):
    tenant = await make_tenant()
    given = await given_catalog(tenant, client_name="José Álvarez")
    await catalog.update_client(actor=tenant.staff, client_id=given.client.id, phone="02 9876")
    for _ in range(3):
        await given_pack(tenant, given)
    await Client.all().update(search_text="")
    await Pack.all().update(search_name="")
    # Small batches, so the fill pages through the rows.
    monkeypatch.setattr(search_columns, "BATCH", 2)

    editor = SimpleNamespace(client=Tortoise.get_connection("default"))
    await search_columns.fill_search_columns(None, editor)

    assert set(await Client.all().values_list("search_text", flat=True)) == {"jose alvarez 029876"}
    assert await Pack.all().values_list("search_name", flat=True) == ["10 massages"] * 3


async def test_the_demo_and_its_bulk_history_write_search_text(sqlite_url):
    from tests.databases import init_orm

    await init_orm(sqlite_url)
    try:
        await demo.seed_demo(clients=demo.CURATED_CLIENTS + 3)
        clients = await Client.all()
        assert len(clients) == demo.CURATED_CLIENTS + 3
        for client in clients:
            expected = client_search_text(name=client.name, email=client.email, phone=client.phone)
            assert client.search_text == expected != ""
        for pack in await Pack.all():
            assert pack.search_name == pack_search_name(pack.name) != ""
    finally:
        await Tortoise.close_connections()
