"""Login, the viewer and the business, API keys and business settings."""

from __future__ import annotations

from typing import Annotated

from packgraph.domain import auth, catalog
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import INPUT, actor_of, changes_of, mutation, pk_of
from packgraph.schema.accounts import (
    CreateApiKeyInput,
    CreateApiKeyPayload,
    LoginInput,
    LoginPayload,
    RevokeApiKeyInput,
    RevokeApiKeyPayload,
    UpdateBusinessSettingsInput,
    UpdateBusinessSettingsPayload,
)
from packgraph.schema.tenants import ApiKeyType, BusinessType, Viewer, viewer_of


async def viewer(info: Info) -> Viewer:
    return viewer_of(actor_of(info))


async def business(info: Info) -> BusinessType:
    return BusinessType.from_row(await info.context.business())


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


@mutation()
async def create_api_key(
    info: Info, input: Annotated[CreateApiKeyInput, INPUT]
) -> CreateApiKeyPayload:
    key, token = await auth.create_api_key(actor=actor_of(info), name=input.name)
    return CreateApiKeyPayload(api_key=ApiKeyType.from_row(key), token=token)


@mutation()
async def revoke_api_key(
    info: Info, input: Annotated[RevokeApiKeyInput, INPUT]
) -> RevokeApiKeyPayload:
    key_id = pk_of(input.api_key_id, "ApiKey", "apiKeyId", "API key")
    key = await auth.revoke_api_key(actor=actor_of(info), api_key_id=key_id)
    return RevokeApiKeyPayload(api_key=ApiKeyType.from_row(key))


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
