"""Inputs and payloads of the setup mutations: clients, services and pack templates."""

from __future__ import annotations

import strawberry

from packgraph.schema.catalog import PackTemplateType, ServiceType
from packgraph.schema.clients import ClientType
from packgraph.schema.enums import AutoRenew, Metric
from packgraph.schema.errors import Payload

UNSET = strawberry.UNSET


@strawberry.input(description="A new client.")
class CreateClientInput:
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(default="", description="Email address.")
    phone: str = strawberry.field(default="", description="Phone number.")
    notes: str = strawberry.field(default="", description="Free-text notes.")


@strawberry.type(description="The result of `createClient`.")
class CreateClientPayload(Payload):
    client: ClientType | None = strawberry.field(default=None, description="The new client.")


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


@strawberry.input(description="A new service.")
class CreateServiceInput:
    name: str = strawberry.field(description="Display name.")
    duration_minutes: int = strawberry.field(description="Length of a visit in minutes (> 0).")
    price: int = strawberry.field(description="Price of a visit, minor currency units (>= 0).")
    active: bool = strawberry.field(default=True, description="Offered for booking.")


@strawberry.type(description="The result of `createService`.")
class CreateServicePayload(Payload):
    service: ServiceType | None = strawberry.field(default=None, description="The new service.")


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


@strawberry.input(description="One allowance of a template or custom pack.")
class PackItemInput:
    allowance: int = strawberry.field(
        description="Units in the pack's metric: sessions, minutes, or minor currency units."
    )
    service_ids: list[strawberry.ID] = strawberry.field(
        description="The services it can be used for (at least one)."
    )


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
