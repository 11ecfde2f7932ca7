"""Helpers for API tests: the real app (lifespan included) over HTTP, a real server for WebSocket
tests, and tenants with working tokens for every role.

    async with running_app(sqlite_url) as api:
        clinic = await make_tenant("Clinic A")
        data = await api.ok("{ viewer { name } }", token=clinic.owner_token)
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn

from packgraph.app import create_app
from packgraph.domain import auth
from packgraph.domain.actor import Actor
from packgraph.models import ApiKey, Business, Role, Staff, StaffSession
from packgraph.settings import Settings

ADDRESS = ("198.51.100.7", 5000)


def settings_for(url: str, **changes: Any) -> Settings:
    return Settings(database_url=url, expiry_interval_seconds=0, **changes)


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":", 1)[1])


class Api:
    """An HTTP client for /graphql of a running app."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        operation_name: str | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return await self.client.post("/graphql", json=body, headers=all_headers)

    async def run(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict:
        """The JSON body of a 200 response."""
        response = await self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict:
        """``data`` of a response without errors."""
        body = await self.run(query, variables, **kwargs)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def mutate(
        self, name: str, input: dict[str, Any], selection: str = "", *, token: str
    ) -> dict:
        """Run mutation ``name`` with ``input``; returns its payload (``userErrors`` included)."""
        input_type = name[0].upper() + name[1:] + "Input"
        query = (
            f"mutation Run($input: {input_type}!) {{ {name}(input: $input) {{ "
            f"userErrors {{ code field message }} {selection} }} }}"
        )
        data = await self.ok(query, {"input": input}, token=token)
        return data[name]


@asynccontextmanager
async def running_app(url: str, **changes: Any) -> AsyncIterator[Api]:
    """The real app on database ``url`` with its lifespan started, and an HTTP client."""
    app = create_app(settings_for(url, **changes))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=ADDRESS)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def serving(url: str, **changes: Any) -> AsyncIterator[str]:
    """A real uvicorn server of the app on a free port, in this event loop. Yields its base URL."""
    port = free_port()
    app = create_app(settings_for(url, **changes))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Tenant:
    """A business with one token per role."""

    business: Business
    owner: Actor
    manager: Actor
    staff: Actor
    integration: Actor
    tokens: dict[Role, str] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.business.id

    @property
    def owner_token(self) -> str:
        return self.tokens[Role.OWNER]

    @property
    def manager_token(self) -> str:
        return self.tokens[Role.MANAGER]

    @property
    def staff_token(self) -> str:
        return self.tokens[Role.STAFF]

    @property
    def integration_token(self) -> str:
        return self.tokens[Role.INTEGRATION]


async def _staff_with_token(business: Business, role: Role, name: str) -> tuple[Actor, str]:
    staff = await Staff.create(
        business=business,
        name=name,
        email=f"{role.value.lower()}-{secrets.token_hex(4)}@b{business.id}.test",
        role=role,
        password_hash="not-a-hash",
    )
    token = auth.SESSION_PREFIX + secrets.token_urlsafe(16)
    await StaffSession.create(
        business=business,
        staff=staff,
        token_hash=auth.hash_token(token),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return auth.staff_actor(staff), token


async def make_tenant(name: str = "Clinic", **business_fields: Any) -> Tenant:
    """A business with an owner, a manager, a staff member and an integration key, each with a
    working token (made directly, without argon2, to keep tests fast)."""
    business = await Business.create(name=name, timezone="UTC", currency="AUD", **business_fields)
    owner, owner_token = await _staff_with_token(business, Role.OWNER, f"{name} Owner")
    manager, manager_token = await _staff_with_token(business, Role.MANAGER, f"{name} Manager")
    staff, staff_token = await _staff_with_token(business, Role.STAFF, f"{name} Staff")
    key_token = auth.API_KEY_PREFIX + secrets.token_urlsafe(16)
    key = await ApiKey.create(
        business=business,
        name=f"{name} Sync",
        token_hash=auth.hash_token(key_token),
        token_prefix=key_token[:12],
    )
    integration = Actor(
        business_id=business.id, role=Role.INTEGRATION, api_key_id=key.id, name=key.name
    )
    return Tenant(
        business=business,
        owner=owner,
        manager=manager,
        staff=staff,
        integration=integration,
        tokens={
            Role.OWNER: owner_token,
            Role.MANAGER: manager_token,
            Role.STAFF: staff_token,
            Role.INTEGRATION: key_token,
        },
    )


# --- givens: a catalog and packs made through the domain, as a user would -----------------------


@dataclass
class Catalog:
    """Services, a 10-massage template and a client of one tenant."""

    massage: Any
    physio: Any
    ten_massages: Any
    client: Any


async def given_catalog(tenant: Tenant, client_name: str = "Ana Lima") -> Catalog:
    from packgraph.domain import catalog
    from packgraph.models import Metric

    owner = tenant.owner
    massage = await catalog.create_service(
        actor=owner, name="Massage 60", duration_minutes=60, price=90_00
    )
    physio = await catalog.create_service(
        actor=owner, name="Physio", duration_minutes=45, price=80_00
    )
    ten_massages = await catalog.create_pack_template(
        actor=owner,
        name="10 massages",
        metric=Metric.SESSIONS,
        price=800_00,
        items=[catalog.TemplateItemSpec(allowance=10, service_ids=[massage.id])],
        default_service_id=massage.id,
    )
    client = await catalog.create_client(actor=owner, name=client_name)
    return Catalog(massage=massage, physio=physio, ten_massages=ten_massages, client=client)


async def given_pack(tenant: Tenant, catalog: Catalog, **kwargs: Any) -> Any:
    """A 10-massage pack sold to the catalog's client; returns the domain's SaleResult."""
    from packgraph.domain.selling import sell_pack

    kwargs.setdefault("client_id", catalog.client.id)
    kwargs.setdefault("template_id", catalog.ten_massages.id)
    return await sell_pack(actor=tenant.staff, **kwargs)


async def event_types(business_id: int) -> list[str]:
    from packgraph.models import Event

    return [
        event.type.value for event in await Event.filter(business_id=business_id).order_by("seq")
    ]


VIEWER_QUERY = "{ viewer { name role business { name } } }"
