"""The baselines: plain Starlette endpoints, served by uvicorn in their own process.

- ``POST /board``: the board page the dashboard asks packgraph for (50 pack cards with client,
  items, item services, payment figures, a total count and cursors), read from the same database
  with the raw driver (asyncpg or aiosqlite) in four statements and rendered with ``json.dumps``:
  what a hand-written endpoint would cost.
- ``WS /ws`` + ``POST /publish``: every connected client gets the published text, each from its
  own connection task (a per-connection queue), as a hand-written fan-out would do.

Run with ``uvicorn --factory bench.baseline_app:create_app``; the database comes from
``PACKGRAPH_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

PACKS_SQL = """
SELECT p.id, p.version, p.name, p.metric, p.status, p.payment_status, p.price, p.discount,
       p.final_price, p.amount_paid, p.purchased_at, p.expires_at, p.cancelled_at,
       p.cancel_reason, p.client_id, c.name AS client_name
FROM pack p JOIN client c ON c.id = p.client_id
WHERE p.business_id = {b} AND p.deleted_at IS NULL
ORDER BY p.purchased_at DESC, p.id DESC
LIMIT {limit}
"""
COUNT_SQL = "SELECT count(*) FROM pack WHERE business_id = {b} AND deleted_at IS NULL"
ITEMS_SQL = """
SELECT id, pack_id, allowance, used FROM pack_item WHERE pack_id IN ({ids})
ORDER BY position, id
"""
SERVICES_SQL = """
SELECT l.item_id, s.id, s.name FROM pack_item_service l JOIN service s ON s.id = l.service_id
WHERE l.item_id IN ({ids}) ORDER BY l.id
"""


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.isoformat()


class Rows:
    """The four statements, on asyncpg (PostgreSQL) or aiosqlite (SQLite)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = not url.startswith("sqlite://")
        self.pool: Any = None
        self.sqlite: Any = None

    async def open(self) -> None:
        if self.postgres:
            import asyncpg

            dsn = self.url.split("?", 1)[0].replace("postgres://", "postgresql://", 1)
            self.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        else:
            import aiosqlite

            self.sqlite = await aiosqlite.connect(self.url.removeprefix("sqlite://"))
            self.sqlite.row_factory = aiosqlite.Row
            await self.sqlite.execute("PRAGMA journal_mode=WAL")

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.sqlite is not None:
            await self.sqlite.close()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        if self.postgres:
            async with self.pool.acquire() as connection:
                return await connection.fetch(sql, *args)
        async with self.sqlite.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    def mark(self, position: int) -> str:
        return f"${position}" if self.postgres else "?"

    def marks(self, count: int, start: int = 1) -> str:
        return ", ".join(self.mark(start + index) for index in range(count))

    async def board(self, business_id: int, first: int) -> dict[str, Any]:
        packs = await self.fetch(
            PACKS_SQL.format(b=self.mark(1), limit=self.mark(2)), business_id, first + 1
        )
        total = (await self.fetch(COUNT_SQL.format(b=self.mark(1)), business_id))[0][0]
        page = packs[:first]
        pack_ids = [row["id"] for row in page]
        items_by_pack: dict[int, list[Any]] = {pack_id: [] for pack_id in pack_ids}
        services_by_item: dict[int, list[Any]] = {}
        if pack_ids:
            for item in await self.fetch(
                ITEMS_SQL.format(ids=self.marks(len(pack_ids))), *pack_ids
            ):
                items_by_pack[item["pack_id"]].append(item)
                services_by_item[item["id"]] = []
        if services_by_item:
            item_ids = list(services_by_item)
            for link in await self.fetch(
                SERVICES_SQL.format(ids=self.marks(len(item_ids))), *item_ids
            ):
                services_by_item[link["item_id"]].append(
                    {"id": global_id("Service", link["id"]), "name": link["name"]}
                )
        edges = []
        for row in page:
            cursor = base64.b64encode(
                json.dumps(["p-", iso(row["purchased_at"]), row["id"]]).encode()
            ).decode()
            balance = (
                0
                if row["status"] == "CANCELLED"
                else max(row["final_price"] - row["amount_paid"], 0)
            )
            node = {
                "id": global_id("Pack", row["id"]),
                "version": row["version"],
                "name": row["name"],
                "metric": row["metric"],
                "status": row["status"],
                "paymentStatus": row["payment_status"],
                "price": row["price"],
                "discount": row["discount"],
                "finalPrice": row["final_price"],
                "amountPaid": row["amount_paid"],
                "balanceDue": balance,
                "purchasedAt": iso(row["purchased_at"]),
                "expiresAt": iso(row["expires_at"]),
                "cancelledAt": iso(row["cancelled_at"]),
                "cancelReason": row["cancel_reason"],
                "client": {"id": global_id("Client", row["client_id"]), "name": row["client_name"]},
                "items": [
                    {
                        "id": global_id("PackItem", item["id"]),
                        "allowance": item["allowance"],
                        "used": item["used"],
                        "remaining": item["allowance"] - item["used"],
                        "services": services_by_item[item["id"]],
                    }
                    for item in items_by_pack[row["id"]]
                ],
            }
            edges.append({"cursor": cursor, "node": node})
        return {
            "data": {
                "packs": {
                    "totalCount": total,
                    "pageInfo": {
                        "hasNextPage": len(packs) > first,
                        "endCursor": edges[-1]["cursor"] if edges else None,
                    },
                    "edges": edges,
                }
            }
        }


class FanOut:
    """Connected WebSocket clients, each with its own queue and connection task."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[str | None]] = set()

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.queues.add(queue)
        receiving = asyncio.create_task(self._drain(websocket, queue))
        try:
            while (text := await queue.get()) is not None:
                await websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self.queues.discard(queue)
            receiving.cancel()

    @staticmethod
    async def _drain(websocket: WebSocket, queue: asyncio.Queue[str | None]) -> None:
        """Read (and ignore) what the client sends; on disconnect, end the sending loop."""
        with contextlib.suppress(Exception):
            while True:
                await websocket.receive_text()
        queue.put_nowait(None)

    def publish(self, text: str) -> int:
        for queue in self.queues:
            queue.put_nowait(text)
        return len(self.queues)


def create_app() -> Starlette:
    rows = Rows(os.environ["PACKGRAPH_DATABASE_URL"])
    fan_out = FanOut()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await rows.open()
        try:
            yield
        finally:
            await rows.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def board(request: Request) -> Response:
        body = json.loads(await request.body())
        return JSONResponse(await rows.board(int(body["business"]), int(body.get("first", 50))))

    async def publish(request: Request) -> Response:
        text = (await request.body()).decode()
        sent_at = time.time()
        count = fan_out.publish(text)
        return JSONResponse({"sentAt": sent_at, "clients": count})

    async def clients(request: Request) -> Response:
        return JSONResponse({"clients": len(fan_out.queues)})

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/board", board, methods=["POST"]),
            Route("/publish", publish, methods=["POST"]),
            Route("/clients", clients),
            WebSocketRoute("/ws", fan_out.serve),
        ],
        lifespan=lifespan,
    )
