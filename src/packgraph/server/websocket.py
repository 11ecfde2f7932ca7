"""graphql-transport-ws hardened: malformed messages close the socket with 4400.

strawberry's handler trusts the shape of what a client sends: a JSON array, a subscribe
``payload`` that is not an object, or an ``id`` that is not a string raises inside it and ends the
connection with a server error (1011) and a traceback in the log. Here every message is checked
first, and the close reason is kept within the 123 bytes a close frame allows.
"""

from __future__ import annotations

from typing import Any

from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from packgraph.db import database_unavailable

# RFC 6455 registry: the server is overloaded or cannot serve now; the client should retry.
TRY_AGAIN_LATER = 1013
# A close frame's reason is at most 123 bytes of UTF-8.
MAX_CLOSE_REASON_BYTES = 123

_OPTIONAL_OBJECTS = ("variables", "extensions")


def message_problem(message: Any) -> str | None:
    """Why ``message`` is not a well-formed graphql-transport-ws message (None when it is)."""
    if not isinstance(message, dict):
        return "Message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "Message type must be a string"
    if kind not in ("subscribe", "complete"):
        return None
    if not isinstance(message.get("id"), str) or not message["id"]:
        return "Message id must be a non-empty string"
    if kind == "complete":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "Subscribe payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "Subscribe payload query must be a string"
    if not isinstance(payload.get("operationName"), str | None):
        return "Subscribe payload operationName must be a string"
    for name in _OPTIONAL_OBJECTS:
        if not isinstance(payload.get(name), dict | None):
            return f"Subscribe payload {name} must be an object"
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """strawberry's graphql-transport-ws handler, refusing malformed messages with 4400, and
    closing with 1013 (try again later) when the token cannot be checked because the database
    is unreachable."""

    async def handle_message(self, message: Any) -> None:
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except Exception as error:
            if not database_unavailable(error):
                raise
            await self.websocket.close(code=TRY_AGAIN_LATER, reason="Database unavailable")


class WebSocketAdapter(ASGIWebSocketAdapter):
    """Closes with a reason cut to what a close frame can carry (a syntax error message may
    quote a long token)."""

    async def close(self, code: int, reason: str) -> None:
        encoded = reason.encode("utf-8", "replace")[:MAX_CLOSE_REASON_BYTES]
        await super().close(code, encoded.decode("utf-8", "ignore"))
