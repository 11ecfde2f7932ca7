"""The database goes away and comes back: PostgreSQL reached through a TCP proxy the test cuts
(the shared server itself is never touched). While it is gone every answer is a clear, safe
error (503 SERVICE_UNAVAILABLE over HTTP, close code 1013 for a new WebSocket) and /readyz says
503; once it is back everything works again without a restart, and a subscriber that stayed
connected, or resumed from its cursor, misses no event."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import websockets
from tortoise import Tortoise

from packgraph.app import create_app
from packgraph.models import Event, LedgerEntry
from tests.api.support import gid, given_catalog, given_pack, make_tenant, settings_for
from tests.databases import init_orm
from tests.hardening.support import TcpProxy, broken_invariants, clean_json, serving_app

VIEWER = "{ viewer { name } packs(first: 5) { totalCount } }"
LOGIN = 'mutation { login(input: {email: "a@b.test", password: "x"}) { token } }'
REDEEM = """
mutation($input: RedeemSessionInput!) {
  redeemSession(input: $input) { entry { id } userErrors { code message } }
}
"""
EVENTS = "subscription($after: String) { packEvents(after: $after) { cursor type } }"


def _through(proxy: TcpProxy, url: str) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    scheme, rest = url.split("://", 1)
    credentials, location = rest.rsplit("@", 1)
    return f"{scheme}://{credentials}@127.0.0.1:{proxy.port}/{location.split('/', 1)[1]}"


async def _eventually(check, within: float = 20.0):
    deadline = time.monotonic() + within
    while True:
        try:
            return await check()
        except (AssertionError, httpx.HTTPError, OSError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)


async def _ws(address: str, token: str):
    socket = await websockets.connect(
        f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"], open_timeout=5
    )
    await socket.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    return socket


async def _subscribe(socket, operation_id: str, query: str, variables: dict | None = None):
    await socket.send(
        json.dumps(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
    )


async def test_database_outage_gives_clear_errors_then_full_recovery(postgres_url):
    host, port = postgres_url.split("@", 1)[1].split("/", 1)[0].split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    url = _through(proxy, postgres_url)
    try:
        # given packgraph on PostgreSQL through the proxy, a pack sold, and a live subscriber
        await init_orm(url)
        tenant = await make_tenant("Alpha")
        catalog = await given_catalog(tenant)
        sale = await given_pack(tenant, catalog)
        redeem = {
            "packId": gid("Pack", sale.pack.id),
            "serviceId": gid("Service", catalog.massage.id),
        }
        app = create_app(settings_for(url, db_pool_max=4, live_poll_ms=200, broker_ping_ms=500))
        async with (
            serving_app(app) as address,
            httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http,
        ):
            headers = {"Authorization": f"Bearer {tenant.staff_token}"}

            async def post(query, variables=None, token=True):
                return await http.post(
                    "/graphql",
                    json={"query": query, "variables": variables or {}},
                    headers=headers if token else {},
                )

            assert (await http.get("/readyz")).status_code == 200
            subscriber = await _ws(address, tenant.integration_token)
            assert json.loads(await subscriber.recv())["type"] == "connection_ack"
            await _subscribe(subscriber, "live", EVENTS)
            open_socket = await _ws(address, tenant.staff_token)
            assert json.loads(await open_socket.recv())["type"] == "connection_ack"
            await asyncio.sleep(0.3)
            events_before = await Event.filter(business_id=tenant.id).count()

            # when the database becomes unreachable
            await proxy.cut()
            started = time.monotonic()
            ready = await http.get("/readyz")
            # then readiness fails fast and says why; liveness does not depend on it
            assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
            assert time.monotonic() - started < 5
            assert (await http.get("/healthz")).status_code == 200
            # and every HTTP request gets a clear, safe 503, never a 500 or a masked bug
            for query, variables, token in (
                (VIEWER, None, True),
                (REDEEM, {"input": {**redeem, "idempotencyKey": "outage-1"}}, True),
                (LOGIN, None, False),
            ):
                response = await post(query, variables, token)
                body = clean_json(response, allow_unavailable=True)
                codes = [e.get("extensions", {}).get("code") for e in body["errors"]]
                assert codes == ["SERVICE_UNAVAILABLE"], body
                assert response.status_code == 503
                assert response.headers["retry-after"] == "1"
            # and a new WebSocket is told to try again later
            refused = await _ws(address, tenant.staff_token)
            try:
                await asyncio.wait_for(refused.recv(), 5)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 1013
            else:
                raise AssertionError("a WebSocket was acknowledged without a database")
            # and an open WebSocket's query gets the same clear error
            await _subscribe(open_socket, "q", VIEWER)
            answer = json.loads(await asyncio.wait_for(open_socket.recv(), 10))
            errors = (
                answer["payload"] if answer["type"] == "error" else answer["payload"].get("errors")
            )
            assert [e.get("extensions", {}).get("code") for e in errors] == [
                "SERVICE_UNAVAILABLE"
            ], answer

            # when the database comes back
            await proxy.restore()

            # then readiness, queries, logins and mutations recover without a restart
            async def recovered() -> None:
                assert (await http.get("/readyz")).status_code == 200
                body = (await post(VIEWER)).json()
                assert "errors" not in body, body

            await _eventually(recovered)
            # the redemption refused during the outage did nothing: its retry runs exactly once
            for _ in range(2):
                body = await post(REDEEM, {"input": {**redeem, "idempotencyKey": "outage-1"}})
                assert body.json()["data"]["redeemSession"]["userErrors"] == [], body.text
            assert await LedgerEntry.filter(pack_id=sale.pack.id).count() == 1
            # and the subscriber that stayed connected receives that event, or was told where
            # to resume and gets it from there
            received = await _live_or_resumed(subscriber, address, tenant.integration_token)
            assert received == ["SESSION_REDEEMED"]
            assert await Event.filter(business_id=tenant.id).count() == events_before + 1
            assert await broken_invariants() == []
            await subscriber.close()
            await open_socket.close()
    finally:
        await Tortoise.close_connections()
        await proxy.close()


async def _live_or_resumed(socket, address: str, token: str) -> list[str]:
    """The event types the subscriber gets after the outage, resuming once if it was ended."""
    message = json.loads(await asyncio.wait_for(socket.recv(), 15))
    if message["type"] == "next" and not message["payload"].get("errors"):
        return [message["payload"]["data"]["packEvents"]["type"]]
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    cursor = errors[0]["extensions"]["cursor"]
    resumed = await _ws(address, token)
    assert json.loads(await resumed.recv())["type"] == "connection_ack"
    await _subscribe(resumed, "again", EVENTS, {"after": cursor})
    message = json.loads(await asyncio.wait_for(resumed.recv(), 15))
    await resumed.close()
    return [message["payload"]["data"]["packEvents"]["type"]]
