"""The GraphQL endpoint at /graphql: GraphQL over HTTP, graphql-transport-ws, and GraphiQL.

On top of strawberry's view it adds: bearer-token authentication (HTTP header, or the
``connection_init`` payload on a WebSocket), a request body limit, JSON bodies for every transport
error, 405 for a mutation over GET, and ``application/graphql-response+json`` responses (with
4xx statuses for request errors) when the client asks for them.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET, UnsetType

from packgraph.db import database_unavailable
from packgraph.domain import auth
from packgraph.resolvers.context import UNAUTHENTICATED, Context
from packgraph.server.guards import DATABASE_UNAVAILABLE, SERVICE_UNAVAILABLE
from packgraph.server.schema import build_schema
from packgraph.server.websocket import TransportWSHandler, WebSocketAdapter
from packgraph.settings import Settings

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

log = logging.getLogger("packgraph.graphql")

_STATUS_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    503: SERVICE_UNAVAILABLE,
}

EXAMPLE_QUERY = """# packgraph API. The Docs pane (top left) describes every type and field.
#
# 1. Log in (the only operation that works without a token):
#
#      mutation { login(input: {email: "owner@demo.test", password: "demo"}) {
#        token userErrors { code message } } }
#
# 2. Put the token in the Headers pane below:  {"Authorization": "Bearer pgs_..."}
# 3. Run the pack board query (Ctrl-Enter). Page on with `after: <pageInfo.endCursor>`.

query PackBoard($after: String) {
  viewer { name role business { name currency } }
  packs(filter: {status: [ACTIVE]}, orderBy: EXPIRES_AT_ASC, first: 20, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id name status paymentStatus metric
        price discount finalPrice amountPaid balanceDue currency
        purchasedAt expiresAt version
        client { id name }
        totals { used allowance remaining }
        items { id allowance used remaining services { id name } }
      }
    }
  }
}
"""


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body = message.get("body", b"")
        size += len(body)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(body)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


def _wants_graphql_response_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE_JSON in accept


class PackgraphGraphQL(GraphQL):
    """strawberry's ASGI view with packgraph's authentication, limits and HTTP behaviour."""

    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = WebSocketAdapter

    def __init__(self, schema: Any, *, settings: Settings, hub: Any = None) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            allowed_origins=list(settings.allowed_origins),
        )
        self.settings = settings
        self.hub = hub

    # --- transport ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope)
        if scope["method"] not in ("GET", "POST"):
            response = self._error(405, "GraphQL is served over GET (queries) and POST.")
            response.headers["Allow"] = "GET, POST"
            await response(scope, receive, send)
            return
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            await self._too_large()(scope, receive, send)
            return
        try:
            body = await _read_body(receive, self.settings.max_body_bytes)
        except _BodyTooLarge:
            await self._too_large()(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            response = await self.run(Request(scope, receive=replay))
        except HTTPException as error:
            response = self._error(error.status_code, error.reason)
            if error.status_code == 405:
                response.headers["Allow"] = "POST"
        except Exception as error:
            # Authentication reads the database before any resolver runs.
            if not database_unavailable(error):
                raise
            log.warning("database unavailable: %s", type(error).__name__)
            response = self._error(503, DATABASE_UNAVAILABLE)
        if response.status_code == 503:
            response.headers["Retry-After"] = "1"
        await response(scope, receive, send)

    def _too_large(self) -> Response:
        return self._error(
            413, f"The request body is larger than {self.settings.max_body_bytes} bytes."
        )

    @staticmethod
    def _error(status: int, message: str) -> Response:
        # ASCII-escaped: a message may quote the request (an operation name), and a lone
        # surrogate there cannot be encoded as UTF-8.
        body = json.dumps(_error_body(message, _STATUS_CODES.get(status, "BAD_REQUEST")))
        return Response(body, status_code=status, media_type="application/json")

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as error:
            # Invalid UTF-8, a number beyond Python's digit limit, nesting deeper than the
            # decoder's recursion: not JSON we can read. JSONDecodeError is what both transports
            # answer (400 over HTTP, close code 4400 on a WebSocket).
            raise json.JSONDecodeError(type(error).__name__, "", 0) from None

    def parse_json(self, data: str | bytes) -> object:
        decoded = super().parse_json(data)
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, 'Expected a JSON object, such as {"query": "..."}.')
        return decoded

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                method = kwargs["request_adapter"].method
                if method == "GET":
                    raise HTTPException(
                        405, "Mutations and subscriptions are not allowed over GET: use POST."
                    ) from error
            raise

    async def render_graphql_ide(self, request: Request) -> Response:
        html = re.sub(
            r"const EXAMPLE_QUERY = `.*?`;",
            lambda _: "const EXAMPLE_QUERY = " + json.dumps(EXAMPLE_QUERY) + ";",
            self.graphql_ide_html,
            count=1,
            flags=re.DOTALL,
        )
        return HTMLResponse(html)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.graphql_response_json = (  # type: ignore[attr-defined]
            isinstance(request, Request) and _wants_graphql_response_json(request)
        )
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if _wants_graphql_response_json(request) and _is_request_error(result):
            # GraphQL over HTTP: a request that never executed has no `data` entry.
            response.pop("data", None)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if isinstance(response_data, dict) and _has_code(response_data, SERVICE_UNAVAILABLE):
            response.status_code = 503
        elif getattr(sub_response, "graphql_response_json", False) and isinstance(
            response_data, dict
        ):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
            if "data" not in response_data:
                response.status_code = 401 if _has_code(response_data, UNAUTHENTICATED) else 400
        return response

    # --- authentication -------------------------------------------------------------------------

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(request=request, response=response, settings=self.settings, hub=self.hub)
        if isinstance(request, Request):
            token = _bearer_token(request.headers.get("authorization"))
            if token is not None:
                actor = await auth.authenticate(token) if token else None
                context.authenticate_as(actor, problem="invalid")
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        token = (context.connection_params or {}).get("token")
        actor = await auth.authenticate(token) if isinstance(token, str) and token else None
        if actor is None:
            raise ConnectionRejectionError({"message": "invalid or missing token"})
        context.authenticate_as(actor)
        return UNSET


def _is_request_error(result: ExecutionResult) -> bool:
    """Parse, validation, variable and authentication failures: nothing was executed."""
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or [])
    )


def _has_code(response: GraphQLHTTPResponse, code: str) -> bool:
    return any(
        isinstance(error, dict) and (error.get("extensions") or {}).get("code") == code
        for error in response.get("errors") or []
    )


def make_graphql_app(settings: Settings, *, hub: Any = None) -> PackgraphGraphQL:
    """The ASGI app ``create_app`` mounts at /graphql for HTTP and WebSocket."""
    return PackgraphGraphQL(build_schema(settings), settings=settings, hub=hub)
