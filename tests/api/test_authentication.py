"""Login, the viewer and the business, and authentication on HTTP and WebSocket."""

from __future__ import annotations

import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from packgraph.domain import auth
from packgraph.models import Role, StaffSession
from tests.api.support import make_tenant, running_app, serving

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    token expiresAt
    viewer { name role isManager business { name currency timezone } }
    userErrors { code field message }
  }
}
"""

VIEWER = "{ viewer { name role isManager staff { email } apiKey { name } business { name } } }"


async def _owner_with_password(email: str = "olivia@harbour.test") -> None:
    business = await auth.create_business(
        name="Harbour Physio", timezone="Australia/Sydney", currency="AUD"
    )
    await auth.create_staff(
        business_id=business.id, name="Olivia", email=email, role=Role.OWNER, password="demo"
    )


async def test_login_returns_a_token_that_reads_the_viewer(sqlite_url):
    async with running_app(sqlite_url) as api:
        # given a staff member with a password
        await _owner_with_password()
        # when they log in
        data = await api.ok(LOGIN, {"email": "Olivia@Harbour.test", "password": "demo"})
        payload = data["login"]
        # then a token comes back with the viewer, and the token reads the API
        assert payload["userErrors"] == []
        assert payload["token"].startswith("pgs_")
        assert payload["viewer"] == {
            "name": "Olivia",
            "role": "OWNER",
            "isManager": True,
            "business": {
                "name": "Harbour Physio",
                "currency": "AUD",
                "timezone": "Australia/Sydney",
            },
        }
        viewer = await api.ok(VIEWER, token=payload["token"])
        assert viewer["viewer"]["staff"] == {"email": "olivia@harbour.test"}
        assert await StaffSession.all().count() == 1


async def test_a_wrong_password_is_a_user_error_without_a_token(sqlite_url):
    async with running_app(sqlite_url) as api:
        await _owner_with_password()
        data = await api.ok(LOGIN, {"email": "olivia@harbour.test", "password": "nope"})
        assert data["login"]["token"] is None
        assert data["login"]["userErrors"] == [
            {
                "code": "INVALID_CREDENTIALS",
                "field": None,
                "message": "email or password is incorrect",
            }
        ]
        assert await StaffSession.all().count() == 0


async def test_repeated_failures_are_rate_limited(sqlite_url):
    async with running_app(sqlite_url, login_max_attempts=2) as api:
        await _owner_with_password()
        codes = []
        for _ in range(3):
            data = await api.ok(LOGIN, {"email": "olivia@harbour.test", "password": "nope"})
            codes.append(data["login"]["userErrors"][0]["code"])
        # even the right password is refused while the limit holds
        data = await api.ok(LOGIN, {"email": "olivia@harbour.test", "password": "demo"})
        assert codes == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "RATE_LIMITED"]
        assert data["login"]["userErrors"][0]["code"] == "RATE_LIMITED"


async def test_business_shows_name_timezone_currency_and_settings(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant("Harbour", reminder_days=7)
        data = await api.ok(
            "{ business { id name timezone currency settings { reminderDays redeemOnNoShow "
            "redemptionRequiresFullPayment createTaskOnPackEnd } staff { name role } } }",
            token=tenant.staff_token,
        )
    business = data["business"]
    assert business["name"] == "Harbour"
    assert business["settings"] == {
        "reminderDays": 7,
        "redeemOnNoShow": False,
        "redemptionRequiresFullPayment": False,
        "createTaskOnPackEnd": True,
    }
    assert {member["role"] for member in business["staff"]} == {"OWNER", "MANAGER", "STAFF"}


async def test_an_api_key_viewer_is_an_integration(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant("Harbour")
        data = await api.ok(VIEWER, token=tenant.integration_token)
    assert data["viewer"]["role"] == "INTEGRATION"
    assert data["viewer"]["staff"] is None
    assert data["viewer"]["apiKey"] == {"name": "Harbour Sync"}
    assert data["viewer"]["isManager"] is False


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer pgs_not-a-real-token"}, {"Authorization": "Basic abc"}],
    ids=["missing", "unknown", "not-bearer"],
)
async def test_without_a_valid_token_every_query_is_unauthenticated(sqlite_url, headers):
    async with running_app(sqlite_url) as api:
        await make_tenant()
        body = await api.run(VIEWER, headers=headers)
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_anonymous_introspection_works_for_graphiql(sqlite_url):
    async with running_app(sqlite_url) as api:
        data = await api.ok("{ __schema { queryType { name } } __typename }")
    assert data == {"__schema": {"queryType": {"name": "Query"}}, "__typename": "Query"}


async def test_login_cannot_smuggle_other_fields_anonymously(sqlite_url):
    async with running_app(sqlite_url) as api:
        body = await api.run(
            'mutation { login(input: {email: "a@b.c", password: "x"}) { token } '
            'createApiKey(input: {name: "k"}) { token } }'
        )
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_session_stops_working(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        assert (await api.ok(VIEWER, token=tenant.staff_token))["viewer"]["role"] == "STAFF"
        await auth.logout(tenant.staff_token)
        body = await api.run(VIEWER, token=tenant.staff_token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "invalid, expired or revoked" in body["errors"][0]["message"]


# --- WebSocket ----------------------------------------------------------------------------------


async def _ws_query(address: str, init_payload: dict | None, query: str) -> dict:
    async with websockets.connect(
        f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": init_payload or {}}))
        ack = json.loads(await socket.recv())
        assert ack["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        message = json.loads(await socket.recv())
        return message


async def test_websocket_with_a_token_runs_operations_as_the_viewer(sqlite_url):
    async with serving(sqlite_url) as address:
        tenant = await make_tenant("Harbour")
        message = await _ws_query(address, {"token": tenant.manager_token}, VIEWER)
    assert message["type"] == "next"
    assert message["payload"]["data"]["viewer"]["role"] == "MANAGER"


@pytest.mark.parametrize("payload", [None, {"token": "pgs_nope"}, {"token": 12}])
async def test_websocket_without_a_valid_token_is_closed_with_4403(sqlite_url, payload):
    async with serving(sqlite_url) as address:
        await make_tenant()
        async with websockets.connect(
            f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]
        ) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
    assert closed.value.rcvd.code == 4403
