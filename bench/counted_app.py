"""packgraph's app with a SQL statement counter, for benchmark row 2 (statements per board page).

Tortoise logs every statement it sends on the ``tortoise.db_client`` logger (DEBUG). This factory
builds the real app (``packgraph.app:create_app``) and adds ``GET /__bench/statements``, which
returns how many statements were sent since the previous call. Only row 2 uses it: the other rows
run the unmodified ``packgraph serve``.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from packgraph.app import create_app as create_packgraph_app

STATEMENT_PREFIXES = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and args and isinstance(args[0], str):
            if args[0].lstrip().upper().startswith(STATEMENT_PREFIXES):
                self.statements.append(args[0])


def create_app() -> Starlette:
    app = create_packgraph_app()
    counter = StatementCounter()
    logger = logging.getLogger("tortoise.db_client")
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    async def statements(request: Request) -> Response:
        taken, counter.statements = counter.statements, []
        return JSONResponse({"count": len(taken), "statements": taken})

    # Before the dashboard's catch-all route.
    app.router.routes.insert(0, Route("/__bench/statements", statements))
    return app
