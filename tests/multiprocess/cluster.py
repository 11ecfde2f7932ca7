"""Real processes for the multi-process tests: ``packgraph migrate`` and ``packgraph serve`` as an
operator runs them, which worker of ``serve --workers N`` holds a connection, and clients.

    database = MigratedDatabase.create()            # an empty database, then `packgraph migrate`
    server = PackgraphServer("a", database.url, broadcast_url=redis.url, workdir=tmp_path)
    server.start(); ...; server.kill()              # SIGKILL: no shutdown, no goodbye
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import require_service
from tests.databases import ServiceUnavailable, pg_admin, pg_url
from tests.live.services import free_port

REPO = Path(__file__).resolve().parents[2]
PACKGRAPH = [sys.executable, "-m", "packgraph.cli"]


def packgraph(*args: str, database_url: str, timeout: float = 120) -> str:
    """Run a ``packgraph`` command to completion; its standard output."""
    done = subprocess.run(
        [*PACKGRAPH, *args],
        env={
            **os.environ,
            "PACKGRAPH_DATABASE_URL": database_url,
            "PACKGRAPH_LOG_LEVEL": "warning",
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"packgraph {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


@dataclass
class MigratedDatabase:
    """A new, empty PostgreSQL database brought up to date by one ``packgraph migrate``."""

    name: str
    migrate_output: str

    @property
    def url(self) -> str:
        return pg_url(self.name)

    @classmethod
    def create(cls) -> MigratedDatabase:
        name = f"packgraph_mp_{uuid.uuid4().hex[:10]}"
        try:
            asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
        except ServiceUnavailable as error:
            require_service(error)
            raise
        return cls(name=name, migrate_output=packgraph("migrate", database_url=pg_url(name)))

    def drop(self) -> None:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


class PackgraphServer:
    """``packgraph serve`` in its own process group, on the port given by ``PACKGRAPH_PORT``."""

    def __init__(
        self,
        name: str,
        database_url: str,
        *,
        broadcast_url: str,
        workdir: Path,
        workers: int = 1,
        **settings: Any,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.workers = workers
        self.log_path = workdir / f"server-{name}.log"
        self.env = {
            **os.environ,
            "PACKGRAPH_DATABASE_URL": database_url,
            "PACKGRAPH_BROADCAST_URL": broadcast_url,
            "PACKGRAPH_PORT": str(self.port),
            "PACKGRAPH_EXPIRY_INTERVAL_SECONDS": "0",
            "PACKGRAPH_LOG_LEVEL": "warning",
            # Two to four servers share the test PostgreSQL (max_connections 100) with others.
            "PACKGRAPH_DB_POOL_MAX": "8",
            **{f"PACKGRAPH_{key.upper()}": str(value) for key, value in settings.items()},
        }
        self.process: subprocess.Popen | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def launch(self) -> None:
        command = [*PACKGRAPH, "serve"]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches every worker
            )

    def wait_ready(self, timeout: float = 60) -> None:
        """Until ``/readyz`` says the database and the broker are both reachable."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited: {self.log()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server {self.name} not ready: {self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole server: no lifespan shutdown, open sockets just drop."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    # -- which worker holds a connection (``--workers N``) ------------------------------------

    def worker_pids(self) -> set[int]:
        """The processes of this server that may hold connections: itself and its children."""
        assert self.process is not None
        pids = {self.process.pid}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.add(int(entry.name))
        return pids

    def owner_of(self, client_port: int) -> int | None:
        """The pid of the process holding the server end of the connection from
        ``client_port`` (Linux: /proc/net/tcp gives the socket inode, /proc/<pid>/fd its owner)."""
        inode = _server_socket_inode(self.port, client_port)
        if inode is None:
            return None
        target = f"socket:[{inode}]"
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) == target:
                            return pid
        return None


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if local_port == server_port and remote_port == client_port:
                    return fields[9]
    return None


def start_all(*servers: PackgraphServer) -> None:
    """Start several servers at once: their start-ups overlap."""
    for server in servers:
        server.launch()
    for server in servers:
        server.wait_ready()
