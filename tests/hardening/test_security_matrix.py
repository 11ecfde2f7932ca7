"""The security matrix, generated from the schema, over a real server (HTTP and WebSocket).

tests/api already proves the rows {other business, STAFF, INTEGRATION, anonymous} for queries and
mutations over HTTP (test_isolation.py, test_roles.py). This file adds:

- the dead-credential rows: a revoked API key, a deactivated staff member (through
  ``deactivate_staff``, and inactive with a session row still live), an expired session and a
  logged-out session, each against every query field, every mutation and the subscription:
  UNAUTHENTICATED (4403 on WebSocket), nothing of the business in the answer, nothing changed;
- the subscription column for the live rows: another business's pack, client or cursor is
  refused, its events never arrive; STAFF and INTEGRATION may subscribe; anonymous may not;
- the role matrix over the other transport: every mutation run over WebSocket by an
  integration key, and the manager-only ones by STAFF, is PERMISSION_DENIED;
- credentials that die while a WebSocket is open: the subscription ends with UNAUTHENTICATED,
  the socket closes with 4403, and the socket can run nothing more.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from graphql import GraphQLNonNull
from websockets.exceptions import ConnectionClosed

from packgraph.app import create_app
from packgraph.domain import auth
from packgraph.domain.notes import add_pack_note
from packgraph.live.hub import SUBSCRIPTIONS
from packgraph.models import Pack, Role, Staff, StaffSession
from tests.api.matrix import (
    fill_input,
    graphql_schema,
    id_type_of,
    is_id,
    mutation_document,
    scalar_value,
    selection_for,
    snapshot,
    tenant_with_everything,
    unwrap,
)
from tests.api.support import gid, make_tenant, settings_for
from tests.api.test_roles import MANAGER_ONLY
from tests.hardening.support import clean_json, serving_app
from tests.waiting import until

log = logging.getLogger("packgraph.hardening")

ORIGIN = "http://dashboard.test"
AUTH_CHECK_MS = 150
PACK_EVENTS = """
subscription Events($after: String, $packId: ID, $clientId: ID) {
  packEvents(after: $after, packId: $packId, clientId: $clientId) { cursor type pack { id } }
}
"""


# --- dead credentials ---------------------------------------------------------------------------


async def _staff_session(business_id: int, *, expires_in: timedelta) -> tuple[Staff, str]:
    staff = await Staff.create(
        business_id=business_id,
        name="Former",
        email=f"former-{secrets.token_hex(4)}@example.test",
        role=Role.MANAGER,
        password_hash="unused",
    )
    token = auth.SESSION_PREFIX + secrets.token_urlsafe(32)
    await StaffSession.create(
        business_id=business_id,
        staff=staff,
        token_hash=auth.hash_token(token),
        expires_at=datetime.now(UTC) + expires_in,
    )
    return staff, token


async def dead_credentials(tenant) -> dict[str, str]:
    """One token per way a credential of ``tenant`` dies; every one was valid once."""
    hour = timedelta(hours=1)
    key, revoked_key = await auth.create_api_key(actor=tenant.owner, name="Old sync")
    await auth.revoke_api_key(actor=tenant.owner, api_key_id=key.id)
    staff, deactivated = await _staff_session(tenant.id, expires_in=hour)
    await auth.deactivate_staff(actor=tenant.owner, staff_id=staff.id)
    staff, inactive = await _staff_session(tenant.id, expires_in=hour)
    await Staff.filter(id=staff.id).update(active=False)  # session row itself still live
    _, expired = await _staff_session(tenant.id, expires_in=-timedelta(minutes=1))
    _, logged_out = await _staff_session(tenant.id, expires_in=hour)
    await auth.logout(logged_out)
    tokens = {
        "revoked API key": revoked_key,
        "deactivated staff": deactivated,
        "inactive staff, live session row": inactive,
        "expired session": expired,
        "logged-out session": logged_out,
    }
    for token in tokens.values():
        assert await auth.authenticate(token) is None
    return tokens


def query_documents(schema, ids: dict[str, str]) -> list[tuple[str, str, dict]]:
    """Every root query field with its required arguments filled with the business's own IDs,
    so a caller that got through would see real data."""
    documents = []
    for name, field in schema.query_type.fields.items():
        variables, declarations, arguments = {}, [], []
        for arg_name, arg in field.args.items():
            if not isinstance(arg.type, GraphQLNonNull) or arg.default_value is not None:
                if not is_id(arg.type):
                    continue
            if is_id(arg.type):
                target = id_type_of(arg_name) or "Pack"
                value: Any = ids[target]
                variables[arg_name] = [value] if "[" in str(arg.type) else value
            else:
                variables[arg_name] = scalar_value(arg_name, arg.type)
            declarations.append(f"${arg_name}: {arg.type}")
            arguments.append(f"{arg_name}: ${arg_name}")
        header = f"({', '.join(declarations)})" if declarations else ""
        call = f"({', '.join(arguments)})" if arguments else ""
        document = f"query Matrix{header} {{ {name}{call} {selection_for(field.type)} }}"
        documents.append((name, document, variables))
    return documents


def mutation_documents(schema, ids: dict[str, str]) -> list[tuple[str, str, dict]]:
    return [
        (
            name,
            mutation_document(name, field),
            {"input": fill_input(unwrap(field.args["input"].type), ids)},
        )
        for name, field in schema.mutation_type.fields.items()
        if name != "login"
    ]


async def _post(http: httpx.AsyncClient, document: str, variables: dict, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post(
        "/graphql", json={"query": document, "variables": variables}, headers=headers
    )


async def _ws(address: str):
    return await websockets.connect(
        f"ws://{address}/graphql",
        subprotocols=["graphql-transport-ws"],
        origin=ORIGIN,
        open_timeout=5,
    )


async def _init(socket, token: str | None) -> dict:
    payload = {"token": token} if token is not None else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    return json.loads(await asyncio.wait_for(socket.recv(), 5))


async def _close_code(socket, within: float = 5) -> int | None:
    try:
        async with asyncio.timeout(within):
            while True:
                await socket.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def _subscribe(
    socket, operation_id: str, variables: dict | None = None, query: str = PACK_EVENTS
) -> None:
    await socket.send(
        json.dumps(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
    )


async def _next(socket, within: float = 5) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), within))


@pytest.fixture
async def world(sqlite_url):
    """A real server, two businesses with one of everything, and Alpha's dead credentials."""
    app = create_app(
        settings_for(sqlite_url, allowed_origins=(ORIGIN,), live_auth_check_ms=AUTH_CHECK_MS)
    )
    async with serving_app(app) as address:
        alpha = await tenant_with_everything(await make_tenant("Alpha"), "Alpha")
        beta = await tenant_with_everything(await make_tenant("Beta"), "Beta")
        dead = await dead_credentials(alpha.tenant)
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as http:
            yield address, http, alpha, beta, dead


async def test_dead_credentials_are_refused_everywhere_and_change_nothing(world):
    address, http, alpha, _beta, dead = world
    schema = graphql_schema()
    documents = query_documents(schema, alpha.ids) + mutation_documents(schema, alpha.ids)
    assert len(documents) >= 40
    before = await snapshot(alpha.tenant.id)
    cells = 0
    refused_wrongly: list[str] = []
    for row, token in dead.items():
        for name, document, variables in documents:
            # when a dead credential runs the operation over HTTP
            response = await _post(http, document, variables, token)
            body = clean_json(response)
            cells += 1
            # then it is UNAUTHENTICATED, with nothing of the business in the answer
            codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
            if body.get("data") is not None or codes != ["UNAUTHENTICATED"]:
                refused_wrongly.append(f"{row} / {name}: {response.text[:200]}")
            assert alpha.marker not in response.text
            assert not any(value in response.text for value in alpha.ids.values())
        # and the subscription refuses the connection itself
        socket = await _ws(address)
        await socket.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
        assert await _close_code(socket) == 4403, row
        cells += 1
    log.info("dead-credential matrix: %d cells", cells)
    assert refused_wrongly == [], "\n".join(refused_wrongly)
    # then nothing changed
    assert await snapshot(alpha.tenant.id) == before
    assert cells == len(dead) * (len(documents) + 1)


# --- the subscription column of the live rows ---------------------------------------------------


async def test_subscriptions_refuse_another_business_and_anonymous(world):
    address, http, alpha, beta, _dead = world
    # anonymous: refused at connection_init
    socket = await _ws(address)
    await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert await _close_code(socket) == 4403
    beta_cursor = (
        await _post(
            http, "{ events(first: 1) { pageInfo { endCursor } } }", {}, beta.tenant.owner_token
        )
    ).json()["data"]["events"]["pageInfo"]["endCursor"]
    refusals = {
        "packId": ({"packId": beta.ids["Pack"]}, "NOT_FOUND"),
        "clientId": ({"clientId": beta.ids["Client"]}, "NOT_FOUND"),
        "after": ({"after": beta_cursor}, "INVALID_CURSOR"),
    }
    for role in (Role.OWNER, Role.STAFF, Role.INTEGRATION):
        socket = await _ws(address)
        try:
            assert (await _init(socket, alpha.tenant.tokens[role]))["type"] == "connection_ack"
            for argument, (variables, code) in refusals.items():
                # when Alpha subscribes to Beta's pack, client or stream position
                await _subscribe(socket, argument, variables)
                message = await _next(socket)
                # then the subscription is refused as if they did not exist
                assert message["type"] in ("error", "next"), message
                errors = (
                    message["payload"]
                    if message["type"] == "error"
                    else (message["payload"]["errors"])
                )
                assert [error["extensions"]["code"] for error in errors] == [code], (role, message)
                assert beta.marker not in json.dumps(message)
                if message["type"] == "next":
                    assert (await _next(socket))["type"] == "complete"
        finally:
            await socket.close()


async def test_staff_and_integrations_receive_their_own_events_and_never_another_business(world):
    address, _http, alpha, beta, _dead = world
    sockets = {}
    try:
        registered = SUBSCRIPTIONS.value()
        for role in (Role.STAFF, Role.INTEGRATION):
            socket = await _ws(address)
            assert (await _init(socket, alpha.tenant.tokens[role]))["type"] == "connection_ack"
            await _subscribe(socket, "live")
            sockets[role] = socket
        await _until_registered(registered + len(sockets))
        # when Beta changes a pack, then Alpha does
        beta_pack = await Pack.filter(business_id=beta.tenant.id).first()
        alpha_pack = await Pack.filter(business_id=alpha.tenant.id).first()
        await add_pack_note(actor=beta.tenant.staff, pack_id=beta_pack.id, text="Beta secret")
        await add_pack_note(actor=alpha.tenant.staff, pack_id=alpha_pack.id, text="Alpha note")
        # then every Alpha subscriber receives Alpha's event first: Beta's never arrives
        for role, socket in sockets.items():
            message = await _next(socket)
            assert message["type"] == "next", (role, message)
            event = message["payload"]["data"]["packEvents"]
            assert event["type"] == "NOTE_ADDED"
            assert event["pack"]["id"] == gid("Pack", alpha_pack.id)
            assert "Beta" not in json.dumps(message)
    finally:
        for socket in sockets.values():
            await socket.close()


# --- the role matrix over WebSocket -------------------------------------------------------------


async def test_mutations_over_websocket_keep_the_role_rules(world):
    address, _http, alpha, _beta, _dead = world
    schema = graphql_schema()
    documents = dict(
        (name, (doc, variables)) for name, doc, variables in mutation_documents(schema, alpha.ids)
    )
    before = await snapshot(alpha.tenant.id)
    checked = 0
    for role, names in ((Role.INTEGRATION, set(documents)), (Role.STAFF, MANAGER_ONLY)):
        socket = await _ws(address)
        try:
            assert (await _init(socket, alpha.tenant.tokens[role]))["type"] == "connection_ack"
            for name in sorted(names):
                document, variables = documents[name]
                await _subscribe(socket, name, variables, query=document)
                message = await _next(socket)
                assert message["type"] == "next", (role, name, message)
                payload = message["payload"]["data"][name]
                assert [error["code"] for error in payload["userErrors"]] == [
                    "PERMISSION_DENIED"
                ], (role, name, payload)
                assert (await _next(socket))["type"] == "complete"
                checked += 1
        finally:
            await socket.close()
    assert await snapshot(alpha.tenant.id) == before
    assert checked == len(documents) + len(MANAGER_ONLY)


# --- credentials that die while a socket is open ------------------------------------------------


async def _until_registered(count: int) -> None:
    """Until this server's hub (the one in this process) holds ``count`` subscriptions."""
    await until(lambda: SUBSCRIPTIONS.value() == count, 10, f"{count} subscriptions in the hub")


async def _open_subscription(address: str, token: str):
    registered = SUBSCRIPTIONS.value()
    socket = await _ws(address)
    assert (await _init(socket, token))["type"] == "connection_ack"
    await _subscribe(socket, "live")
    await _until_registered(registered + 1)
    return socket


async def _ended_and_closed(socket) -> None:
    """The subscription ends with UNAUTHENTICATED and the socket closes with 4403."""
    message = await _next(socket, within=5)
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED", message
    assert await _close_code(socket, within=5) == 4403


async def test_revoking_a_key_ends_its_open_sockets(world):
    address, http, alpha, _beta, _dead = world
    key, token = await auth.create_api_key(actor=alpha.tenant.owner, name="Soon revoked")
    subscribed = await _open_subscription(address, token)
    idle = await _ws(address)  # a socket of the same key without any subscription
    assert (await _init(idle, token))["type"] == "connection_ack"
    # when the owner revokes the key through the API
    response = await _post(
        http,
        "mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) "
        "{ userErrors { code } } }",
        {"input": {"apiKeyId": gid("ApiKey", key.id)}},
        alpha.tenant.owner_token,
    )
    assert response.json()["data"]["revokeApiKey"]["userErrors"] == []
    # then its subscription ends and its socket closes
    await _ended_and_closed(subscribed)
    # and the idle socket can run nothing more as the key
    await _refuses_further_operations(idle)


async def test_deactivating_staff_ends_their_open_sockets(world):
    address, _http, alpha, _beta, _dead = world
    staff, token = await _staff_session(alpha.tenant.id, expires_in=timedelta(hours=1))
    subscribed = await _open_subscription(address, token)
    idle = await _ws(address)
    assert (await _init(idle, token))["type"] == "connection_ack"
    await auth.deactivate_staff(actor=alpha.tenant.owner, staff_id=staff.id)
    await _ended_and_closed(subscribed)
    await _refuses_further_operations(idle)


async def test_a_session_that_expires_ends_its_open_sockets(world):
    address, _http, alpha, _beta, _dead = world
    _staff, token = await _staff_session(alpha.tenant.id, expires_in=timedelta(hours=1))
    subscribed = await _open_subscription(address, token)
    idle = await _ws(address)
    assert (await _init(idle, token))["type"] == "connection_ack"
    await StaffSession.filter(token_hash=auth.hash_token(token)).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    await _ended_and_closed(subscribed)
    await _refuses_further_operations(idle)


async def _refuses_further_operations(socket) -> None:
    """A socket whose credential died runs no query: UNAUTHENTICATED, or closed with 4403.
    Every operation on a socket checks its token again, so this holds at once: no re-check
    period to wait for (the callers already saw the credential die)."""
    try:
        await _subscribe(socket, "after", query="{ viewer { name } business { name } }")
        message = await _next(socket)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4403
        return
    assert message["type"] in ("next", "error"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED", message
    assert "Alpha" not in json.dumps(message)
    await socket.close()
