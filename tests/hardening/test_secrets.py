"""Credentials at rest, on the wire and in logs: tokens stored only as SHA-256, passwords as
argon2id, the login rate limit per email and per address (also under concurrency), CORS only for
configured origins, and no token or password in any log line of a real server process."""

from __future__ import annotations

import asyncio
import hashlib
import json
from contextlib import asynccontextmanager

import httpx
import pytest
import websockets
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from graphql import GraphQLObjectType
from tortoise import Tortoise

from packgraph.app import create_app
from packgraph.domain import auth
from packgraph.models import ApiKey, Role, Staff, StaffSession
from packgraph.settings import Settings
from tests.api.matrix import graphql_schema
from tests.api.support import settings_for
from tests.hardening.support import ServerProcess, close_orm

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token userErrors { code } }
}
"""
CREATE_KEY = """
mutation { createApiKey(input: {name: "Accounting"}) { token apiKey { id tokenPrefix }
  userErrors { code } } }
"""
PASSWORD = "correct horse battery staple 7Q!"


async def _owner(email: str = "owner@harbour.test", password: str = PASSWORD) -> Staff:
    business = await auth.create_business(name="Harbour", timezone="UTC", currency="AUD")
    return await auth.create_staff(
        business_id=business.id, name="Olivia", email=email, role=Role.OWNER, password=password
    )


@asynccontextmanager
async def _app(url: str, **changes):
    """The real app with its lifespan; ``client(address)`` makes a client from that address."""
    app = create_app(settings_for(url, **changes))
    clients: list[httpx.AsyncClient] = []

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        made = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(made)
        return made

    async with app.router.lifespan_context(app):
        try:
            yield client
        finally:
            for made in clients:
                await made.aclose()


async def _login(client: httpx.AsyncClient, email: str, password: str) -> tuple[str | None, list]:
    response = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": email, "password": password}}
    )
    payload = response.json()["data"]["login"]
    return payload["token"], [error["code"] for error in payload["userErrors"]]


async def _every_stored_text() -> str:
    """Every column of every row of every table, as one text."""
    rows = []
    for model in Tortoise.apps["models"].values():
        rows.extend(await model.all().values())
    return json.dumps(rows, default=str)


# --- at rest --------------------------------------------------------------------------------------


async def test_tokens_are_stored_only_as_sha256(database_url):
    async with _app(database_url) as client:
        http = client("198.51.100.7")
        await _owner()
        # given a staff login and an API key made through the API
        session_token, _ = await _login(http, "owner@harbour.test", PASSWORD)
        created = await http.post(
            "/graphql",
            json={"query": CREATE_KEY},
            headers={"Authorization": f"Bearer {session_token}"},
        )
        key_token = created.json()["data"]["createApiKey"]["token"]
        # then neither token, nor its secret part, is anywhere in the database
        stored = await _every_stored_text()
        for token in (session_token, key_token):
            secret = token[4:]
            assert len(secret) >= 43  # 32 random bytes
            assert secret not in stored
            assert secret[8:] not in stored  # beyond the displayed prefix
        # and what is stored is the SHA-256 of the token
        session = await StaffSession.get()
        key = await ApiKey.get()
        assert session.token_hash == hashlib.sha256(session_token.encode()).hexdigest()
        assert key.token_hash == hashlib.sha256(key_token.encode()).hexdigest()
        # and only the first 12 characters of a key are kept, to recognise it in a list
        assert key.token_prefix == key_token[:12]
        # and the password is nowhere either
        assert PASSWORD not in stored


async def test_passwords_are_argon2id_with_a_salt_and_sane_cost(sqlite_url):
    async with _app(sqlite_url) as client:
        first = await _owner("one@harbour.test")
        second = await _owner("two@harbour.test")
        for staff in (first, second):
            assert staff.password_hash.startswith("$argon2id$v=19$")
            parameters = dict(
                part.split("=") for part in staff.password_hash.split("$")[3].split(",")
            )
            assert int(parameters["m"]) >= 19456 and int(parameters["t"]) >= 2
        # the same password hashes differently (salted) and verifies only itself
        assert first.password_hash != second.password_hash
        PasswordHasher().verify(first.password_hash, PASSWORD)
        with pytest.raises(VerifyMismatchError):
            PasswordHasher().verify(first.password_hash, PASSWORD + " ")
        token, errors = await _login(client("198.51.100.7"), "one@harbour.test", PASSWORD)
        assert token and errors == []


def test_no_type_exposes_a_password_hash_or_a_stored_token():
    schema = graphql_schema()
    exposed = []
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name in graphql_type.fields:
            lowered = field_name.lower()
            if "password" in lowered or "hash" in lowered or "secret" in lowered:
                exposed.append(f"{type_name}.{field_name}")
            if "token" in lowered and type_name not in ("LoginPayload", "CreateApiKeyPayload"):
                if field_name != "tokenPrefix":
                    exposed.append(f"{type_name}.{field_name}")
    assert exposed == []


# --- the login rate limit ----------------------------------------------------------------------


async def test_failures_from_many_addresses_lock_the_email(sqlite_url):
    async with _app(sqlite_url, login_max_attempts=3) as client:
        await _owner()
        # when an attacker tries one email from many addresses
        codes = []
        for number in range(5):
            _, errors = await _login(client(f"203.0.113.{number}"), "owner@harbour.test", "guess")
            codes.extend(errors)
        # then after the limit the email is locked, even with the right password from elsewhere
        assert codes == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"] * 2
        token, errors = await _login(client("192.0.2.99"), "owner@harbour.test", PASSWORD)
        assert token is None and errors == ["RATE_LIMITED"]


async def test_failures_for_many_emails_lock_the_address(sqlite_url):
    async with _app(sqlite_url, login_max_attempts=3) as client:
        await _owner()
        attacker = client("203.0.113.50")
        codes = []
        for number in range(5):
            _, errors = await _login(attacker, f"user{number}@harbour.test", "guess")
            codes.extend(errors)
        assert codes == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"] * 2
        # the attacker's address is locked for the real account too
        _, errors = await _login(attacker, "owner@harbour.test", PASSWORD)
        assert errors == ["RATE_LIMITED"]
        # while the owner, from their own address, still logs in
        token, errors = await _login(client("192.0.2.10"), "owner@harbour.test", PASSWORD)
        assert token and errors == []


async def test_concurrent_guesses_cannot_slip_past_the_limit(postgres_url):
    async with _app(postgres_url, login_max_attempts=3) as client:
        await _owner()
        # when 20 guesses for one email arrive at once from 20 addresses
        results = await asyncio.gather(
            *(
                _login(client(f"203.0.113.{number}"), "owner@harbour.test", "guess")
                for number in range(20)
            )
        )
        codes = [errors[0] for _, errors in results]
        # then at most the limit were even checked against the password
        assert codes.count("INVALID_CREDENTIALS") <= 3
        assert codes.count("RATE_LIMITED") >= 17


async def test_unknown_emails_and_inactive_staff_get_the_same_answer(sqlite_url):
    async with _app(sqlite_url) as client:
        staff = await _owner()
        http = client("198.51.100.7")
        unknown = await _login(http, "nobody@harbour.test", PASSWORD)
        wrong = await _login(http, "owner@harbour.test", "nope")
        await Staff.filter(id=staff.id).update(active=False)
        inactive = await _login(http, "owner@harbour.test", PASSWORD)
        assert unknown == wrong == inactive == (None, ["INVALID_CREDENTIALS"])


# --- origins ------------------------------------------------------------------------------------


async def test_cors_headers_only_for_configured_origins(sqlite_url, monkeypatch):
    monkeypatch.setenv("PACKGRAPH_ALLOWED_ORIGINS", "http://dashboard.test, http://admin.test")
    settings = Settings.from_env()
    assert settings.allowed_origins == ("http://dashboard.test", "http://admin.test")
    app = create_app(
        Settings(
            database_url=sqlite_url,
            expiry_interval_seconds=0,
            allowed_origins=settings.allowed_origins,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            answers = {}
            for origin in (
                "http://dashboard.test",
                "http://admin.test",
                "http://evil.test",
                "null",
                "http://dashboard.test.evil.test",
                "HTTP://DASHBOARD.TEST",
            ):
                response = await http.post(
                    "/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin}
                )
                answers[origin] = response.headers.get("access-control-allow-origin")
                assert "access-control-allow-credentials" not in response.headers
    assert answers == {
        "http://dashboard.test": "http://dashboard.test",
        "http://admin.test": "http://admin.test",
        "http://evil.test": None,
        "null": None,
        "http://dashboard.test.evil.test": None,
        "HTTP://DASHBOARD.TEST": None,
    }


# --- logs ---------------------------------------------------------------------------------------


async def test_no_token_or_password_reaches_the_server_log(postgres_url, tmp_path):
    """At the default log level. (At debug, uvicorn dumps WebSocket frames, which hold the end
    of a connection_init token: reported to the CLI's owner, see docs/security.md.)"""
    from tests.databases import init_orm

    await init_orm(postgres_url)
    try:
        await _owner()
    finally:
        await close_orm()
    server = ServerProcess(
        tmp_path / "server.log",
        cli=True,
        database_url=postgres_url,
        log_level="info",  # the default; at debug uvicorn dumps WebSocket frames (see below)
        allowed_origins="http://dashboard.test",
    )
    await server.start()
    secrets_seen: list[str] = [PASSWORD, "wrong-" + PASSWORD]
    try:
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
            # a failed and a successful login, a key made, tokens used every way there is
            await http.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": "owner@harbour.test", "password": "wrong-" + PASSWORD},
                },
            )
            answer = await http.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": "owner@harbour.test", "password": PASSWORD},
                },
            )
            session_token = answer.json()["data"]["login"]["token"]
            headers = {"Authorization": f"Bearer {session_token}"}
            created = await http.post("/graphql", json={"query": CREATE_KEY}, headers=headers)
            key_token = created.json()["data"]["createApiKey"]["token"]
            secrets_seen += [session_token, key_token]
            await http.get(
                "/graphql",
                params={"query": "{ viewer { name } }", "token": key_token},
                headers=headers,
            )
            # malformed requests carrying secrets, which the server reports as errors
            await http.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": ["owner@harbour.test"], "password": PASSWORD},
                },
            )
            await http.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": "owner@harbour.test", "password": {"value": PASSWORD}},
                },
            )
            await http.post("/graphql", json={"query": "{ viewer { nope } }"}, headers=headers)
            await http.post(
                "/graphql",
                json={"query": "{ viewer { name } }"},
                headers={"Authorization": f"Bearer {key_token}x"},
            )
            async with websockets.connect(
                server.ws, subprotocols=["graphql-transport-ws"], origin="http://dashboard.test"
            ) as socket:
                await socket.send(
                    json.dumps({"type": "connection_init", "payload": {"token": key_token}})
                )
                await socket.recv()
            async with websockets.connect(
                server.ws, subprotocols=["graphql-transport-ws"], origin="http://dashboard.test"
            ) as socket:
                await socket.send(
                    json.dumps({"type": "connection_init", "payload": {"token": key_token + "x"}})
                )
                with pytest.raises(websockets.ConnectionClosed):
                    await socket.recv()
    finally:
        server.stop()
    log = server.log()
    assert "POST /graphql" in log  # the log was written at debug level
    # any 12 consecutive characters of a secret count as a leak (logs may truncate)
    pieces = {
        secret[start : start + 12] for secret in secrets_seen for start in range(len(secret) - 11)
    }
    leaked = [line for line in log.splitlines() if any(piece in line for piece in pieces)]
    assert leaked == [], "\n".join(leaked)
