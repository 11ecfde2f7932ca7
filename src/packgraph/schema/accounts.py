"""Inputs and payloads of the account mutations: login, API keys, business settings."""

from __future__ import annotations

from datetime import datetime

import strawberry

from packgraph.schema.errors import Payload
from packgraph.schema.tenants import ApiKeyType, BusinessType, Viewer


@strawberry.input(description="A staff member's credentials.")
class LoginInput:
    email: str = strawberry.field(description="Login email (case does not matter).")
    password: str = strawberry.field(description="Password.")


@strawberry.type(description="The result of `login`.")
class LoginPayload(Payload):
    token: str | None = strawberry.field(
        default=None,
        description="The bearer token: send it as `Authorization: Bearer <token>` on HTTP and as "
        '`{"token": "<token>"}` in the WebSocket `connection_init` payload.',
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token stops working."
    )
    viewer: Viewer | None = strawberry.field(default=None, description="Who logged in.")


@strawberry.input(description="A new integration API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="What the key is for, e.g. `Xero sync`.")


@strawberry.type(description="The result of `createApiKey`.")
class CreateApiKeyPayload(Payload):
    api_key: ApiKeyType | None = strawberry.field(default=None, description="The new key.")
    token: str | None = strawberry.field(
        default=None,
        description="The key's secret token. Shown only here, once: store it now.",
    )


@strawberry.input(description="The API key to revoke.")
class RevokeApiKeyInput:
    api_key_id: strawberry.ID = strawberry.field(description="ID of the API key.")


@strawberry.type(description="The result of `revokeApiKey`.")
class RevokeApiKeyPayload(Payload):
    api_key: ApiKeyType | None = strawberry.field(
        default=None, description="The key, with `revokedAt` set."
    )


@strawberry.input(description="Business settings to change; omitted fields stay as they are.")
class UpdateBusinessSettingsInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA timezone, e.g. `Europe/London`."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217 currency code."
    )
    redemption_requires_full_payment: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Require packs to be PAID before redeeming."
    )
    redeem_on_no_show: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Deduct a unit when a client does not show."
    )
    create_task_on_pack_end: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Raise a task when a pack is used up or expires."
    )
    reminder_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="Days before expiry to emit PACK_EXPIRING_SOON."
    )


@strawberry.type(description="The result of `updateBusinessSettings`.")
class UpdateBusinessSettingsPayload(Payload):
    business: BusinessType | None = strawberry.field(
        default=None, description="The business with its new settings."
    )
