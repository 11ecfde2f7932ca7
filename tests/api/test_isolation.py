"""Tenant isolation, generated from the schema: business A's token with business B's IDs, for
every query field and every mutation that takes an ID. Nothing of B is returned or changed."""

from __future__ import annotations

import base64

from graphql import GraphQLInputObjectType, get_named_type

from tests.api.matrix import (
    fill_input,
    graphql_schema,
    id_paths,
    id_type_of,
    is_id,
    mutation_document,
    selection_for,
    set_path,
    snapshot,
    tenant_with_everything,
    unwrap,
)
from tests.api.support import gid, make_tenant, running_app

# Input ID fields the domain ignores in some combinations, so any ID, known or not, succeeds:
# `custom.defaultServiceId` only picks the first session's service when `serviceId` is not given,
# and is not looked up otherwise. Reported to the domain owners (it should be validated anyway);
# another business's service is never used.
IGNORED_ID_FIELDS = {"sellPack.custom.defaultServiceId"}


def _leaks(text: str, other) -> list[str]:
    """B's global IDs or B's marker found in a response of A."""
    found = [value for value in other.ids.values() if value in text]
    if other.marker in text:
        found.append(other.marker)
    return found


def _without_locations(body: dict) -> dict:
    errors = [{k: v for k, v in e.items() if k != "locations"} for e in body.get("errors", [])]
    return {**body, "errors": errors}


def _unknown(value):
    if isinstance(value, list):
        return [_unknown(item) for item in value]
    if isinstance(value, dict):
        return {key: _unknown(item) for key, item in value.items()}
    type_name = base64.b64decode(value).decode().split(":")[0]
    return gid(type_name, 987654)


def _query_cases(schema, b_ids) -> list[tuple[str, str, dict, dict]]:
    """(description, document, variables with B's IDs, variables with unknown IDs) for every
    root query field with an ID argument or an input argument holding an ID field."""
    cases = []
    for name, field in schema.query_type.fields.items():
        selection = selection_for(field.type)
        for arg_name, arg in field.args.items():
            named = get_named_type(arg.type)
            values: list[tuple[str, object]] = []
            if is_id(arg.type):
                type_name = id_type_of(arg_name)
                targets = [type_name] if type_name else list(b_ids)
                for target in targets:
                    value = [b_ids[target]] if str(arg.type).startswith("[") else b_ids[target]
                    values.append((f"{name}({arg_name}: {target})", value))
            elif isinstance(named, GraphQLInputObjectType):
                for path in id_paths(named):
                    value = {path[-1]: b_ids[id_type_of(path[-1])]}
                    values.append((f"{name}({arg_name}.{'.'.join(path)})", value))
            argument_type = arg.type if is_id(arg.type) else named.name
            document = (
                f"query Matrix($value: {argument_type}) "
                f"{{ {name}({arg_name}: $value) {selection} }}"
            )
            for description, value in values:
                cases.append((description, document, {"value": value}, {"value": _unknown(value)}))
    return cases


async def test_queries_with_another_business_ids_return_nothing(sqlite_url):
    async with running_app(sqlite_url) as api:
        # given two businesses with one of everything
        a = await tenant_with_everything(await make_tenant("Alpha"), "Alpha")
        b = await tenant_with_everything(await make_tenant("Beta"), "Beta")
        schema = graphql_schema()
        cases = _query_cases(schema, b.ids)
        covered = {case[0].split("(")[0] for case in cases}
        assert {"node", "nodes", "pack", "client", "invoice", "packs", "appointments"} <= covered
        for description, document, variables, unknown in cases:
            # when A asks with B's IDs
            response = await api.post(document, variables, token=a.tenant.owner_token)
            body = response.json()
            # then nothing of B comes back, and the answer is the one for an unknown ID
            assert response.status_code == 200, (description, response.text)
            assert _leaks(response.text, b) == [], description
            answer = await api.post(document, unknown, token=a.tenant.owner_token)
            assert _without_locations(body) == _without_locations(answer.json()), description
            if "errors" in body:
                codes = [error["extensions"]["code"] for error in body["errors"]]
                assert codes == ["NOT_FOUND"], (description, body)
                continue
            data = next(iter(body["data"].values()))
            if isinstance(data, dict) and "edges" in data:
                assert data["edges"] == [] and data.get("totalCount", 0) == 0, description
            elif isinstance(data, list):
                assert all(item is None for item in data), description
            else:
                assert data is None, description
        # and with its own IDs, A sees its own objects (the cases are meaningful)
        for type_name, value in a.ids.items():
            body = await api.ok(
                "query($id: ID!) { node(id: $id) { __typename id } }",
                {"id": value},
                token=a.tenant.owner_token,
            )
            assert body["node"] == {"__typename": type_name, "id": value}


async def test_mutations_with_another_business_ids_change_nothing(sqlite_url):
    async with running_app(sqlite_url) as api:
        a = await tenant_with_everything(await make_tenant("Alpha"), "Alpha")
        b = await tenant_with_everything(await make_tenant("Beta"), "Beta")
        schema = graphql_schema()
        before = await snapshot(b.tenant.id)
        tried: list[str] = []
        not_found: list[bool] = []
        other_codes: list[tuple[str, list]] = []
        for name, field in schema.mutation_type.fields.items():
            input_type = unwrap(field.args["input"].type)
            for path in id_paths(input_type):
                # every other ID field is A's own; the one under test is B's, then unknown
                description = f"{name}.{'.'.join(path)}"
                if description in IGNORED_ID_FIELDS:
                    continue
                tried.append(description)
                outcomes = []
                for target in (b.ids[id_type_of(path[-1])], gid(id_type_of(path[-1]), 987654)):
                    value = fill_input(input_type, a.ids, include=path)
                    set_path(value, path, target)
                    response = await api.post(
                        mutation_document(name, field),
                        {"input": value},
                        token=a.tenant.owner_token,
                    )
                    assert response.status_code == 200, (description, response.text)
                    body = response.json()
                    assert "errors" not in body, (description, body)
                    assert _leaks(response.text, b) == [], description
                    outcomes.append(body["data"][name]["userErrors"])
                # then B's ID behaves exactly like an ID that does not exist
                assert outcomes[0] == outcomes[1], description
                assert outcomes[0] != [], description
                not_found.append(outcomes[0][0]["code"] == "NOT_FOUND")
                if not not_found[-1]:
                    other_codes.append((description, outcomes[0]))
        # then B is exactly as it was
        assert await snapshot(b.tenant.id) == before
        assert len(tried) >= 25, tried
        # almost always the answer is NOT_FOUND; a few inputs fail a validation that comes first
        # (identically for an unknown ID)
        assert len(other_codes) <= 4, "\n".join(map(str, other_codes))
