"""The packgraph command line on a real SQLite file: every command, and clear errors (exit 2)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise

from packgraph.cli import main
from packgraph.migrate import apply_migrations_locked
from packgraph.settings import Settings
from tests.databases import forget_compiled_queries


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """Run ``packgraph ARGS`` in-process on a fresh SQLite file: (exit code, stdout, stderr)."""
    url = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PACKGRAPH_DATABASE_URL", url)
    monkeypatch.delenv("PACKGRAPH_STAFF_PASSWORD", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    run.url = url  # type: ignore[attr-defined]
    return run


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per module, copied for each test (migrating takes seconds)."""
    path = tmp_path_factory.mktemp("cli") / "template.sqlite3"

    async def migrate() -> None:
        forget_compiled_queries()
        await apply_migrations_locked(f"sqlite://{path}")
        await Tortoise.close_connections()

    asyncio.run(migrate())
    return path


@pytest.fixture
def migrated(cli, migrated_template):
    shutil.copyfile(migrated_template, cli.url.removeprefix("sqlite://"))
    return cli


def test_help_lists_every_setting_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "migrate", "seed-demo", "create-business", "create-staff"):
        assert command in out
    for name, default, _ in Settings.documented():
        assert name in out and f"[default: {default or '(empty)'}]" in out


def test_migrate_applies_once_then_is_a_no_op(cli):
    code, out, _ = cli("migrate")
    assert code == 0 and "applied models.0001_initial" in out
    code, out, _ = cli("migrate")
    assert (code, out.strip()) == (0, "database is up to date: no migrations to apply")


def test_database_url_option_overrides_the_environment(cli, tmp_path):
    other = tmp_path / "other.sqlite3"
    code, out, _ = cli("--database-url", f"sqlite://{other}", "migrate")
    assert code == 0 and "applied" in out and other.exists()


def test_create_business_staff_and_api_key(migrated, monkeypatch):
    code, out, _ = migrated(
        "create-business", "--name", "Bay Clinic", "--timezone", "Europe/Paris", "--currency", "EUR"
    )
    assert (code, out.strip()) == (0, "created business 1: Bay Clinic")
    code, out, _ = migrated(
        "create-staff", "--business", "1", "--name", "Ann", "--email", "Ann@Bay.test",
        "--role", "manager", "--password", "pw",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "created staff 1: Ann <ann@bay.test> (MANAGER)")
    monkeypatch.setenv("PACKGRAPH_STAFF_PASSWORD", "from-env")
    code, out, _ = migrated(
        "create-staff", "--business", "1", "--name", "Bo", "--email", "bo@bay.test"
    )
    assert code == 0 and "(STAFF)" in out

    code, out, err = migrated("create-api-key", "--business", "1", "--name", "Xero sync")
    token = out.strip()
    assert code == 0 and token.startswith("pgk_") and "shown only once" in err
    import sqlite3

    from packgraph.domain.auth import hash_token

    path = migrated.url.removeprefix("sqlite://")
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT token_hash, name FROM api_key").fetchall()
        hashes = connection.execute("SELECT password_hash FROM staff ORDER BY id").fetchall()
    assert stored == [(hash_token(token), "Xero sync")]
    assert all(row[0].startswith("$argon2") for row in hashes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create-business", "--name", "X", "--timezone", "Nowhere/City"), "unknown timezone"),
        (("create-business", "--name", "X", "--currency", "euro"), "currency"),
        (("create-business", "--name", "  "), "name is required"),
        (("create-staff", "--business", "9", "--name", "A", "--email", "a@b.c", "--password", "p"),
         "business not found"),
        (("create-staff", "--business", "1", "--name", "A", "--email", "nope", "--password", "p"),
         "email is not a valid address"),
        (("create-staff", "--business", "1", "--name", "A", "--email", "a@b.c"), "no password"),
        (("create-api-key", "--business", "9", "--name", "K"), "business not found"),
        (("seed-demo", "--clients", "0"), "--clients must be at least 1"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_message(migrated, args, message):
    assert migrated("create-business", "--name", "Bay")[0] == 0
    code, out, err = migrated(*args)
    assert code == 2, (out, err)
    assert message in err and err.startswith(f"packgraph {args[0]}: error:")


def test_a_duplicate_email_is_refused(migrated):
    migrated("create-business", "--name", "Bay")
    args = (
        "create-staff",
        "--business",
        "1",
        "--name",
        "A",
        "--email",
        "a@b.test",
        "--password",
        "p",
    )
    assert migrated(*args)[0] == 0
    code, _, err = migrated(*args)
    assert code == 2 and "email already in use" in err


def test_argparse_errors_exit_2(cli):
    with pytest.raises(SystemExit) as exit_:
        main(
            ["create-staff", "--business", "1", "--name", "A", "--email", "a@b.c", "--role", "BOSS"]
        )
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(["no-such-command"])
    assert exit_.value.code == 2


def test_a_malformed_setting_exits_2(cli, monkeypatch):
    monkeypatch.setenv("PACKGRAPH_PORT", "eighty")
    code, _, err = cli("migrate")
    assert code == 2 and "PACKGRAPH_PORT" in err


def test_commands_on_an_unmigrated_database_say_so(cli):
    code, _, err = cli("create-business", "--name", "Bay")
    assert code == 2 and "run `packgraph migrate` first" in err


def test_seed_demo_is_safe_to_run_twice(migrated):
    code, out, _ = migrated("seed-demo")
    assert code == 0 and "seeded 'Harbour Physio': 12 clients" in out
    assert "owner@demo.test / demo" in out
    code, out, _ = migrated("seed-demo")
    assert (code, out.strip()) == (
        0,
        "demo business 'Harbour Physio' already exists: nothing to do",
    )
    code, out, _ = migrated("seed-demo", "--if-empty")
    assert (code, out.strip()) == (0, "database already has data: demo not seeded")


def test_seed_demo_if_empty_skips_a_database_with_another_business(migrated):
    migrated("create-business", "--name", "Bay")
    code, out, _ = migrated("seed-demo", "--if-empty")
    assert (code, out.strip()) == (0, "database already has data: demo not seeded")


def test_large_seeds_show_a_progress_bar(migrated):
    code, out, err = migrated("seed-demo", "--clients", "60")
    assert code == 0 and "60 clients" in out
    assert "seeding clients: 60/60 (100%" in err


def test_expire_packs_prints_a_summary(migrated):
    code, out, _ = migrated("expire-packs")
    assert code == 0
    assert "expired: 0" in out


def test_export_schema_writes_the_sdl(cli, tmp_path):
    target = tmp_path / "schema.graphql"
    code, _, err = cli("export-schema", "--output", str(target))
    assert code == 0, err
    assert "type Query" in target.read_text()
    code, out, _ = cli("export-schema", "-o", "-")
    assert code == 0 and out == target.read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_several_workers_from_the_factory(migrated, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PACKGRAPH_DATABASE_URL": migrated.url,
        "PACKGRAPH_EXPIRY_INTERVAL_SECONDS": "0",
        "PACKGRAPH_LOG_LEVEL": "warning",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "packgraph.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        answers = set()
        while time.monotonic() < deadline and len(answers) < 1:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                answers.add(response.status_code)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answers == {200}, Path(log).read_text()
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=20)
