"""Fresh databases and real server processes for the benchmarks.

A benchmark gets its own migrated database (a new SQLite file, or a new PostgreSQL database that is
dropped afterwards) and starts ``packgraph serve`` on it as a child process, exactly as an operator
would; the baselines run as separate uvicorn processes of :mod:`bench.baseline_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = os.environ.get(
    "PACKGRAPH_BENCH_PG_DSN", "postgres://postgres@127.0.0.1:5432/postgres"
)


def raise_open_files_limit() -> int:
    """Raise this process's (and so its children's) open-files limit to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def packgraph_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("packgraph")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from packgraph.cli import main; sys.exit(main())"]


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def child_env(**variables: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(variables)
    return env


# --------------------------------------------------------------------------------- databases


@dataclass(frozen=True)
class Database:
    backend: str  # "sqlite" or "postgres"
    url: str

    @property
    def env(self) -> dict[str, str]:
        return {"PACKGRAPH_DATABASE_URL": self.url}


def postgres_reachable() -> bool:
    async def check() -> bool:
        try:
            connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await connection.close()
        return True

    return asyncio.run(check())


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def run_cli(args: Sequence[str], env: dict[str, str], *, timeout: float = 1800) -> str:
    """Run the ``packgraph`` command; its output, or an error with the output."""
    result = subprocess.run(
        packgraph_command(*args),
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"packgraph {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextlib.asynccontextmanager
async def fresh_database(backend: str, workdir: Path) -> AsyncIterator[Database]:
    """A new database migrated by ``packgraph migrate``; removed afterwards."""
    name = f"packgraph_bench_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        path = workdir / f"{name}.sqlite3"
        database = Database("sqlite", f"sqlite://{path}")
    else:
        await _pg_admin(f'CREATE DATABASE "{name}"')
        database = Database("postgres", f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}")
    try:
        await asyncio.to_thread(run_cli, ["migrate"], database.env)
        yield database
    finally:
        if backend == "sqlite":
            remove_sqlite_files(path)
        else:
            with contextlib.suppress(Exception):
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def analyze(database: Database) -> None:
    """Fresh statistics after a bulk load, as autovacuum would eventually give them."""
    if database.backend == "postgres":
        connection = await asyncpg.connect(postgres_dsn(database.url))
        try:
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()


def postgres_dsn(url: str) -> str:
    return url.split("?", 1)[0].replace("postgres://", "postgresql://", 1)


def sqlite_file(url: str) -> str:
    return url.removeprefix("sqlite://")


# --------------------------------------------------------------------------------- processes


class ServerProcess:
    """A server child process on 127.0.0.1:``port``, ready once ``ready_path`` answers 200."""

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        port: int,
        env: dict[str, str],
        workdir: Path,
        ready_path: str = "/healthz",
    ) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.env = env
        self.ready_path = ready_path
        self.log_path = workdir / f"{name}-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, within: float = 60) -> None:
        log = self.log_path.open("wb")  # noqa: ASYNC230 - a local file, opened once
        # Popen returns as soon as the child is forked; waiting for it is the loop below.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            self.command,
            env=child_env(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.ready_path)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def rss_kib(self) -> int:
        """Resident memory of the server process (KiB), from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    async def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        for _ in range(100):
            if process.poll() is not None:
                return
            await asyncio.sleep(0.1)
        process.kill()
        process.wait()


@contextlib.asynccontextmanager
async def running(*servers: ServerProcess) -> AsyncIterator[None]:
    """The servers started side by side (startup is mostly imports), stopped at the end."""
    try:
        await asyncio.gather(*(server.start() for server in servers))
        yield
    finally:
        await asyncio.gather(*(server.stop() for server in servers))


def packgraph_server(database: Database, workdir: Path, **settings: str) -> ServerProcess:
    """``packgraph serve`` with its defaults (request log included), the expiry job off."""
    port = free_port()
    env = {
        **database.env,
        "PACKGRAPH_EXPIRY_INTERVAL_SECONDS": "0",
        **{f"PACKGRAPH_{key.upper()}": value for key, value in settings.items()},
    }
    return ServerProcess(
        "packgraph",
        packgraph_command("serve", "--host", "127.0.0.1", "--port", str(port)),
        port=port,
        env=env,
        workdir=workdir,
    )


def uvicorn_server(
    name: str,
    factory: str,
    database: Database,
    workdir: Path,
    *,
    extra_args: Sequence[str] = (),
    **env: str,
) -> ServerProcess:
    """A bench-owned ASGI app (a baseline, or the instrumented packgraph) under uvicorn."""
    port = free_port()
    command = python_module(
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        # The transport settings of `packgraph serve` (src/packgraph/cli.py), so a baseline
        # differs from packgraph only by what the app does.
        "--ws",
        "websockets-sansio",
        "--ws-per-message-deflate",
        "false",
        *extra_args,
    )
    return ServerProcess(
        name,
        command,
        port=port,
        env={**database.env, "PACKGRAPH_EXPIRY_INTERVAL_SECONDS": "0", **env},
        workdir=workdir,
    )
