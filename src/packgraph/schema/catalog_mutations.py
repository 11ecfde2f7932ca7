"""Setting up: clients, services and pack templates. Each mutation's input, payload and function
side by side, then the area's ``Mutation`` fields."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from packgraph import models
from packgraph.domain import catalog
from packgraph.domain.catalog import TemplateItemSpec
from packgraph.resolvers.context import Info, actor_of
from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.clients import ClientType
from packgraph.schema.enums import AutoRenew, Metric
from packgraph.schema.errors import Payload
from packgraph.schema.mutation import INPUT, changes_of, mutation, optional_pk_of, pk_of

UNSET = strawberry.UNSET


@strawberry.input(description="One allowance of a template or custom pack.")
class PackItemInput:
    allowance: int = strawberry.field(
        description="Units in the pack's metric: sessions, minutes, or minor currency units."
    )
    service_ids: list[strawberry.ID] = strawberry.field(
        description="The services it can be used for (at least one)."
    )


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


MANAGERS = " Owners and managers only."


@strawberry.input(description="A new client.")
class CreateClientInput:
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(default="", description="Email address.")
    phone: str = strawberry.field(default="", description="Phone number.")
    notes: str = strawberry.field(default="", description="Free-text notes.")


@strawberry.type(description="The result of `createClient`.")
class CreateClientPayload(Payload):
    client: ClientType | None = strawberry.field(default=None, description="The new client.")


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


@strawberry.input(description="Client fields to change; omitted fields stay as they are.")
class UpdateClientInput:
    client_id: strawberry.ID = strawberry.field(description="The client to change.")
    name: str | None = strawberry.field(default=UNSET, description="Full name.")
    email: str | None = strawberry.field(default=UNSET, description="Email address.")
    phone: str | None = strawberry.field(default=UNSET, description="Phone number.")
    notes: str | None = strawberry.field(default=UNSET, description="Free-text notes.")


@strawberry.type(description="The result of `updateClient`.")
class UpdateClientPayload(Payload):
    client: ClientType | None = strawberry.field(default=None, description="The client.")


@mutation()
async def update_client(
    info: Info, input: Annotated[UpdateClientInput, INPUT]
) -> UpdateClientPayload:
    client_id = pk_of(input.client_id, "Client", "clientId")
    changes = changes_of(input, "name", "email", "phone", "notes")
    row = await catalog.update_client(actor=actor_of(info), client_id=client_id, **changes)
    return UpdateClientPayload(client=ClientType.from_row(row))


@strawberry.input(
    description="A client's billing setup: a preferred pack or a preferred service (or neither, "
    "to clear it), applied to every new appointment."
)
class SetClientBillingPreferenceInput:
    client_id: strawberry.ID = strawberry.field(description="The client.")
    pack_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the client's packs; null for none."
    )
    service_id: strawberry.ID | None = strawberry.field(
        default=None, description="A service; null for none."
    )


@strawberry.type(description="The result of `setClientBillingPreference`.")
class SetClientBillingPreferencePayload(Payload):
    client: ClientType | None = strawberry.field(
        default=None, description="The client with its billing setup."
    )


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


@strawberry.input(description="A new service.")
class CreateServiceInput:
    name: str = strawberry.field(description="Display name.")
    duration_minutes: int = strawberry.field(description="Length of a visit in minutes (> 0).")
    price: int = strawberry.field(description="Price of a visit, minor currency units (>= 0).")
    active: bool = strawberry.field(default=True, description="Offered for booking.")


@strawberry.type(description="The result of `createService`.")
class CreateServicePayload(Payload):
    service: ServiceType | None = strawberry.field(default=None, description="The new service.")


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


@strawberry.input(description="Service fields to change; omitted fields stay as they are.")
class UpdateServiceInput:
    service_id: strawberry.ID = strawberry.field(description="The service to change.")
    name: str | None = strawberry.field(default=UNSET, description="Display name.")
    duration_minutes: int | None = strawberry.field(
        default=UNSET, description="Length of a visit in minutes."
    )
    price: int | None = strawberry.field(default=UNSET, description="Price of a visit.")
    active: bool | None = strawberry.field(default=UNSET, description="Offered for booking.")


@strawberry.type(description="The result of `updateService`.")
class UpdateServicePayload(Payload):
    service: ServiceType | None = strawberry.field(default=None, description="The service.")


@mutation()
async def update_service(
    info: Info, input: Annotated[UpdateServiceInput, INPUT]
) -> UpdateServicePayload:
    service_id = pk_of(input.service_id, "Service", "serviceId")
    changes = changes_of(input, "name", "duration_minutes", "price", "active")
    row = await catalog.update_service(actor=actor_of(info), service_id=service_id, **changes)
    return UpdateServicePayload(service=ServiceType.from_row(row))


@strawberry.input(description="A new pack template.")
class CreatePackTemplateInput:
    name: str = strawberry.field(description="Name sold packs get, e.g. `10 massages`.")
    metric: Metric = strawberry.field(description="What the allowances count.")  # type: ignore[valid-type]
    price: int = strawberry.field(description="Price, minor currency units.")
    items: list[PackItemInput] = strawberry.field(description="The allowances (at least one).")
    description: str = strawberry.field(default="", description="Free text.")
    session_price: int = strawberry.field(
        default=0, description="What each visit redeemed from its packs is charged."
    )
    validity_days: int | None = strawberry.field(
        default=None, description="Packs expire this many days after purchase."
    )
    validity_months: int | None = strawberry.field(
        default=None, description="Packs expire this many months after purchase."
    )
    default_service_id: strawberry.ID | None = strawberry.field(
        default=None, description="Service booked by default; must be in an item."
    )
    auto_renew: AutoRenew = strawberry.field(  # type: ignore[valid-type]
        default=AutoRenew.NEVER,  # type: ignore[attr-defined]
        description="When a new pack is created automatically as one ends.",
    )


@strawberry.type(description="The result of `createPackTemplate`.")
class CreatePackTemplatePayload(Payload):
    pack_template: PackTemplateType | None = strawberry.field(
        default=None, description="The new template."
    )


@mutation()
async def create_pack_template(
    info: Info, input: Annotated[CreatePackTemplateInput, INPUT]
) -> CreatePackTemplatePayload:
    row = await catalog.create_pack_template(
        actor=actor_of(info),
        name=input.name,
        metric=models.Metric(input.metric.value),
        price=input.price,
        items=item_specs(input.items),
        description=input.description,
        session_price=input.session_price,
        validity_days=input.validity_days,
        validity_months=input.validity_months,
        default_service_id=optional_pk_of(
            input.default_service_id, "Service", "defaultServiceId", "service"
        ),
        auto_renew=models.AutoRenew(input.auto_renew.value),
    )
    return CreatePackTemplatePayload(pack_template=PackTemplateType.from_row(row))


@strawberry.input(
    description="Template fields to change; omitted fields stay. Packs already sold never change."
)
class UpdatePackTemplateInput:
    template_id: strawberry.ID = strawberry.field(description="The template to change.")
    name: str | None = strawberry.field(default=UNSET, description="Name.")
    description: str | None = strawberry.field(default=UNSET, description="Free text.")
    price: int | None = strawberry.field(default=UNSET, description="Price.")
    session_price: int | None = strawberry.field(default=UNSET, description="Price per visit.")
    validity_days: int | None = strawberry.field(
        default=UNSET, description="Validity in days; null clears it."
    )
    validity_months: int | None = strawberry.field(
        default=UNSET, description="Validity in months; null clears it."
    )
    default_service_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Default service; null clears it."
    )
    auto_renew: AutoRenew | None = strawberry.field(  # type: ignore[valid-type]
        default=UNSET, description="Auto-renewal."
    )
    items: list[PackItemInput] | None = strawberry.field(
        default=UNSET, description="Replaces every allowance."
    )


@strawberry.type(description="The result of `updatePackTemplate`.")
class UpdatePackTemplatePayload(Payload):
    pack_template: PackTemplateType | None = strawberry.field(
        default=None, description="The template."
    )


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
        changes["auto_renew"] = models.AutoRenew(changes["auto_renew"].value)
    if "items" in changes:
        changes["items"] = item_specs(changes["items"])
    row = await catalog.update_pack_template(
        actor=actor_of(info), template_id=template_id, **changes
    )
    return UpdatePackTemplatePayload(pack_template=PackTemplateType.from_row(row))


@strawberry.input(description="Archive (or restore) a template.")
class ArchivePackTemplateInput:
    template_id: strawberry.ID = strawberry.field(description="The template.")
    archived: bool = strawberry.field(
        default=True, description="true archives it; false offers it for sale again."
    )


@strawberry.type(description="The result of `archivePackTemplate`.")
class ArchivePackTemplatePayload(Payload):
    pack_template: PackTemplateType | None = strawberry.field(
        default=None, description="The template."
    )


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


@strawberry.type(description="Clients, services and pack templates.")
class CatalogMutations:
    create_client: CreateClientPayload = strawberry.mutation(
        resolver=create_client, description="Add a client."
    )
    update_client: UpdateClientPayload = strawberry.mutation(
        resolver=update_client, description="Change a client's details."
    )
    set_client_billing_preference: SetClientBillingPreferencePayload = strawberry.mutation(
        resolver=set_client_billing_preference,
        description="Set the pack or service a client's new appointments use by default.",
    )
    create_service: CreateServicePayload = strawberry.mutation(
        resolver=create_service, description="Add a service." + MANAGERS
    )
    update_service: UpdateServicePayload = strawberry.mutation(
        resolver=update_service, description="Change a service." + MANAGERS
    )
    create_pack_template: CreatePackTemplatePayload = strawberry.mutation(
        resolver=create_pack_template,
        description="Add a pack template to sell from." + MANAGERS,
    )
    update_pack_template: UpdatePackTemplatePayload = strawberry.mutation(
        resolver=update_pack_template,
        description="Change a template; packs already sold keep what they were sold with."
        + MANAGERS,
    )
    archive_pack_template: ArchivePackTemplatePayload = strawberry.mutation(
        resolver=archive_pack_template,
        description="Stop (or resume) offering a template for sale." + MANAGERS,
    )


MUTATION_AREAS: list[type] = [CatalogMutations]
