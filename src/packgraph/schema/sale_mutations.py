"""Selling a pack: ``sellPack`` from a template or custom fields, with its first session."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from packgraph import models
from packgraph.domain import selling
from packgraph.domain.selling import CustomPackSpec
from packgraph.resolvers.context import Info, actor_of
from packgraph.schema.catalog_mutations import PackItemInput, item_specs
from packgraph.schema.enums import Metric
from packgraph.schema.errors import Payload
from packgraph.schema.ledger import LedgerEntryType
from packgraph.schema.mutation import (
    IDEMPOTENCY_KEY,
    INPUT,
    REPLAYED,
    mutation,
    optional_pk_of,
    pk_of,
)
from packgraph.schema.packs import PackType
from packgraph.schema.visits import InvoiceLineType, InvoiceType


@strawberry.input(description="The fields of a pack sold without a template.")
class CustomPackInput:
    name: str = strawberry.field(description="Pack name.")
    metric: Metric = strawberry.field(description="What the allowances count.")  # type: ignore[valid-type]
    price: int = strawberry.field(description="Price, minor currency units.")
    items: list[PackItemInput] = strawberry.field(description="The allowances (at least one).")
    session_price: int = strawberry.field(default=0, description="What each visit is charged.")
    validity_days: int | None = strawberry.field(default=None, description="Validity in days.")
    validity_months: int | None = strawberry.field(default=None, description="Validity in months.")
    description: str = strawberry.field(default="", description="Free text.")
    default_service_id: strawberry.ID | None = strawberry.field(
        default=None, description="Service booked by default."
    )


def _custom(custom: CustomPackInput) -> CustomPackSpec:
    return CustomPackSpec(
        name=custom.name,
        metric=models.Metric(custom.metric.value),
        price=custom.price,
        items=item_specs(custom.items, "custom.items"),
        session_price=custom.session_price,
        validity_days=custom.validity_days,
        validity_months=custom.validity_months,
        description=custom.description,
        default_service_id=optional_pk_of(
            custom.default_service_id, "Service", "custom.defaultServiceId", "service"
        ),
    )


@strawberry.input(description="Sell a pack to a client, from a template or custom fields.")
class SellPackInput:
    client_id: strawberry.ID = strawberry.field(description="The buyer.")
    template_id: strawberry.ID | None = strawberry.field(
        default=None, description="The template to sell (or give `custom`)."
    )
    custom: CustomPackInput | None = strawberry.field(
        default=None, description="Custom pack fields (instead of `templateId`)."
    )
    discount: int = strawberry.field(default=0, description="Discount off the price.")
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="Override the expiry; null: never expires. Omitted: from the validity.",
    )
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="Put the sale on this invoice of the client (default: a new one)."
    )
    use_first_session: bool = strawberry.field(
        default=False, description='Redeem the first unit at once ("use first session").'
    )
    service_id: strawberry.ID | None = strawberry.field(
        default=None, description="With useFirstSession: the service of the first session."
    )
    appointment_id: strawberry.ID | None = strawberry.field(
        default=None, description="With useFirstSession: the visit it is for (marked attended)."
    )
    referrer: str = strawberry.field(default="", description="Who referred the client.")
    authorisation_number: str = strawberry.field(
        default="", description="Insurer or referrer authorisation number."
    )
    authorised_from: date | None = strawberry.field(
        default=None, description="First day of the authorisation."
    )
    authorised_until: date | None = strawberry.field(
        default=None, description="Last day of the authorisation."
    )
    purchased_at: datetime | None = strawberry.field(
        default=None, description="When it was bought (default: now)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of `sellPack`.")
class SellPackPayload(Payload):
    pack: PackType | None = strawberry.field(default=None, description="The new pack.")
    invoice: InvoiceType | None = strawberry.field(default=None, description="Its invoice.")
    invoice_line: InvoiceLineType | None = strawberry.field(
        default=None, description="The PACK_SALE line."
    )
    entry: LedgerEntryType | None = strawberry.field(
        default=None, description="With useFirstSession: the first session's redemption."
    )
    replayed: bool = strawberry.field(default=False, description=REPLAYED)


@mutation()
async def sell_pack(info: Info, input: Annotated[SellPackInput, INPUT]) -> SellPackPayload:
    options: dict[str, Any] = {}
    if input.expires_at is not strawberry.UNSET:
        options["expires_at"] = input.expires_at
    result = await selling.sell_pack(
        actor=actor_of(info),
        client_id=pk_of(input.client_id, "Client", "clientId"),
        template_id=optional_pk_of(
            input.template_id, "PackTemplate", "templateId", "pack template"
        ),
        custom=_custom(input.custom) if input.custom is not None else None,
        discount=input.discount,
        invoice_id=optional_pk_of(input.invoice_id, "Invoice", "invoiceId"),
        use_first_session=input.use_first_session,
        service_id=optional_pk_of(input.service_id, "Service", "serviceId"),
        appointment_id=optional_pk_of(input.appointment_id, "Appointment", "appointmentId"),
        referrer=input.referrer,
        authorisation_number=input.authorisation_number,
        authorised_from=input.authorised_from,
        authorised_until=input.authorised_until,
        purchased_at=input.purchased_at,
        idempotency_key=input.idempotency_key,
        **options,
    )
    return SellPackPayload(
        pack=PackType.from_row(result.pack),
        invoice=InvoiceType.from_row(result.invoice),
        invoice_line=InvoiceLineType.from_row(result.line),
        entry=LedgerEntryType.from_row(result.entry) if result.entry else None,
        replayed=result.replayed,
    )


@strawberry.type(description="Selling packs.")
class SaleMutations:
    sell_pack: SellPackPayload = strawberry.mutation(
        resolver=sell_pack,
        description="Sell a pack: creates the pack and its PACK_SALE invoice line; optionally "
        "redeems the first session. Emits PACK_SOLD.",
    )


MUTATION_AREAS: list[type] = [SaleMutations]
