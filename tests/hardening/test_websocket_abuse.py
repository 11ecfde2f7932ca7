"""graphql-transport-ws abuse against a real uvicorn server: every protocol violation is answered
with the protocol's close code (4400 bad message, 4401 subscribe before ack, 4403 bad token,
4408 init timeout, 4409 duplicate id, 4429 second init), nothing is logged as a server error,
and a well-behaved client is served normally afterwards."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from packgraph.app import create_app
from tests.api.support import make_tenant, settings_for
from tests.hardening.support import graphql_view, serving_app

PROTOCOL = "graphql-transport-ws"
VIEWER = "{ viewer { name } }"
PACK_EVENTS = "subscription { packEvents { cursor } }"
ORIGIN = "http://dashboard.test"
# Short, so the test of a client that never inits is quick; long enough that a well-behaved
# client's init (a token lookup) is acknowledged in time on a loaded 2-core CI machine (0.5 s was
# not, once: the server closed a good connection with 4408).
INIT_TIMEOUT = 2.0


def _subscribe(operation_id: Any, query: str = PACK_EVENTS, **payload: Any) -> str:
    return json.dumps(
        {"id": operation_id, "type": "subscribe", "payload": {"query": query, **payload}}
    )


async def _connect(address: str, **options: Any):
    return await websockets.connect(
        f"ws://{address}/graphql",
        subprotocols=options.pop("subprotocols", [PROTOCOL]),
        origin=options.pop("origin", ORIGIN),
        open_timeout=5,
        **options,
    )


async def _close_code(socket, within: float = 5) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        async with asyncio.timeout(within):
            while True:
                await socket.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def _init(socket, token: str) -> None:
    await socket.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    ack = json.loads(await asyncio.wait_for(socket.recv(), 5))
    assert ack["type"] == "connection_ack", ack


async def _served_normally(address: str, token: str) -> None:
    """A well-behaved client: init, a query, and its result."""
    socket = await _connect(address)
    try:
        await _init(socket, token)
        await socket.send(_subscribe("q", VIEWER))
        message = json.loads(await asyncio.wait_for(socket.recv(), 5))
        assert message["type"] == "next", message
        assert message["payload"]["data"]["viewer"]["name"], message
        done = json.loads(await asyncio.wait_for(socket.recv(), 5))
        assert done == {"id": "q", "type": "complete"}
    finally:
        await socket.close()


# (what is sent before/after a valid init, expected close code)
INIT = "<init>"
CASES: list[tuple[str, list[Any], int]] = [
    ("subscribe before init", [_subscribe("1")], 4401),
    ("query before init", [_subscribe("1", VIEWER)], 4401),
    ("second init", [INIT, json.dumps({"type": "connection_init", "payload": {}})], 4429),
    ("unknown type", [INIT, json.dumps({"type": "nope"})], 4400),
    ("unknown type before init", [json.dumps({"type": "nope", "id": "1"})], 4400),
    ("type not a string", [json.dumps({"type": ["connection_init"]})], 4400),
    ("missing type", [json.dumps({"payload": {}})], 4400),
    ("invalid json", ["{nope"], 4400),
    ("invalid json after init", [INIT, '{"type": "subscribe", "id": "1", "payload": {'], 4400),
    ("deeply nested json", ["[" * 100_000 + "]" * 100_000], 4400),
    ("huge number", ['{"type": "ping", "payload": 1' + "0" * 5000 + "}"], 4400),
    ("json array", ["[1, 2]"], 4400),
    ("json string", ['"connection_init"'], 4400),
    ("json null", ["null"], 4400),
    ("binary frame", [b"\x00\x01\x02"], 4400),
    ("init payload not an object", [json.dumps({"type": "connection_init", "payload": "x"})], 4400),
    ("init payload a list", [json.dumps({"type": "connection_init", "payload": [1]})], 4400),
    ("duplicate subscription id", [INIT, _subscribe("1"), _subscribe("1")], 4409),
    ("subscribe without id", [INIT, json.dumps({"type": "subscribe", "payload": {}})], 4400),
    ("subscribe without payload", [INIT, json.dumps({"type": "subscribe", "id": "1"})], 4400),
    (
        "subscribe payload not an object",
        [INIT, json.dumps({"type": "subscribe", "id": "1", "payload": "x"})],
        4400,
    ),
    (
        "subscribe payload without query",
        [INIT, json.dumps({"type": "subscribe", "id": "1", "payload": {}})],
        4400,
    ),
    ("subscribe id not a string", [INIT, _subscribe(["1"])], 4400),
    ("subscribe id an object", [INIT, _subscribe({"a": 1})], 4400),
    ("subscribe query not a string", [INIT, _subscribe("1", 12)], 4400),  # type: ignore[arg-type]
    (
        "subscribe variables not an object",
        [INIT, _subscribe("1", PACK_EVENTS, variables=[1])],
        4400,
    ),
    ("subscribe syntax error", [INIT, _subscribe("1", "subscription {")], 4400),
    ("complete id not a string", [INIT, json.dumps({"type": "complete", "id": ["1"]})], 4400),
]


@pytest.fixture
async def server(sqlite_url):
    app = create_app(settings_for(sqlite_url, allowed_origins=(ORIGIN,)))
    graphql_view(app).connection_init_wait_timeout = timedelta(seconds=INIT_TIMEOUT)
    async with serving_app(app) as address:
        tenant = await make_tenant("Alpha")
        yield address, tenant


@pytest.fixture
def server_errors(caplog):
    """ERROR records (tracebacks in the server) logged during the test."""
    caplog.set_level(logging.ERROR)
    return lambda: [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.exc_info
    ]


@pytest.mark.parametrize(("messages", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_protocol_violations_close_with_the_protocol_code(
    server, server_errors, messages, code
):
    address, tenant = server
    socket = await _connect(address)
    try:
        for message in messages:
            if message == INIT:
                await _init(socket, tenant.staff_token)
            else:
                await socket.send(message)
        assert await _close_code(socket) == code
    finally:
        await socket.close()
    assert server_errors() == []
    await _served_normally(address, tenant.staff_token)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"token": "pgs_nope"},
        {"token": "pgk_nope"},
        {"token": 12},
        {"token": {"a": 1}},
        {"token": "x" * 100_000},
        {"token": "pgs_\x00"},
        {"token": "\ud800"},
    ],
    ids=["none", "unknown-session", "unknown-key", "number", "object", "huge", "nul", "surrogate"],
)
async def test_bad_tokens_are_closed_with_4403(server, server_errors, payload):
    address, tenant = server
    socket = await _connect(address)
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert await _close_code(socket) == 4403
    assert server_errors() == []
    await _served_normally(address, tenant.staff_token)


async def test_a_connection_that_never_inits_is_closed_with_4408(server, server_errors):
    address, tenant = server
    socket = await _connect(address)
    # then after the init timeout the server closes it, whatever else it sends
    await socket.send(json.dumps({"type": "ping"}))
    assert await _close_code(socket, within=INIT_TIMEOUT + 5) == 4408
    assert server_errors() == []
    await _served_normally(address, tenant.staff_token)


async def test_too_many_subscriptions_are_refused_one_by_one(sqlite_url, server_errors):
    app = create_app(
        settings_for(sqlite_url, allowed_origins=(ORIGIN,), max_subscriptions_per_connection=3)
    )
    async with serving_app(app) as address:
        tenant = await make_tenant("Alpha")
        socket = await _connect(address)
        try:
            await _init(socket, tenant.integration_token)
            for number in range(3):
                await socket.send(_subscribe(str(number)))
            # when a fourth is asked for
            await socket.send(_subscribe("3"))
            refusal = json.loads(await asyncio.wait_for(socket.recv(), 5))
            # then that one gets an error and the connection stays open
            assert refusal["type"] == "error" and refusal["id"] == "3", refusal
            assert "limit" in refusal["payload"][0]["message"]
            # and after completing one, a new one is accepted
            await socket.send(json.dumps({"id": "0", "type": "complete"}))
            await asyncio.sleep(0.2)
            await socket.send(_subscribe("4"))
            await socket.send(json.dumps({"type": "ping"}))
            pong = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert pong["type"] == "pong", pong
        finally:
            await socket.close()
        assert server_errors() == []
        await _served_normally(address, tenant.staff_token)


async def test_unknown_ids_and_floods_are_harmless(server, server_errors):
    address, tenant = server
    socket = await _connect(address)
    try:
        await _init(socket, tenant.staff_token)
        # completing what was never subscribed is ignored (graphql-transport-ws)
        await socket.send(json.dumps({"id": "never", "type": "complete"}))
        # a flood of pings is answered in full
        for _ in range(300):
            await socket.send(json.dumps({"type": "ping"}))
        pongs = [json.loads(await asyncio.wait_for(socket.recv(), 5)) for _ in range(300)]
        assert {message["type"] for message in pongs} == {"pong"}
        # a burst of subscribe/complete pairs leaves nothing behind
        for number in range(50):
            await socket.send(_subscribe(f"s{number}"))
            await socket.send(json.dumps({"id": f"s{number}", "type": "complete"}))
        await socket.send(_subscribe("q", VIEWER))
        while (message := json.loads(await asyncio.wait_for(socket.recv(), 5)))["id"] != "q":
            pass
        assert message["type"] == "next"
    finally:
        await socket.close()
    assert server_errors() == []
    await _served_normally(address, tenant.staff_token)


@pytest.mark.parametrize(
    "options",
    [
        {"origin": "http://evil.test"},
        {"origin": "null"},
        {"origin": ORIGIN + ".evil.test"},
    ],
    ids=["other-origin", "null-origin", "suffix-origin"],
)
async def test_websockets_from_other_origins_are_refused(server, server_errors, options):
    address, tenant = server
    with pytest.raises(InvalidStatus) as refused:
        await _connect(address, **options)
    assert refused.value.response.status_code == 403
    assert server_errors() == []
    await _served_normally(address, tenant.staff_token)


async def test_other_subprotocols_are_refused(server, server_errors):
    address, tenant = server
    try:
        socket = await _connect(address, subprotocols=["graphql-ws"])
    except websockets.exceptions.InvalidHandshake:
        pass  # refused at the handshake
    else:
        assert await _close_code(socket) == 4406
    assert server_errors() == []
    await _served_normally(address, tenant.staff_token)
