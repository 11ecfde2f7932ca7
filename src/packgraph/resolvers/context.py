"""The typed context every resolver receives: who is asking, in which business, and the loaders.

HTTP builds one per request. A WebSocket builds one per connection (the actor is set when
``connection_init`` is accepted), and every operation on it runs on a copy with fresh loaders
(:meth:`Context.for_operation`); a subscription renews them per event with
:meth:`Context.renew_loaders`, so a long-lived socket never serves stale rows from a cache.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.websockets import WebSocket

from packgraph.domain.actor import Actor
from packgraph.models import Business
from packgraph.resolvers.loaders import Loaders
from packgraph.settings import Settings

UNAUTHENTICATED = "UNAUTHENTICATED"


class AuthenticationError(GraphQLError):
    """No valid token: a top-level error, never data."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": UNAUTHENTICATED})


@dataclass
class Context:
    """Per request (HTTP) or per operation (WebSocket)."""

    request: Request | WebSocket
    response: Any
    settings: Settings
    hub: Any = None
    actor: Actor | None = None
    # Why there is no actor: "missing" (no token sent) or "invalid" (unknown, expired, revoked).
    auth_problem: str = "missing"
    connection_params: dict[str, Any] | None = None
    loaders: Loaders = field(default_factory=lambda: Loaders(None))

    def __post_init__(self) -> None:
        self.renew_loaders()

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client else "unknown"

    def authenticate_as(self, actor: Actor | None, *, problem: str = "invalid") -> None:
        self.actor = actor
        self.auth_problem = "" if actor else problem
        self.renew_loaders()

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise AuthenticationError(self.authentication_message)
        return self.actor

    @property
    def authentication_message(self) -> str:
        if self.auth_problem == "invalid":
            return "The bearer token is invalid, expired or revoked: log in again."
        return "Authentication required: send `Authorization: Bearer <token>` (from `login`)."

    async def business(self) -> Business:
        """The actor's business (through the loaders: read once per request)."""
        actor = self.require_actor()
        business = await self.loaders.business.load(actor.business_id)
        assert business is not None, "an authenticated actor's business exists"
        return business

    def renew_loaders(self) -> None:
        """Fresh, empty loaders bound to the actor's business."""
        self.loaders = Loaders(self.actor.business_id if self.actor else None)

    def for_operation(self) -> Context:
        """A copy for one operation, with its own loaders."""
        copy = dataclasses.replace(self)
        copy.renew_loaders()
        return copy


# The ``info`` argument of every resolver in packgraph.
Info = strawberry.Info[Context, None]


def actor_of(info: Info) -> Actor:
    """Who is asking; an UNAUTHENTICATED error when nobody is."""
    return info.context.require_actor()
