"""Shared tools of the hardening tests: what a safe answer looks like, the ledger invariants, a
packgraph server in its own process (to SIGKILL), and a TCP proxy in front of PostgreSQL (to cut).

    body = clean_json(response)            # no 5xx, JSON, no internals, nothing masked
    assert await broken_invariants() == []  # used == Σ ledger, 0 <= used <= allowance, seq gapless
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise

from packgraph.models import Business, Event, LedgerEntry, PackItem
from tests.api.support import free_port

REPO = Path(__file__).resolve().parents[2]

# Internals that must never reach a client: tracebacks, source paths, driver and ORM names, and
# SQL (case-sensitive, as drivers print it).
INTERNALS = re.compile(
    r"Traceback \(most recent|File \"|\.py\b|/work/|site-packages|asyncpg|aiosqlite|sqlite3|"
    r"tortoise|psycopg|IntegrityError|OperationalError|ProgrammingError|DataError|"
    r"duplicate key|violates .{0,80} constraint|syntax error at|out of range for type|"
    r"invalid byte sequence|UnicodeEncodeError|OverflowError|KeyError|AttributeError|"
    r"TypeError:|NoneType",
    re.IGNORECASE,
)
SQL = re.compile(r"\bSELECT\b[^\n]{0,300}\bFROM\b|\bINSERT INTO\b|\bUPDATE\b[^\n]{0,200}\bSET\b")
MASKED = "Unexpected error."


class UnsafeAnswer(AssertionError):
    pass


def internals_in(text: str, echo: str = "") -> list[str]:
    """Internals found in ``text``, except what the client sent itself (``echo``)."""
    found = [match.group(0) for match in INTERNALS.finditer(text)]
    found += [match.group(0) for match in SQL.finditer(text)]
    return [value for value in found if value not in echo]


def clean_json(
    response: httpx.Response,
    *,
    echo: str = "",
    allow_masked: bool = False,
    allow_unavailable: bool = False,
) -> Any:
    """The JSON body of a response that is safe to show a client.

    Refused: any 5xx (but a 503 with ``allow_unavailable``), a body that is not JSON, internals
    in the text (other than ones the request itself carried, ``echo``), and (unless
    ``allow_masked``) a masked error, which means a bug was hit.
    """
    if response.status_code >= 500 and not (allow_unavailable and response.status_code == 503):
        raise UnsafeAnswer(f"HTTP {response.status_code}: {response.text[:2000]}")
    leaked = internals_in(response.text, echo)
    if leaked:
        raise UnsafeAnswer(f"internals {leaked[:5]} in: {response.text[:2000]}")
    try:
        body = response.json()
    except ValueError:
        raise UnsafeAnswer(f"not JSON: {response.text[:500]!r}") from None
    if not allow_masked and MASKED in response.text:
        raise UnsafeAnswer(f"a bug was hit (masked error): {response.text[:2000]}")
    return body


# --- the invariants of SPEC §1.1 and the outbox -------------------------------------------------


async def broken_invariants() -> list[str]:
    """Every broken invariant of the whole database (empty when all hold):

    - for every pack item: ``used`` == Σ ledger quantities and ``0 <= used <= allowance``;
    - for every business: event ``seq`` is 1..n without gap or duplicate, n == ``event_seq``.
    """
    problems: list[str] = []
    sums: dict[int, int] = defaultdict(int)
    for item_id, quantity in await LedgerEntry.all().values_list("item_id", "quantity"):
        sums[item_id] += quantity
    for item_id, used, allowance in await PackItem.all().values_list("id", "used", "allowance"):
        if used != sums.get(item_id, 0):
            problems.append(f"item {item_id}: used {used} != ledger {sums.get(item_id, 0)}")
        if not 0 <= used <= allowance:
            problems.append(f"item {item_id}: used {used} outside 0..{allowance}")
    seqs: dict[int, list[int]] = defaultdict(list)
    for business_id, seq in await Event.all().order_by("seq").values_list("business_id", "seq"):
        seqs[business_id].append(seq)
    for business_id, counter in await Business.all().values_list("id", "event_seq"):
        found = seqs.get(business_id, [])
        if found != list(range(1, len(found) + 1)) or len(found) != counter:
            problems.append(f"business {business_id}: seqs {found[:20]}... counter {counter}")
    return problems


# --- a packgraph server in its own process ------------------------------------------------------


class ServerProcess:
    """``uvicorn packgraph.app:create_app --factory`` (or ``packgraph serve`` with ``cli``, which
    adds packgraph's logging setup) on a fixed free port, which a test can SIGKILL and start
    again on the same port (clients keep their address)."""

    def __init__(self, log_path: Path, *, cli: bool = False, **settings: Any) -> None:
        self.port = free_port()
        self.cli = cli
        self.log_path = log_path
        self.env = {
            **os.environ,
            "PACKGRAPH_EXPIRY_INTERVAL_SECONDS": "0",
            "PACKGRAPH_LOG_LEVEL": "warning",
            **{f"PACKGRAPH_{name.upper()}": str(value) for name, value in settings.items()},
        }
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self) -> None:
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.cli:
            command = [sys.executable, "-m", "packgraph.cli", "serve", *address]
        else:
            command = [
                *(sys.executable, "-m", "uvicorn", "packgraph.app:create_app", "--factory"),
                *(*address, "--log-level", "warning"),
            ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=1) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.http}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no lifespan shutdown, no flush, transactions in flight die with it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


# --- a TCP proxy we can cut ---------------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``. ``cut()`` drops every open connection and
    refuses new ones (the database "goes away" without touching the shared server);
    ``restore()`` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, upstream_writer}
        pipes = [
            asyncio.create_task(self._pipe(reader, upstream_writer)),
            asyncio.create_task(self._pipe(upstream_reader, writer)),
        ]
        self._tasks.update(pipes)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for task in pipes:
            task.cancel()
        for end in (writer, upstream_writer):
            self._writers.discard(end)
            end.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            transport = writer.transport
            if transport is not None:
                transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()


async def close_orm() -> None:
    with contextlib.suppress(Exception):
        await Tortoise.close_connections()


# --- a real server in this event loop, for WebSocket tests --------------------------------------


def graphql_view(app: Any) -> Any:
    """The GraphQL view ``create_app`` mounted at /graphql (to adjust its protocol timeouts)."""
    from starlette.routing import WebSocketRoute

    for route in app.routes:
        if isinstance(route, WebSocketRoute) and route.path == "/graphql":
            return route.endpoint
    raise LookupError("no WebSocket route at /graphql")


@contextlib.asynccontextmanager
async def serving_app(app: Any):
    """uvicorn serving ``app`` on a free port in this event loop; yields ``host:port``."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
