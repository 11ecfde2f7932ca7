"""Roles, generated from the schema: anonymous callers, integration keys and staff members
against every operation they may not use. Refusals change nothing."""

from __future__ import annotations

from collections import defaultdict

from graphql import GraphQLNonNull

from tests.api.matrix import (
    fill_input,
    graphql_schema,
    id_type_of,
    is_id,
    mutation_document,
    selection_for,
    snapshot,
    tenant_with_everything,
    unwrap,
)
from tests.api.support import make_tenant, running_app

# SPEC §2, §6.1: STAFF may do everything but corrections, expiry edits, cancelling and deleting
# packs, refunds, templates, settings (services included) and API keys.
MANAGER_ONLY = {
    "correctPackBalance",
    "changePackExpiry",
    "cancelPack",
    "refundPayment",
    "deletePack",
    "voidInvoiceLine",
    "voidInvoice",
    "refundClientCredit",
    "createPackTemplate",
    "updatePackTemplate",
    "archivePackTemplate",
    "createService",
    "updateService",
    "updateBusinessSettings",
    "createApiKey",
    "revokeApiKey",
}


def _mutations(schema):
    return {name: field for name, field in schema.mutation_type.fields.items() if name != "login"}


async def _refusals(api, data, token: str, names: set[str], schema) -> dict[str, list]:
    answers = {}
    for name in sorted(names):
        field = schema.mutation_type.fields[name]
        value = fill_input(unwrap(field.args["input"].type), data.ids)
        body = await api.ok(mutation_document(name, field), {"input": value}, token=token)
        answers[name] = [error["code"] for error in body[name]["userErrors"]]
    return answers


async def test_manager_only_mutations_refuse_staff_and_integrations(sqlite_url):
    async with running_app(sqlite_url) as api:
        data = await tenant_with_everything(await make_tenant("Alpha"), "Alpha")
        schema = graphql_schema()
        assert MANAGER_ONLY <= set(_mutations(schema))
        before = await snapshot(data.tenant.id)
        for token in (data.tenant.staff_token, data.tenant.integration_token):
            answers = await _refusals(api, data, token, MANAGER_ONLY, schema)
            assert answers == {name: ["PERMISSION_DENIED"] for name in MANAGER_ONLY}
        assert await snapshot(data.tenant.id) == before


async def test_integration_keys_cannot_run_any_mutation(sqlite_url):
    async with running_app(sqlite_url) as api:
        data = await tenant_with_everything(await make_tenant("Alpha"), "Alpha")
        schema = graphql_schema()
        before = await snapshot(data.tenant.id)
        names = set(_mutations(schema))
        answers = await _refusals(api, data, data.tenant.integration_token, names, schema)
        assert answers == {name: ["PERMISSION_DENIED"] for name in names}
        assert await snapshot(data.tenant.id) == before


async def test_staff_are_not_refused_the_front_desk_mutations(sqlite_url):
    async with running_app(sqlite_url) as api:
        data = await tenant_with_everything(await make_tenant("Alpha"), "Alpha")
        schema = graphql_schema()
        names = set(_mutations(schema)) - MANAGER_ONLY
        answers = await _refusals(api, data, data.tenant.staff_token, names, schema)
        refused = {name for name, codes in answers.items() if "PERMISSION_DENIED" in codes}
        assert refused == set()


def _anonymous_documents(schema) -> list[tuple[str, str, dict]]:
    documents = []
    for name, field in schema.query_type.fields.items():
        variables, arguments, declarations = {}, [], []
        for arg_name, arg in field.args.items():
            if isinstance(arg.type, GraphQLNonNull) and is_id(arg.type):
                id_type_of(arg_name)
                variables[arg_name] = ["UGFjazox"] if "[" in str(arg.type) else "UGFjazox"
                declarations.append(f"${arg_name}: {arg.type}")
                arguments.append(f"{arg_name}: ${arg_name}")
        header = f"({', '.join(declarations)})" if declarations else ""
        call = f"({', '.join(arguments)})" if arguments else ""
        documents.append(
            (
                name,
                f"query Anonymous{header} {{ {name}{call} {selection_for(field.type)} }}",
                variables,
            )
        )
    for name, field in _mutations(schema).items():
        value = fill_input(unwrap(field.args["input"].type), defaultdict(lambda: "UGFjazox"))
        documents.append((name, mutation_document(name, field), {"input": value}))
    return documents


async def test_anonymous_callers_get_unauthenticated_on_everything_but_login(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant("Alpha")
        before = await snapshot(tenant.id)
        documents = _anonymous_documents(graphql_schema())
        assert len(documents) > 40
        for name, document, variables in documents:
            body = await api.run(document, variables)
            assert body["data"] is None, (name, body)
            codes = [error.get("extensions", {}).get("code") for error in body["errors"]]
            assert codes == ["UNAUTHENTICATED"], (name, body)
        assert await snapshot(tenant.id) == before
