"""Schema-driven test matrices: every root field and mutation is found by introspection, and
inputs are generated from their types, so a new field or mutation is covered without editing a
list.

``ID_FIELD_TYPES`` says which object type an ID argument or input field names; a new ID field
fails the matrix tests until it is added there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)

from packgraph.domain.adjustments import correct_pack_balance
from packgraph.domain.appointments import check_in_appointment, create_appointment
from packgraph.domain.auth import create_api_key
from packgraph.domain.notes import add_pack_note
from packgraph.domain.payments import record_payment
from packgraph.models import (
    ApiKey,
    Appointment,
    Business,
    Client,
    Event,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Pack,
    PackItem,
    PackNote,
    PackTemplate,
    PackTemplateItem,
    Payment,
    Service,
    Staff,
    Task,
)
from packgraph.server.schema import build_schema
from tests.api.support import Tenant, gid, given_catalog, given_pack

# The object type each ID field names (argument or input field, by name).
ID_FIELD_TYPES = {
    "id": None,  # node(id:) takes any type
    "ids": None,
    "clientId": "Client",
    "packId": "Pack",
    "fromPackId": "Pack",
    "toPackId": "Pack",
    "chosenPackId": "Pack",
    "serviceId": "Service",
    "serviceIds": "Service",
    "defaultServiceId": "Service",
    "templateId": "PackTemplate",
    "itemId": "PackItem",
    "lineId": "InvoiceLine",
    "invoiceId": "Invoice",
    "appointmentId": "Appointment",
    "practitionerId": "Staff",
    "taskId": "Task",
    "apiKeyId": "ApiKey",
}

# Optional input fields that are filled too, so the inputs are valid for the tenant's own IDs.
OPTIONAL_VALUES: dict[str, Any] = {"useFirstSession": True}

# Domain rules the schema cannot express: at most one field of each group may be given. The
# field on the tested path wins, else the first.
ONE_OF = {
    "SellPackInput": ("templateId", "custom"),
    "SetClientBillingPreferenceInput": ("packId", "serviceId"),
}

# Values for required scalars, by field name; otherwise by type.
SCALAR_VALUES: dict[str, Any] = {
    "name": "Matrix",
    "email": "matrix@example.test",
    "password": "x",
    "reason": "matrix test",
    "text": "matrix note",
    "method": "CARD",
    "amount": 100,
    "delta": -1,
    "quantity": 1,
    "allowance": 1,
    "price": 100,
    "durationMinutes": 30,
}


@dataclass
class TenantData:
    """One tenant with one object of every Node type, and their global IDs by type name."""

    tenant: Tenant
    ids: dict[str, str] = field(default_factory=dict)
    marker: str = ""


async def tenant_with_everything(tenant: Tenant, marker: str) -> TenantData:
    """Services, a template, a client, a pack with a redemption, a payment, a note, a used-up pack
    with its task, a booked appointment, an API key: every kind of object there is."""
    catalog = await given_catalog(tenant, client_name=f"{marker} Client")
    sale = await given_pack(tenant, catalog)
    used_up = await given_pack(tenant, catalog)
    item = await PackItem.get(pack_id=sale.pack.id)
    booked = await create_appointment(
        actor=tenant.staff,
        client_id=catalog.client.id,
        service_id=catalog.massage.id,
        starts_at=datetime.now(UTC) + timedelta(hours=1),
    )
    visit = await create_appointment(
        actor=tenant.staff,
        client_id=catalog.client.id,
        service_id=catalog.massage.id,
        starts_at=datetime.now(UTC),
        chosen_pack_id=sale.pack.id,
    )
    checked_in = await check_in_appointment(actor=tenant.staff, appointment_id=visit.appointment.id)
    # a physio visit no pack covers: its line is charged at the service price, not allocated
    physio = await create_appointment(
        actor=tenant.staff,
        client_id=catalog.client.id,
        service_id=catalog.physio.id,
        starts_at=datetime.now(UTC),
    )
    unallocated = await check_in_appointment(
        actor=tenant.staff, appointment_id=physio.appointment.id
    )
    payment = await record_payment(
        actor=tenant.staff, amount=100_00, method="CARD", pack_id=sale.pack.id
    )
    note = await add_pack_note(actor=tenant.staff, pack_id=sale.pack.id, text=f"{marker} note")
    used_up_item = await PackItem.get(pack_id=used_up.pack.id)
    await correct_pack_balance(
        actor=tenant.manager,
        pack_id=used_up.pack.id,
        item_id=used_up_item.id,
        delta=-10,
        reason="matrix",
    )
    task = await Task.get(business_id=tenant.id)
    key, _ = await create_api_key(actor=tenant.owner, name=f"{marker} key")
    staff = await Staff.get(id=tenant.staff.staff_id)
    rows = {
        "Business": tenant.id,
        "Staff": staff.id,
        "ApiKey": key.id,
        "Client": catalog.client.id,
        "Service": catalog.massage.id,
        "PackTemplate": catalog.ten_massages.id,
        "Pack": sale.pack.id,
        "PackItem": item.id,
        "LedgerEntry": checked_in.entry.id,
        "PackNote": note.note.id,
        "Appointment": booked.appointment.id,
        "Invoice": checked_in.invoice.id,
        "InvoiceLine": unallocated.line.id,
        "Payment": payment.payment.id,
        "Task": task.id,
    }
    return TenantData(
        tenant=tenant, ids={name: gid(name, pk) for name, pk in rows.items()}, marker=marker
    )


TENANT_MODELS = (
    Client,
    Service,
    PackTemplate,
    PackTemplateItem,
    Pack,
    PackItem,
    LedgerEntry,
    PackNote,
    Appointment,
    Invoice,
    InvoiceLine,
    Payment,
    Task,
    Event,
    ApiKey,
    Staff,
)


async def snapshot(business_id: int) -> dict[str, Any]:
    """Every row of the business, every column: equal before and after means nothing changed."""
    state: dict[str, Any] = {}
    for model in TENANT_MODELS:
        rows = await model.filter(business_id=business_id).order_by("id").values()
        state[model.__name__] = rows
    state["Business"] = await Business.filter(id=business_id).values()
    return state


# --- the schema --------------------------------------------------------------------------------


def graphql_schema():
    return build_schema()._schema


def unwrap(graphql_type: Any) -> Any:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return graphql_type


def is_id(graphql_type: Any) -> bool:
    named = get_named_type(graphql_type)
    return isinstance(named, GraphQLScalarType) and named.name == "ID"


def id_paths(input_type: GraphQLInputObjectType, prefix: tuple[str, ...] = ()) -> list[tuple]:
    """Paths of every ID field of an input object, nested inputs included."""
    paths = []
    for name, input_field in input_type.fields.items():
        named = get_named_type(input_field.type)
        if is_id(input_field.type):
            paths.append((*prefix, name))
        elif isinstance(named, GraphQLInputObjectType):
            paths.extend(id_paths(named, (*prefix, name)))
    return paths


def id_type_of(name: str) -> str | None:
    assert name in ID_FIELD_TYPES, f"add the ID field {name!r} to ID_FIELD_TYPES"
    return ID_FIELD_TYPES[name]


def scalar_value(name: str, graphql_type: Any) -> Any:
    named = get_named_type(graphql_type)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if name in SCALAR_VALUES:
        return SCALAR_VALUES[name]
    return {
        "String": "x",
        "Int": 1,
        "Float": 1.0,
        "Boolean": False,
        "DateTime": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "Date": date.today().isoformat(),
    }[named.name]


def fill_input(
    input_type: GraphQLInputObjectType,
    ids: dict[str, str],
    *,
    include: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Required fields and every ID field, plus the path ``include`` (an ID field to test, and
    the optional inputs holding it). ID fields get the IDs in ``ids`` by the type they name."""
    value: dict[str, Any] = {}
    for name, input_field in input_type.fields.items():
        wanted = include is not None and include[0] == name
        required = (
            isinstance(input_field.type, GraphQLNonNull) and input_field.default_value is Undefined
        )
        named = get_named_type(input_field.type)
        if name in OPTIONAL_VALUES:
            value[name] = OPTIONAL_VALUES[name]
            continue
        group = ONE_OF.get(input_type.name, ())
        if name in group:
            chosen = include[0] if include is not None and include[0] in group else group[0]
            if name != chosen:
                continue
            wanted = True
        # every ID field is filled (optional ones too, but not defaults, which must match other
        # fields); optional input objects only when on the tested path
        optional_id = is_id(input_field.type) and not name.startswith("default")
        if not (required or wanted or optional_id):
            continue
        if isinstance(named, GraphQLInputObjectType):
            inner = fill_input(named, ids, include=include[1:] if wanted else None)
            value[name] = (
                [inner] if isinstance(unwrap_non_null(input_field.type), GraphQLList) else inner
            )
        elif is_id(input_field.type):
            type_name = id_type_of(name)
            raw = ids[type_name] if type_name else next(iter(ids.values()))
            value[name] = (
                [raw] if isinstance(unwrap_non_null(input_field.type), GraphQLList) else raw
            )
        else:
            value[name] = scalar_value(name, input_field.type)
    return value


def unwrap_non_null(graphql_type: Any) -> Any:
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type


def set_path(value: dict[str, Any], path: tuple[str, ...], new: Any) -> None:
    for name in path[:-1]:
        value = value[name][0] if isinstance(value[name], list) else value[name]
    current = value[path[-1]]
    value[path[-1]] = [new] if isinstance(current, list) else new


def selection_for(graphql_type: Any) -> str:
    """A small selection that shows whether anything came back."""
    named = unwrap(graphql_type)
    if not isinstance(named, GraphQLObjectType):
        return "{ __typename ... on Node { id } }" if hasattr(named, "fields") else ""
    parts = ["__typename"]
    if "id" in named.fields:
        parts.append("id")
    if "edges" in named.fields:
        node = unwrap(unwrap(named.fields["edges"].type).fields["node"].type)
        node_id = " id" if "id" in node.fields else ""
        count = " totalCount" if "totalCount" in named.fields else ""
        parts.append(f"{count} edges {{ node {{ __typename{node_id} }} }}")
    if "userErrors" in named.fields:
        parts.append("userErrors { code field message }")
    return "{ " + " ".join(parts) + " }"


def mutation_document(name: str, field: Any) -> str:
    input_type = unwrap(field.args["input"].type)
    return (
        f"mutation Matrix($input: {input_type.name}!) "
        f"{{ {name}(input: $input) {selection_for(field.type)} }}"
    )
