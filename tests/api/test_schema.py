"""The schema itself: the committed SDL is current, and everything in it is described."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)

from packgraph.domain.errors import ErrorCode
from packgraph.schema.nodes import NODE_TYPES
from packgraph.server.schema import build_schema, export_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def _graphql_schema():
    return build_schema()._schema


def test_committed_sdl_is_current():
    # when the schema changes, regenerate with `packgraph export-schema` and commit the result
    assert SCHEMA_FILE.read_text() == export_sdl(), (
        "schema.graphql is stale: run `.venv/bin/packgraph export-schema` and commit it"
    )


def test_every_type_field_argument_and_enum_value_has_a_description():
    missing: list[str] = []
    for name, graphql_type in _graphql_schema().type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not (graphql_type.description or "").strip():
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in graphql_type.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in field.args.items():
                    if not (arg.description or "").strip():
                        missing.append(f"{name}.{field_name}({arg_name})")
        elif isinstance(graphql_type, GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"{name}.{field_name}")
        elif isinstance(graphql_type, GraphQLEnumType):
            for value_name, value in graphql_type.values.items():
                if not (value.description or "").strip():
                    missing.append(f"{name}.{value_name}")
        else:
            assert isinstance(graphql_type, GraphQLScalarType | GraphQLUnionType)
    assert missing == []


def test_every_mutation_takes_one_input_and_returns_a_payload_with_user_errors():
    schema = _graphql_schema()
    assert schema.mutation_type is not None
    for name, field in schema.mutation_type.fields.items():
        capitalised = name[0].upper() + name[1:]
        assert list(field.args) == ["input"], name
        assert str(field.args["input"].type) == f"{capitalised}Input!", name
        assert str(field.type) == f"{capitalised}Payload!", name
        payload = schema.type_map[f"{capitalised}Payload"]
        assert str(payload.fields["userErrors"].type) == "[UserError!]!", name


def test_user_error_codes_mirror_the_domain_error_codes():
    enum = _graphql_schema().type_map["UserErrorCode"]
    assert set(enum.values) == {code.value for code in ErrorCode}


def test_every_node_type_can_be_fetched_by_node():
    schema = _graphql_schema()
    implementations = {
        graphql_type.name
        for graphql_type in schema.type_map.values()
        if isinstance(graphql_type, GraphQLObjectType)
        and any(interface.name == "Node" for interface in graphql_type.interfaces)
    }
    assert implementations == set(NODE_TYPES)


def test_spec_queries_and_mutations_exist():
    schema = _graphql_schema()
    queries = set(schema.query_type.fields)
    mutations = set(schema.mutation_type.fields)
    assert {
        "viewer",
        "business",
        "node",
        "clients",
        "client",
        "services",
        "packTemplates",
        "packs",
        "pack",
        "appointments",
        "invoices",
        "invoice",
        "tasks",
    } <= queries
    assert {
        "login",
        "createClient",
        "updateClient",
        "setClientBillingPreference",
        "createService",
        "updateService",
        "createPackTemplate",
        "updatePackTemplate",
        "archivePackTemplate",
        "sellPack",
        "createAppointment",
        "checkInAppointment",
        "markNoShow",
        "cancelAppointment",
        "deleteAppointment",
        "redeemSession",
        "allocateInvoiceLine",
        "unallocateInvoiceLine",
        "moveAllocations",
        "correctPackBalance",
        "changePackExpiry",
        "cancelPack",
        "deletePack",
        "recordPayment",
        "refundPayment",
        "addPackNote",
        "completeTask",
        "createApiKey",
        "revokeApiKey",
        "updateBusinessSettings",
    } <= mutations
    pack = schema.type_map["Pack"]
    assert {"items", "history", "payments", "notes", "invoices", "refundQuote"} <= set(pack.fields)


def test_the_examples_in_docs_api_md_are_valid_operations():
    from graphql import parse, validate

    text = (SCHEMA_FILE.parent / "docs" / "api.md").read_text()
    blocks = [block.split("```", 1)[0] for block in text.split("```graphql\n")[1:]]
    operations = [b for b in blocks if b.lstrip().startswith(("query", "mutation", "{"))]
    assert len(operations) >= 8
    schema = _graphql_schema()
    for block in operations:
        assert validate(schema, parse(block)) == [], block


def test_the_graphiql_example_query_is_valid():
    from graphql import parse, validate

    from packgraph.server.endpoint import EXAMPLE_QUERY

    assert validate(_graphql_schema(), parse(EXAMPLE_QUERY)) == []
