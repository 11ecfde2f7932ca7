"""The business (tenant), its staff, its API keys and the viewer (whoever holds the token)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from packgraph.domain.actor import Actor
from packgraph.models import ApiKey, Business, Staff
from packgraph.resolvers.context import Info
from packgraph.schema.enums import Role


@strawberry.type(description="Business-wide rules of how packs behave.")
class BusinessSettings:
    redemption_requires_full_payment: bool = strawberry.field(
        description="When true, a pack must be PAID before it can be redeemed (else PACK_NOT_PAID)."
    )
    redeem_on_no_show: bool = strawberry.field(
        description="When true, marking a no-show deducts a unit like a visit."
    )
    create_task_on_pack_end: bool = strawberry.field(
        description="When true, a task is raised when a pack is used up or expires."
    )
    reminder_days: int = strawberry.field(
        description="How many days before expiry PACK_EXPIRING_SOON is emitted."
    )


@strawberry.type(name="Staff", description="A person who logs in to the dashboard.")
class StaffType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="Login email (unique across packgraph).")
    role: Role = strawberry.field(description="What the staff member may do.")  # type: ignore[valid-type]
    active: bool = strawberry.field(description="False once deactivated: can no longer log in.")
    row: strawberry.Private[Staff]

    @classmethod
    def from_row(cls, row: Staff) -> StaffType:
        return cls(
            id=row.id, name=row.name, email=row.email, role=row.role, active=row.active, row=row
        )


@strawberry.type(
    name="ApiKey",
    description="An integration's credential. Read and subscribe only; the token is shown once.",
)
class ApiKeyType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="What the key is for, e.g. `Xero sync`.")
    role: Role = strawberry.field(description="Always INTEGRATION.")  # type: ignore[valid-type]
    token_prefix: str = strawberry.field(
        description="The first characters of the token, to recognise it in a list."
    )
    created_at: datetime = strawberry.field(description="When the key was created.")
    revoked_at: datetime | None = strawberry.field(
        description="When the key was revoked; null while it works."
    )
    row: strawberry.Private[ApiKey]

    @classmethod
    def from_row(cls, row: ApiKey) -> ApiKeyType:
        return cls(
            id=row.id,
            name=row.name,
            role=row.role,
            token_prefix=row.token_prefix,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            row=row,
        )

    @strawberry.field(description="The staff member who created the key.")
    async def created_by(self, info: Info) -> StaffType | None:
        staff_id = self.row.created_by_id  # type: ignore[attr-defined]
        if staff_id is None:
            return None
        row = await info.context.loaders.staff.load(staff_id)
        return StaffType.from_row(row) if row else None


@strawberry.type(
    name="Business", description="A clinic, salon or studio: everything else belongs to one."
)
class BusinessType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    timezone: str = strawberry.field(
        description="IANA timezone, e.g. `Australia/Sydney`: 'today' is computed in it."
    )
    currency: str = strawberry.field(
        description="ISO 4217 code. Every money amount in the API is an Int in minor units of it "
        "(cents for AUD: 12345 means 123.45)."
    )
    settings: BusinessSettings = strawberry.field(description="Rules of how packs behave.")
    row: strawberry.Private[Business]

    @classmethod
    def from_row(cls, row: Business) -> BusinessType:
        return cls(
            id=row.id,
            name=row.name,
            timezone=row.timezone,
            currency=row.currency,
            settings=BusinessSettings(
                redemption_requires_full_payment=row.redemption_requires_full_payment,
                redeem_on_no_show=row.redeem_on_no_show,
                create_task_on_pack_end=row.create_task_on_pack_end,
                reminder_days=row.reminder_days,
            ),
            row=row,
        )

    @strawberry.field(description="Every staff member, by name (e.g. to pick a practitioner).")
    async def staff(self, info: Info) -> list[StaffType]:
        rows = await info.context.loaders.business_staff.load(self.id)
        return [StaffType.from_row(row) for row in rows]

    @strawberry.field(description="Every API key, newest first, revoked ones included.")
    async def api_keys(self, info: Info) -> list[ApiKeyType]:
        rows = await info.context.loaders.business_api_keys.load(self.id)
        return [ApiKeyType.from_row(row) for row in rows]


@strawberry.type(description="Whoever the bearer token belongs to: a staff member or an API key.")
class Viewer:
    name: str = strawberry.field(description="The staff member's name or the API key's name.")
    role: Role = strawberry.field(description="What the viewer may do.")  # type: ignore[valid-type]
    business_id: strawberry.Private[int]
    staff_id: strawberry.Private[int | None]
    api_key_id: strawberry.Private[int | None]

    @strawberry.field(description="The staff member; null for an API key.")
    async def staff(self, info: Info) -> StaffType | None:
        if self.staff_id is None:
            return None
        row = await info.context.loaders.staff.load(self.staff_id)
        return StaffType.from_row(row) if row else None

    @strawberry.field(description="The API key; null for a staff member.")
    async def api_key(self, info: Info) -> ApiKeyType | None:
        if self.api_key_id is None:
            return None
        row = await info.context.loaders.api_key.load(self.api_key_id)
        return ApiKeyType.from_row(row) if row else None

    @strawberry.field(description="The business the viewer belongs to.")
    async def business(self, info: Info) -> BusinessType:
        row = await info.context.loaders.business.load(self.business_id)
        assert row is not None, "an authenticated viewer's business exists"
        return BusinessType.from_row(row)

    @strawberry.field(
        description="True for OWNER and MANAGER: corrections, expiry edits, cancelling and "
        "deleting packs, templates, settings and API keys are offered."
    )
    def is_manager(self) -> bool:
        return self.role.value in {"OWNER", "MANAGER"}


def viewer_of(actor: Actor) -> Viewer:
    return Viewer(
        name=actor.name,
        role=actor.role,
        business_id=actor.business_id,
        staff_id=actor.staff_id,
        api_key_id=actor.api_key_id,
    )
