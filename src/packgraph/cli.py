"""The ``packgraph`` command: serve, migrate, seed demo data, create tenants, staff and keys."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from packgraph.settings import Settings, SettingsError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
PASSWORD_VARIABLE = "PACKGRAPH_STAFF_PASSWORD"


class CommandError(Exception):
    """Bad input or an unusable environment: the message is printed and the exit code is 2."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ProgressBar:
    """A dependency-free progress bar on stderr: redrawn in place on a terminal, a line per 10%
    otherwise (CI logs)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = -1

    def update(self, done: int) -> None:
        fraction = min(done / self.total, 1.0)
        elapsed = time.monotonic() - self.started
        if self.interactive:
            now = time.monotonic()
            if done < self.total and now - self._last_draw < 0.1:
                return
            self._last_draw = now
            filled = int(fraction * 30)
            bar = "#" * filled + "." * (30 - filled)
            self.stream.write(
                f"\r{self.label} [{bar}] {done}/{self.total} {fraction:4.0%} {elapsed:5.1f}s"
            )
            if done >= self.total:
                self.stream.write("\n")
        else:
            decile = int(fraction * 10)
            if decile == self._last_decile:
                return
            self._last_decile = decile
            self.stream.write(
                f"{self.label}: {done}/{self.total} ({fraction:.0%}, {elapsed:.1f}s)\n"
            )
        self.stream.flush()


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise CommandError(str(error)) from None


def _configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Tortoise announces every connection shutdown at INFO: noise for a command line.
    logging.getLogger("tortoise").setLevel(max(level, logging.WARNING))


def _run_with_orm(settings: Settings, body: Callable[[], Awaitable[int]]) -> int:
    """Run ``body`` with the ORM initialised on the configured database, closed afterwards."""
    from tortoise import Tortoise
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from packgraph.db import config_from_settings

    async def wrapper() -> int:
        EXECUTOR_CACHE.clear()  # compiled SQL is cached per connection name, not per backend
        try:
            await Tortoise.init(config=config_from_settings(settings), _enable_global_fallback=True)
        except Exception as error:
            raise CommandError(f"cannot open {settings.database_url}: {error}") from None
        try:
            return await body()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(wrapper())


async def _require_schema() -> None:
    from tortoise.exceptions import OperationalError

    from packgraph.models import Business

    try:
        await Business.all().limit(1).exists()
    except OperationalError:
        raise CommandError(
            "the database has no schema yet: run `packgraph migrate` first"
        ) from None
    except Exception as error:  # asyncpg raises its own UndefinedTableError
        if "does not exist" in str(error) or "no such table" in str(error):
            raise CommandError(
                "the database has no schema yet: run `packgraph migrate` first"
            ) from None
        raise


def _summary(report: Any) -> dict[str, Any]:
    """A dataclass report as counts: id lists become their length."""
    values = dataclasses.asdict(report) if dataclasses.is_dataclass(report) else dict(report)
    return {
        key: len(value) if isinstance(value, list | tuple | set) else value
        for key, value in values.items()
    }


# ---------------------------------------------------------------------------------- commands


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    if args.migrate:
        _migrate(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    if args.workers > 1 and args.reload:
        raise CommandError("--reload and --workers cannot be combined")
    level = settings.log_level.lower()
    log_config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            # At DEBUG uvicorn.error dumps WebSocket frames, tokens in connection_init included.
            "uvicorn.error": {"level": "INFO" if level == "debug" else level.upper()},
            "packgraph": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }
    # Factory mode: every worker process builds its own app from the environment, which is how
    # the settings (and --database-url) reach the workers.
    uvicorn.run(
        "packgraph.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=args.reload,
        workers=args.workers if args.workers > 1 else None,
        log_config=log_config,  # no log_level=: it would reset uvicorn.error to DEBUG
        access_log=False,  # packgraph logs requests itself, without query strings
        proxy_headers=args.proxy_headers,
        ws="websockets-sansio",
        # permessage-deflate keeps a compressor per socket (~40 KiB each, measured by bench/ row
        # 4) and compresses every event once per subscriber; pack events are small JSON.
        ws_per_message_deflate=False,
    )
    return EXIT_OK


def _migrate(settings: Settings) -> list[str]:
    from tortoise import Tortoise

    from packgraph.migrate import apply_migrations_locked

    async def run() -> list[str]:
        try:
            return await apply_migrations_locked(settings.database_url)
        finally:
            await Tortoise.close_connections()

    try:
        return asyncio.run(run())
    except (OSError, ConnectionError) as error:
        raise CommandError(f"cannot reach {settings.database_url}: {error}", EXIT_FAILURE) from None


def cmd_migrate(args: argparse.Namespace) -> int:
    applied = _migrate(_settings())
    if applied:
        for name in applied:
            print(f"applied {name}")
    else:
        print("database is up to date: no migrations to apply")
    return EXIT_OK


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from packgraph import demo

    settings = _settings()
    if args.clients < 1:
        raise CommandError("--clients must be at least 1")

    async def run() -> int:
        await _require_schema()
        if args.if_empty and await demo.database_has_data():
            print("database already has data: demo not seeded")
            return EXIT_OK
        if await demo.demo_exists():
            print(f"demo business {demo.DEMO_BUSINESS!r} already exists: nothing to do")
            return EXIT_OK
        bar = ProgressBar("seeding clients", args.clients) if args.clients > 50 else None
        report = await demo.seed_demo(clients=args.clients, progress=bar.update if bar else None)
        print(
            f"seeded {demo.DEMO_BUSINESS!r}: {report.clients} clients, {report.packs} packs "
            f"in {report.seconds:.1f}s"
        )
        for email, role in demo.DEMO_LOGINS:
            print(f"  login {email} / {demo.DEMO_PASSWORD} ({role.value.lower()})")
        return EXIT_OK

    return _run_with_orm(settings, run)


def cmd_create_business(args: argparse.Namespace) -> int:
    from packgraph.domain.auth import create_business

    async def run() -> int:
        await _require_schema()
        business = await create_business(
            name=args.name, timezone=args.timezone, currency=args.currency
        )
        print(f"created business {business.id}: {business.name}")
        return EXIT_OK

    return _run_with_orm(_settings(), run)


def _password(args: argparse.Namespace) -> str:
    if args.password:
        return args.password
    if os.environ.get(PASSWORD_VARIABLE):
        return os.environ[PASSWORD_VARIABLE]
    if not sys.stdin.isatty():
        raise CommandError(f"no password: pass --password, set {PASSWORD_VARIABLE}, or use a tty")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise CommandError("the passwords do not match")
    return first


def cmd_create_staff(args: argparse.Namespace) -> int:
    from packgraph.domain.auth import create_staff

    password = _password(args)

    async def run() -> int:
        await _require_schema()
        staff = await create_staff(
            business_id=args.business,
            name=args.name,
            email=args.email,
            role=args.role.upper(),
            password=password,
        )
        print(f"created staff {staff.id}: {staff.name} <{staff.email}> ({staff.role.value})")
        return EXIT_OK

    return _run_with_orm(_settings(), run)


def cmd_create_api_key(args: argparse.Namespace) -> int:
    from packgraph.domain.actor import Actor
    from packgraph.domain.auth import create_api_key
    from packgraph.domain.errors import not_found
    from packgraph.models import Business

    async def run() -> int:
        await _require_schema()
        if not await Business.exists(id=args.business):
            raise not_found("business", "business")
        key, token = await create_api_key(actor=Actor.system(args.business), name=args.name)
        print(
            f"created API key {key.id} ({key.name}); the token is shown only once:", file=sys.stderr
        )
        print(token)
        return EXIT_OK

    return _run_with_orm(_settings(), run)


def cmd_export_schema(args: argparse.Namespace) -> int:
    try:
        from packgraph.server.schema import export_sdl

        sdl = export_sdl()
    except ImportError as error:
        raise CommandError(
            f"the GraphQL schema is not available yet ({error})", EXIT_FAILURE
        ) from None
    if not sdl.endswith("\n"):
        sdl += "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        path = Path(args.output)
        path.write_text(sdl)
        print(f"wrote {path} ({len(sdl.splitlines())} lines)", file=sys.stderr)
    return EXIT_OK


def cmd_expire_packs(args: argparse.Namespace) -> int:
    from packgraph.domain.expiry import process_expiries

    async def run() -> int:
        await _require_schema()
        report = await process_expiries()
        summary = _summary(report)
        print(", ".join(f"{key}: {value}" for key, value in summary.items()) or "done")
        return EXIT_OK

    return _run_with_orm(_settings(), run)


# ---------------------------------------------------------------------------------- parser


def settings_help() -> str:
    rows = Settings.documented()
    width = max(len(name) for name, _, _ in rows)
    lines = ["settings (environment variables, with their defaults):"]
    for name, default, doc in rows:
        lines.append(f"  {name.ljust(width)}  {doc} [default: {default or '(empty)'}]")
    return "\n".join(lines)


README_START = "<!-- settings-table:start (generated by `make docs`) -->"
README_END = "<!-- settings-table:end -->"


def settings_markdown() -> str:
    """The README's configuration table, generated from ``Settings.documented()``."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, default, doc in Settings.documented():
        shown = f"`{default}`" if default else "(empty)"
        meaning = doc.replace("|", "\\|")
        lines.append(f"| `{name}` | {shown} | {meaning} |")
    return "\n".join(lines)


def update_readme(path: Path) -> bool:
    """Rewrite the settings table of the README at ``path``; True when it changed."""
    text = path.read_text()
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    updated = f"{head}{README_START}\n{settings_markdown()}\n{README_END}{tail}"
    if updated == text:
        return False
    path.write_text(updated)
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="packgraph",
        description="packgraph: prepaid session packs with a live staff dashboard.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="database to use (overrides PACKGRAPH_DATABASE_URL), e.g. sqlite://packgraph.db",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the server (uvicorn)")
    serve.add_argument("--host", help="address to bind (default: PACKGRAPH_HOST)")
    serve.add_argument("--port", type=int, help="port to bind (default: PACKGRAPH_PORT)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--migrate", action="store_true", help="apply migrations before serving")
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust X-Forwarded-For from a load balancer for client addresses",
    )
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser(
        "migrate", help="apply the committed migrations (safe to run from several processes)"
    )
    migrate.set_defaults(handler=cmd_migrate)

    seed = commands.add_parser("seed-demo", help='seed the "Harbour Physio" demo business')
    seed.add_argument(
        "--clients",
        type=int,
        default=12,
        help="number of clients (default 12; large numbers bulk-load history)",
    )
    seed.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database has any business"
    )
    seed.set_defaults(handler=cmd_seed_demo)

    business = commands.add_parser("create-business", help="create a business (tenant)")
    business.add_argument("--name", required=True)
    business.add_argument("--timezone", default="UTC", help="IANA timezone (default UTC)")
    business.add_argument("--currency", default="AUD", help="ISO 4217 code (default AUD)")
    business.set_defaults(handler=cmd_create_business)

    staff = commands.add_parser("create-staff", help="create a staff login")
    staff.add_argument("--business", type=int, required=True, help="business id")
    staff.add_argument("--name", required=True)
    staff.add_argument("--email", required=True)
    staff.add_argument(
        "--role", default="STAFF", type=str.upper, choices=["OWNER", "MANAGER", "STAFF"]
    )
    staff.add_argument(
        "--password",
        help=f"the password (else ${PASSWORD_VARIABLE}, else asked on the terminal)",
    )
    staff.set_defaults(handler=cmd_create_staff)

    key = commands.add_parser(
        "create-api-key", help="create an integration API key and print its token once"
    )
    key.add_argument("--business", type=int, required=True, help="business id")
    key.add_argument("--name", required=True, help="what the key is for, e.g. 'Xero sync'")
    key.set_defaults(handler=cmd_create_api_key)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument(
        "--output", "-o", default="schema.graphql", help="file to write, '-' for stdout"
    )
    export.set_defaults(handler=cmd_export_schema)

    expire = commands.add_parser(
        "expire-packs", help="run expiry processing now (expire due packs, send reminders)"
    )
    expire.set_defaults(handler=cmd_expire_packs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``packgraph`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.database_url:
        # Through the environment, so uvicorn's worker processes see it too.
        os.environ["PACKGRAPH_DATABASE_URL"] = args.database_url
    from packgraph.domain.errors import DomainError

    try:
        _configure_logging(_settings())
        return args.handler(args)
    except CommandError as error:
        print(f"packgraph {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except DomainError as error:
        where = f" ({error.field})" if error.field else ""
        print(f"packgraph {args.command}: error: {error.message}{where}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
