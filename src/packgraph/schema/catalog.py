"""Services and pack templates: what is sold."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from packgraph.models import PackTemplate, PackTemplateItem, Service
from packgraph.resolvers.context import Info
from packgraph.schema.enums import AutoRenew, Metric


@strawberry.type(name="Service", description="What is sold per visit, e.g. `Massage 60`.")
class ServiceType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    duration_minutes: int = strawberry.field(
        description="Length of a visit; what a MINUTES pack deducts."
    )
    price: int = strawberry.field(
        description="Price of one visit in minor currency units; what a MONEY pack deducts."
    )
    active: bool = strawberry.field(description="False when no longer offered.")
    row: strawberry.Private[Service]

    @classmethod
    def from_row(cls, row: Service) -> ServiceType:
        return cls(
            id=row.id,
            name=row.name,
            duration_minutes=row.duration_minutes,
            price=row.price,
            active=row.active,
            row=row,
        )


async def services_by_ids(info: Info, service_ids: list[int]) -> list[ServiceType]:
    rows = await info.context.loaders.service.load_many(service_ids)
    return [ServiceType.from_row(row) for row in rows if row is not None]


@strawberry.type(
    name="PackTemplateItem",
    description="One allowance of a template, e.g. `5 sessions of physio or massage`.",
)
class PackTemplateItemType:
    allowance: int = strawberry.field(description="Units, in the template's metric.")
    row: strawberry.Private[PackTemplateItem]

    @strawberry.field(description="The services this allowance can be used for.")
    async def services(self, info: Info) -> list[ServiceType]:
        links = await info.context.loaders.template_item_services.load(self.row.id)
        return await services_by_ids(info, [link.service_id for link in links])  # type: ignore[attr-defined]


@strawberry.type(
    name="PackTemplate",
    description="A pack definition to sell from. Selling copies it: editing a template never "
    "changes packs already sold.",
)
class PackTemplateType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Name the sold packs get, e.g. `10 massages`.")
    description: str = strawberry.field(description="Free text shown when selling.")
    metric: Metric = strawberry.field(description="What the allowances count.")  # type: ignore[valid-type]
    price: int = strawberry.field(description="Price in minor currency units.")
    session_price: int = strawberry.field(
        description="What each visit redeemed from the pack is charged (usually 0)."
    )
    validity_days: int | None = strawberry.field(
        description="Packs expire this many days after purchase (null: see validityMonths)."
    )
    validity_months: int | None = strawberry.field(
        description="Packs expire this many months after purchase (null with validityDays: never)."
    )
    auto_renew: AutoRenew = strawberry.field(  # type: ignore[valid-type]
        description="When a new pack is created automatically as this one ends."
    )
    archived: bool = strawberry.field(description="Archived templates are not offered for sale.")
    created_at: datetime = strawberry.field(description="When the template was created.")
    row: strawberry.Private[PackTemplate]

    @classmethod
    def from_row(cls, row: PackTemplate) -> PackTemplateType:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            metric=row.metric,
            price=row.price,
            session_price=row.session_price,
            validity_days=row.validity_days,
            validity_months=row.validity_months,
            auto_renew=row.auto_renew,
            archived=row.archived,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="The allowances, in order.")
    async def items(self, info: Info) -> list[PackTemplateItemType]:
        rows = await info.context.loaders.template_items.load(self.id)
        return [PackTemplateItemType(allowance=row.allowance, row=row) for row in rows]

    @strawberry.field(description="The service booked by default for visits on its packs.")
    async def default_service(self, info: Info) -> ServiceType | None:
        service_id = self.row.default_service_id  # type: ignore[attr-defined]
        if service_id is None:
            return None
        row = await info.context.loaders.service.load(service_id)
        return ServiceType.from_row(row) if row else None
