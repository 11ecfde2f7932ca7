"""The examples of docs/integrations.md run as written, against a real server."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.api.support import gid, given_catalog, given_pack, make_tenant
from tests.conftest import require_service
from tests.live.client import Http
from tests.live.services import REPO, Server

DOC = REPO / "docs" / "integrations.md"
NODE_MODULES = REPO / "frontend" / "node_modules"
EVENTS = "query($after: String) { events(after: $after, first: 100) { edges { cursor } } }"


def _example(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)
    assert blocks, f"no {language} example in {DOC}"
    return blocks[-1]


@pytest.fixture(scope="module")
def server(module_sqlite_url, tmp_path_factory):
    server = Server(
        database_url=module_sqlite_url,
        broadcast_url="memory://",
        log_path=tmp_path_factory.mktemp("logs") / "server.log",
    )
    server.start()
    yield server
    server.stop()


async def _notes_and_cursors(http: Http, tenant, pack_id: str, texts: list[str]) -> list[str]:
    for text in texts:
        await http.add_note(pack_id, text, token=tenant.staff_token)
    edges = (await http.ok(EVENTS, token=tenant.integration_token))["events"]["edges"]
    return [edge["cursor"] for edge in edges]


async def _run_until(command: list[str], env: dict, done, cwd: Path, within: float = 20) -> str:
    """Run ``command`` until ``done()`` holds, then stop it; returns what it printed."""
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + within
        while not done():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"the example did not get there: {process.stdout.read()}")
            await asyncio.sleep(0.1)
    finally:
        if process.poll() is None:
            process.terminate()
        output, _ = process.communicate(timeout=10)
    return output


async def test_the_python_example_follows_and_resumes_from_its_cursor(orm_sqlite, server, tmp_path):
    tenant = await make_tenant("Docs")
    catalog = await given_catalog(tenant)
    pack_id = gid("Pack", (await given_pack(tenant, catalog)).pack.id)
    http = Http(server.http)
    cursors = await _notes_and_cursors(http, tenant, pack_id, ["one", "two"])
    script = tmp_path / "follow.py"
    script.write_text(_example("python"))
    cursor_file = tmp_path / "packgraph.cursor"
    cursor_file.write_text(cursors[0])  # processed up to the sale
    env = {
        **os.environ,
        "PACKGRAPH_WS_URL": server.ws,
        "PACKGRAPH_TOKEN": tenant.integration_token,
        "PACKGRAPH_CURSOR_FILE": str(cursor_file),
    }
    command = [sys.executable, str(script)]

    def reached(cursor: str):
        return lambda: cursor_file.read_text() == cursor

    first = await _run_until(command, env, reached(cursors[2]), tmp_path)
    cursors = await _notes_and_cursors(http, tenant, pack_id, ["three", "four"])
    second = await _run_until(command, env, reached(cursors[4]), tmp_path)
    await http.close()
    assert first.count("NOTE_ADDED") == 2
    assert second.count("NOTE_ADDED") == 2
    assert "10 massages Ana Lima" in first


async def test_the_javascript_example_follows_from_its_cursor(orm_sqlite, server, tmp_path):
    node = shutil.which("node")
    if (
        node is None
        or not (NODE_MODULES / "graphql-ws").is_dir()
        or not (NODE_MODULES / "ws").is_dir()
    ):
        # make test installs frontend/node_modules before the Python tests: in CI this must run.
        require_service(
            RuntimeError("node with graphql-ws and ws (frontend/node_modules) is missing")
        )
    tenant = await make_tenant("Docs JS")
    catalog = await given_catalog(tenant)
    pack_id = gid("Pack", (await given_pack(tenant, catalog)).pack.id)
    http = Http(server.http)
    cursors = await _notes_and_cursors(http, tenant, pack_id, ["one", "two"])
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    script = tmp_path / "follow.mjs"
    script.write_text(_example("js"))
    output_file = tmp_path / "out.txt"
    env = {
        **os.environ,
        "PACKGRAPH_WS_URL": server.ws,
        "PACKGRAPH_TOKEN": tenant.integration_token,
        "PACKGRAPH_CURSOR": cursors[0],
    }
    with output_file.open("w") as output:
        process = subprocess.Popen([node, str(script)], env=env, cwd=tmp_path, stdout=output)
        try:
            deadline = time.monotonic() + 20
            while output_file.read_text().count("NOTE_ADDED") < 2:
                assert process.poll() is None and time.monotonic() < deadline, (
                    output_file.read_text()
                )
                await asyncio.sleep(0.1)
            await http.add_note(pack_id, "three", token=tenant.staff_token)
            while output_file.read_text().count("NOTE_ADDED") < 3:
                assert process.poll() is None and time.monotonic() < deadline
                await asyncio.sleep(0.1)
        finally:
            process.terminate()
            process.wait(10)
    await http.close()
    assert output_file.read_text().count("NOTE_ADDED") == 3
