"""The GraphQL endpoint (HTTP and graphql-transport-ws) mounted at /graphql.

Placeholder until the GraphQL API work lands: it only answers a health query.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.asgi import GraphQL

from packgraph.settings import Settings


@strawberry.type(description="The root of every query.")
class Query:
    @strawberry.field(description="Always true: the API is up.")
    def ok(self) -> bool:
        return True


def make_graphql_app(settings: Settings, *, hub: Any = None) -> GraphQL:
    schema = strawberry.Schema(query=Query)
    return GraphQL(schema, allowed_origins=list(settings.allowed_origins))
