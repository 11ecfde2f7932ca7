"""Talking to a running packgraph: the dashboard's documents, login, and the data a benchmark needs.

Data is made the way users make it: ``packgraph seed-demo`` for the demo business and its history,
then mutations over HTTP for the packs and appointments a benchmark works on.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

# The dashboard's own documents (frontend/src/features/packs/packFields.graphql, board.graphql,
# frontend/src/features/live/packEvents.graphql), copied so the harness needs no frontend.
PACK_CARD_FIELDS = """
fragment PackCardFields on Pack {
  id version name metric status paymentStatus price discount finalPrice amountPaid balanceDue
  purchasedAt expiresAt cancelledAt cancelReason
  client { id name }
  items { id allowance used remaining services { id name } }
}
"""
BOARD_QUERY = (
    """
query PackBoard($filter: PackFilter, $orderBy: PackOrder, $first: Int!, $after: String) {
  packs(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...PackCardFields } }
  }
}
"""
    + PACK_CARD_FIELDS
)
PACK_EVENTS_SUBSCRIPTION = (
    """
subscription PackEvents($after: String) {
  packEvents(after: $after) {
    cursor type occurredAt
    actor { kind name }
    statusFrom statusTo details
    pack { ...PackCardFields }
    entry { id kind quantity sessionNumber reason }
    payment { id amount method }
  }
}
"""
    + PACK_CARD_FIELDS
)
REDEEM_MUTATION = """
mutation Redeem($input: RedeemSessionInput!) {
  redeemSession(input: $input) {
    userErrors { code message }
    pack { id version status items { id used remaining } }
    entry { id sessionNumber }
  }
}
"""
CHECK_IN_MUTATION = """
mutation CheckIn($input: CheckInAppointmentInput!) {
  checkInAppointment(input: $input) {
    userErrors { code message }
    appointment { id status }
  }
}
"""
DEMO_EMAIL = "staff@demo.test"
DEMO_PASSWORD = "demo"


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":", 1)[1])


class GraphQLFailed(RuntimeError):
    pass


@dataclass
class Session:
    """An HTTP client logged in to one packgraph server."""

    client: httpx.AsyncClient
    token: str = ""

    @property
    def auth_header(self) -> str:
        return f"Authorization: Bearer {self.token}"

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise GraphQLFailed(f"{response.status_code}: {json.dumps(body)[:800]}")
        return body["data"]

    async def mutate(self, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
        input_type = name[0].upper() + name[1:] + "Input"
        query = (
            f"mutation M($input: {input_type}!) {{ {name}(input: $input) {{ "
            f"userErrors {{ code field message }} {selection} }} }}"
        )
        payload = (await self.run(query, {"input": input}))[name]
        if payload["userErrors"]:
            raise GraphQLFailed(f"{name}: {payload['userErrors']}")
        return payload


async def login(base_url: str, email: str = DEMO_EMAIL) -> Session:
    client = httpx.AsyncClient(base_url=base_url, timeout=60)
    session = Session(client)
    payload = await session.mutate("login", {"email": email, "password": DEMO_PASSWORD}, "token")
    session.token = payload["token"]
    return session


@dataclass(frozen=True)
class DemoCatalog:
    business_id: int
    staff_id: int
    service_ids: list[int]
    client_ids: list[int]


async def demo_catalog(session: Session, clients: int = 50) -> DemoCatalog:
    data = await session.run(
        "query C($first: Int) { viewer { staff { id } business { id } } services { id name } "
        "clients(first: $first) { edges { node { id } } } }",
        {"first": clients},
    )
    return DemoCatalog(
        business_id=pk(data["viewer"]["business"]["id"]),
        staff_id=pk(data["viewer"]["staff"]["id"]),
        service_ids=[pk(service["id"]) for service in data["services"]],
        client_ids=[pk(edge["node"]["id"]) for edge in data["clients"]["edges"]],
    )


async def sell_large_packs(
    session: Session,
    catalog: DemoCatalog,
    count: int,
    allowance: int = 1_000_000,
    purchased_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """``count`` paid custom packs (one item, every service eligible) with a huge allowance, so
    a benchmark can redeem from them for as long as it runs. Returns pack and item IDs."""
    packs = []
    when = {"purchasedAt": purchased_at.isoformat()} if purchased_at is not None else {}
    for index in range(count):
        client_id = catalog.client_ids[index % len(catalog.client_ids)]
        sale = await session.mutate(
            "sellPack",
            {
                **when,
                "clientId": gid("Client", client_id),
                "custom": {
                    "name": f"Bench pack {index}",
                    "metric": "SESSIONS",
                    "price": 0,
                    "items": [
                        {
                            "allowance": allowance,
                            "serviceIds": [gid("Service", s) for s in catalog.service_ids],
                        }
                    ],
                },
            },
            "pack { id client { id } items { id } }",
        )
        pack = sale["pack"]
        packs.append(
            {
                "pack_id": pk(pack["id"]),
                "client_id": pk(pack["client"]["id"]),
                "item_id": pk(pack["items"][0]["id"]),
            }
        )
    return packs


async def book_appointments(
    session: Session, catalog: DemoCatalog, client_id: int, count: int
) -> list[int]:
    """``count`` appointments of one client today (check-in redeems from the client's pack)."""
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    ids = []
    for index in range(count):
        payload = await session.mutate(
            "createAppointment",
            {
                "clientId": gid("Client", client_id),
                "serviceId": gid("Service", catalog.service_ids[0]),
                "startsAt": (starts + timedelta(seconds=index)).isoformat(),
            },
            "appointment { id }",
        )
        ids.append(pk(payload["appointment"]["id"]))
    return ids


def write_bodies(path: Path, bodies: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(body) + "\n" for body in bodies))
    return path
