"""GraphQL over HTTP: methods, content types, status codes, limits and masking of bugs."""

from __future__ import annotations

import json
import logging

import pytest

from packgraph.schema import accounts
from tests.api.support import VIEWER_QUERY, make_tenant, running_app

GRAPHQL_RESPONSE = "application/graphql-response+json"


def _codes(body: dict) -> list[str | None]:
    return [error.get("extensions", {}).get("code") for error in body["errors"]]


async def test_get_runs_queries(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        response = await api.client.get(
            "/graphql",
            params={"query": VIEWER_QUERY},
            headers={"Authorization": f"Bearer {tenant.staff_token}"},
        )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["role"] == "STAFF"


async def test_a_mutation_over_get_is_refused_with_405(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        response = await api.client.get(
            "/graphql",
            params={"query": 'mutation { createClient(input: {name: "X"}) { client { id } } }'},
            headers={"Authorization": f"Bearer {tenant.owner_token}"},
        )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert _codes(response.json()) == ["METHOD_NOT_ALLOWED"]


async def test_other_methods_are_405(sqlite_url):
    async with running_app(sqlite_url) as api:
        response = await api.client.request("PUT", "/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", "application/json", "Unable to parse request body as JSON"),
        (b"{}", "application/json", "No GraphQL query found in the request"),
        (b'{"query": 12}', "application/json", "must be a string"),
        (b'{"query": "{ __typename }", "variables": [1]}', "application/json", "must be an object"),
        (b"query=x", "text/plain", "Unsupported content type"),
    ],
    ids=["malformed-json", "no-query", "query-not-string", "variables-not-object", "content-type"],
)
async def test_malformed_requests_are_400_with_a_json_error(
    sqlite_url, body, content_type, message
):
    async with running_app(sqlite_url) as api:
        response = await api.client.post(
            "/graphql", content=body, headers={"Content-Type": content_type}
        )
    assert response.status_code == 400
    payload = response.json()
    assert message in payload["errors"][0]["message"]
    assert _codes(payload) == ["BAD_REQUEST"]


async def test_a_too_large_body_is_413(sqlite_url):
    async with running_app(sqlite_url, max_body_bytes=2000) as api:
        padding = "x" * 3000
        response = await api.client.post(
            "/graphql", json={"query": "{ __typename }", "variables": {"pad": padding}}
        )

        async def chunks():
            for _ in range(3):
                yield b" " * 1000

        streamed = await api.client.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert _codes(response.json()) == ["PAYLOAD_TOO_LARGE"]
    assert streamed.status_code == 413


async def test_unknown_operation_name_is_400(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        response = await api.post(
            "query A { viewer { name } } query B { business { name } }",
            operation_name="C",
            token=tenant.staff_token,
        )
    assert response.status_code == 400
    assert "C" in response.json()["errors"][0]["message"]


async def test_invalid_variables_are_a_clear_error(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        body = await api.run(
            "query($first: Int) { packs(first: $first) { totalCount } }",
            {"first": "many"},
            token=tenant.staff_token,
        )
        strict = await api.post(
            "query($first: Int) { packs(first: $first) { totalCount } }",
            {"first": "many"},
            token=tenant.staff_token,
            headers={"Accept": GRAPHQL_RESPONSE},
        )
    assert body["data"] is None
    assert "$first" in body["errors"][0]["message"]
    # with application/graphql-response+json a request error is a 4xx without `data`
    assert strict.status_code == 400
    assert strict.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in strict.json()


async def test_graphql_response_json_when_asked(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        ok = await api.post(
            VIEWER_QUERY, token=tenant.staff_token, headers={"Accept": GRAPHQL_RESPONSE}
        )
        invalid = await api.post(
            "{ viewer { nope } }", token=tenant.staff_token, headers={"Accept": GRAPHQL_RESPONSE}
        )
        anonymous = await api.post(VIEWER_QUERY, headers={"Accept": GRAPHQL_RESPONSE})
        legacy = await api.post("{ viewer { nope } }", token=tenant.staff_token)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert invalid.status_code == 400
    assert "data" not in invalid.json()
    assert anonymous.status_code == 401
    assert _codes(anonymous.json()) == ["UNAUTHENTICATED"]
    # plain application/json keeps 200 for GraphQL errors
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")


async def test_query_depth_is_limited(sqlite_url):
    async with running_app(sqlite_url, max_query_depth=5) as api:
        tenant = await make_tenant()
        deep = "{ packs { edges { node { client { packs { client { name } } } } } } }"
        body = await api.run(deep, token=tenant.staff_token)
    assert body["data"] is None
    assert "exceeds maximum operation depth of 5" in body["errors"][0]["message"]


async def test_alias_count_is_limited(sqlite_url):
    async with running_app(sqlite_url, max_aliases=3) as api:
        tenant = await make_tenant()
        wide = "{ " + " ".join(f"a{n}: viewer {{ name }}" for n in range(5)) + " }"
        body = await api.run(wide, token=tenant.staff_token)
    assert body["data"] is None
    assert body["errors"][0]["message"] == "5 aliases found. Allowed: 3"


async def test_token_count_is_limited(sqlite_url):
    async with running_app(sqlite_url, max_query_tokens=50) as api:
        tenant = await make_tenant()
        long = "{ " + " ".join("__typename" for _ in range(60)) + " }"
        body = await api.run(long, token=tenant.staff_token)
    assert body["data"] is None
    assert "tokens" in body["errors"][0]["message"]


async def test_page_size_above_100_is_a_clear_error(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        body = await api.run("{ packs(first: 101) { totalCount } }", token=tenant.staff_token)
    assert body["data"] is None
    assert _codes(body) == ["PAGE_SIZE_OUT_OF_RANGE"]
    assert "between 0 and 100" in body["errors"][0]["message"]


async def test_a_foreign_cursor_is_a_clear_error(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        body = await api.run('{ packs(after: "bm9wZQ") { totalCount } }', token=tenant.staff_token)
    assert _codes(body) == ["INVALID_CURSOR"]


async def test_bugs_are_masked_and_logged(sqlite_url, monkeypatch, caplog):
    def broken(row):
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(accounts.BusinessType, "from_row", broken)
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        with caplog.at_level(logging.ERROR):
            response = await api.post("{ business { name } }", token=tenant.staff_token)
    text = response.text
    assert response.status_code == 200
    assert "secret database detail" not in text
    assert json.loads(text)["errors"][0]["message"] == "Unexpected error."
    assert "secret database detail" in caplog.text


async def test_graphiql_is_served_to_browsers_with_the_board_example(sqlite_url):
    async with running_app(sqlite_url) as api:
        response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert "query PackBoard" in response.text
    assert "Welcome to GraphiQL" not in response.text
