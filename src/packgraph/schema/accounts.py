"""Accounts: the viewer and the business, login, API keys and business settings. Each
mutation's input, payload and function side by side, then the area's root fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from packgraph.domain import auth, catalog
from packgraph.resolvers.context import Info, actor_of
from packgraph.schema.errors import Payload
from packgraph.schema.mutation import INPUT, changes_of, mutation, pk_of
from packgraph.schema.tenants import ApiKeyType, BusinessType, Viewer, viewer_of


async def viewer(info: Info) -> Viewer:
    return viewer_of(actor_of(info))


async def business(info: Info) -> BusinessType:
    return BusinessType.from_row(await info.context.business())


MANAGERS = " Owners and managers only."


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


@mutation(public=True)
async def login(info: Info, input: Annotated[LoginInput, INPUT]) -> LoginPayload:
    result = await auth.login(
        email=input.email,
        password=input.password,
        address=info.context.client_address,
        settings=info.context.settings,
    )
    actor = auth.staff_actor(result.staff)
    # The rest of this operation (e.g. `viewer { business }`) reads as the new staff member.
    info.context.authenticate_as(actor)
    return LoginPayload(token=result.token, expires_at=result.expires_at, viewer=viewer_of(actor))


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


@mutation()
async def create_api_key(
    info: Info, input: Annotated[CreateApiKeyInput, INPUT]
) -> CreateApiKeyPayload:
    key, token = await auth.create_api_key(actor=actor_of(info), name=input.name)
    return CreateApiKeyPayload(api_key=ApiKeyType.from_row(key), token=token)


@strawberry.input(description="The API key to revoke.")
class RevokeApiKeyInput:
    api_key_id: strawberry.ID = strawberry.field(description="ID of the API key.")


@strawberry.type(description="The result of `revokeApiKey`.")
class RevokeApiKeyPayload(Payload):
    api_key: ApiKeyType | None = strawberry.field(
        default=None, description="The key, with `revokedAt` set."
    )


@mutation()
async def revoke_api_key(
    info: Info, input: Annotated[RevokeApiKeyInput, INPUT]
) -> RevokeApiKeyPayload:
    key_id = pk_of(input.api_key_id, "ApiKey", "apiKeyId", "API key")
    key = await auth.revoke_api_key(actor=actor_of(info), api_key_id=key_id)
    return RevokeApiKeyPayload(api_key=ApiKeyType.from_row(key))


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


@mutation()
async def update_business_settings(
    info: Info, input: Annotated[UpdateBusinessSettingsInput, INPUT]
) -> UpdateBusinessSettingsPayload:
    changes = changes_of(
        input,
        "name",
        "timezone",
        "currency",
        "redemption_requires_full_payment",
        "redeem_on_no_show",
        "create_task_on_pack_end",
        "reminder_days",
    )
    row = await catalog.update_business_settings(actor=actor_of(info), **changes)
    return UpdateBusinessSettingsPayload(business=BusinessType.from_row(row))


@strawberry.type(description="Logging in, API keys and business settings.")
class AccountMutations:
    login: LoginPayload = strawberry.mutation(
        resolver=login,
        description="Exchange a staff email and password for a bearer token. The only operation "
        "that works without a token. Failed attempts are rate-limited per email and address.",
    )
    create_api_key: CreateApiKeyPayload = strawberry.mutation(
        resolver=create_api_key,
        description="Create an integration API key (read and subscribe only)." + MANAGERS,
    )
    revoke_api_key: RevokeApiKeyPayload = strawberry.mutation(
        resolver=revoke_api_key,
        description="Revoke an API key: its token stops working at once." + MANAGERS,
    )
    update_business_settings: UpdateBusinessSettingsPayload = strawberry.mutation(
        resolver=update_business_settings,
        description="Change the business's name, timezone, currency or pack rules." + MANAGERS,
    )


@strawberry.type(description="Who is asking, and their business.")
class AccountQueries:
    viewer: Viewer = strawberry.field(
        resolver=viewer, description="The staff member or API key the bearer token belongs to."
    )
    business: BusinessType = strawberry.field(
        resolver=business, description="The viewer's business and its settings."
    )


QUERY_AREAS: list[type] = [AccountQueries]


MUTATION_AREAS: list[type] = [AccountMutations]
