"""Setup mutations: clients, services, pack templates."""

from __future__ import annotations

from typing import Annotated, Any

from packgraph.domain import catalog
from packgraph.domain.catalog import TemplateItemSpec
from packgraph.models import AutoRenew, Metric
from packgraph.resolvers.context import Info
from packgraph.resolvers.mutation import (
    INPUT,
    actor_of,
    changes_of,
    mutation,
    optional_pk_of,
    pk_of,
)
from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.catalog_mutations import (
    ArchivePackTemplateInput,
    ArchivePackTemplatePayload,
    CreateClientInput,
    CreateClientPayload,
    CreatePackTemplateInput,
    CreatePackTemplatePayload,
    CreateServiceInput,
    CreateServicePayload,
    PackItemInput,
    SetClientBillingPreferenceInput,
    SetClientBillingPreferencePayload,
    UpdateClientInput,
    UpdateClientPayload,
    UpdatePackTemplateInput,
    UpdatePackTemplatePayload,
    UpdateServiceInput,
    UpdateServicePayload,
)
from packgraph.schema.clients import ClientType


def item_specs(items: list[PackItemInput], field: str = "items") -> list[TemplateItemSpec]:
    return [
        TemplateItemSpec(
            allowance=item.allowance,
            service_ids=[
                pk_of(value, "Service", f"{field}.{index}.serviceIds", "service")
                for value in item.service_ids
            ],
        )
        for index, item in enumerate(items)
    ]


@mutation()
async def create_client(
    info: Info, input: Annotated[CreateClientInput, INPUT]
) -> CreateClientPayload:
    row = await catalog.create_client(
        actor=actor_of(info),
        name=input.name,
        email=input.email,
        phone=input.phone,
        notes=input.notes,
    )
    return CreateClientPayload(client=ClientType.from_row(row))


@mutation()
async def update_client(
    info: Info, input: Annotated[UpdateClientInput, INPUT]
) -> UpdateClientPayload:
    client_id = pk_of(input.client_id, "Client", "clientId")
    changes = changes_of(input, "name", "email", "phone", "notes")
    row = await catalog.update_client(actor=actor_of(info), client_id=client_id, **changes)
    return UpdateClientPayload(client=ClientType.from_row(row))


@mutation()
async def set_client_billing_preference(
    info: Info, input: Annotated[SetClientBillingPreferenceInput, INPUT]
) -> SetClientBillingPreferencePayload:
    row = await catalog.set_client_billing_preference(
        actor=actor_of(info),
        client_id=pk_of(input.client_id, "Client", "clientId"),
        pack_id=optional_pk_of(input.pack_id, "Pack", "packId"),
        service_id=optional_pk_of(input.service_id, "Service", "serviceId"),
    )
    return SetClientBillingPreferencePayload(client=ClientType.from_row(row))


@mutation()
async def create_service(
    info: Info, input: Annotated[CreateServiceInput, INPUT]
) -> CreateServicePayload:
    row = await catalog.create_service(
        actor=actor_of(info),
        name=input.name,
        duration_minutes=input.duration_minutes,
        price=input.price,
        active=input.active,
    )
    return CreateServicePayload(service=ServiceType.from_row(row))


@mutation()
async def update_service(
    info: Info, input: Annotated[UpdateServiceInput, INPUT]
) -> UpdateServicePayload:
    service_id = pk_of(input.service_id, "Service", "serviceId")
    changes = changes_of(input, "name", "duration_minutes", "price", "active")
    row = await catalog.update_service(actor=actor_of(info), service_id=service_id, **changes)
    return UpdateServicePayload(service=ServiceType.from_row(row))


@mutation()
async def create_pack_template(
    info: Info, input: Annotated[CreatePackTemplateInput, INPUT]
) -> CreatePackTemplatePayload:
    row = await catalog.create_pack_template(
        actor=actor_of(info),
        name=input.name,
        metric=Metric(input.metric.value),
        price=input.price,
        items=item_specs(input.items),
        description=input.description,
        session_price=input.session_price,
        validity_days=input.validity_days,
        validity_months=input.validity_months,
        default_service_id=optional_pk_of(
            input.default_service_id, "Service", "defaultServiceId", "service"
        ),
        auto_renew=AutoRenew(input.auto_renew.value),
    )
    return CreatePackTemplatePayload(pack_template=PackTemplateType.from_row(row))


@mutation()
async def update_pack_template(
    info: Info, input: Annotated[UpdatePackTemplateInput, INPUT]
) -> UpdatePackTemplatePayload:
    template_id = pk_of(input.template_id, "PackTemplate", "templateId", "pack template")
    changes: dict[str, Any] = changes_of(
        input,
        "name",
        "description",
        "price",
        "session_price",
        "validity_days",
        "validity_months",
        "default_service_id",
        "auto_renew",
        "items",
        nullable=frozenset({"validity_days", "validity_months", "default_service_id"}),
    )
    if "default_service_id" in changes:
        changes["default_service_id"] = optional_pk_of(
            changes["default_service_id"], "Service", "defaultServiceId", "service"
        )
    if "auto_renew" in changes:
        changes["auto_renew"] = AutoRenew(changes["auto_renew"].value)
    if "items" in changes:
        changes["items"] = item_specs(changes["items"])
    row = await catalog.update_pack_template(
        actor=actor_of(info), template_id=template_id, **changes
    )
    return UpdatePackTemplatePayload(pack_template=PackTemplateType.from_row(row))


@mutation()
async def archive_pack_template(
    info: Info, input: Annotated[ArchivePackTemplateInput, INPUT]
) -> ArchivePackTemplatePayload:
    row = await catalog.archive_pack_template(
        actor=actor_of(info),
        template_id=pk_of(input.template_id, "PackTemplate", "templateId", "pack template"),
        archived=input.archived,
    )
    return ArchivePackTemplatePayload(pack_template=PackTemplateType.from_row(row))
