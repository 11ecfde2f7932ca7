"""Setup: clients, services, templates, billing preference and business settings."""

from __future__ import annotations

import pytest

from packgraph.domain.catalog import (
    TemplateItemSpec,
    archive_pack_template,
    create_client,
    create_pack_template,
    create_service,
    set_client_billing_preference,
    template_item_specs,
    update_business_settings,
    update_client,
    update_pack_template,
    update_service,
)
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.models import AutoRenew, Business, Client, Metric
from tests.domain.builders import add_client, build_clinic, sell, snapshot_counts


async def test_template_is_created_with_items_and_eligible_services(db):
    # given a clinic with massage and physio
    clinic = await build_clinic()

    # when a manager creates a shared-pool template
    template = await create_pack_template(
        actor=clinic.manager,
        name="8 visits",
        metric=Metric.SESSIONS,
        price=600_00,
        items=[TemplateItemSpec(allowance=8, service_ids=[clinic.massage.id, clinic.physio.id])],
        session_price=10_00,
        validity_months=6,
        default_service_id=clinic.physio.id,
        auto_renew=AutoRenew.ON_FULLY_USED,
    )

    # then it holds one item with both services
    [item] = await template_item_specs(None, template)
    assert item.allowance == 8 and set(item.service_ids) == {clinic.massage.id, clinic.physio.id}
    assert template.validity_months == 6 and template.session_price == 10_00


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  "}, "name"),
        ({"price": -1}, "price"),
        ({"items": []}, "items"),
        ({"items": [TemplateItemSpec(allowance=0, service_ids=[1])]}, "items.0.allowance"),
        ({"items": [TemplateItemSpec(allowance=3, service_ids=[])]}, "items.0"),
        ({"validity_days": 10, "validity_months": 1}, "validityDays"),
        ({"validity_days": 0}, "validityDays"),
        ({"session_price": -5}, "sessionPrice"),
    ],
)
async def test_template_rejects_invalid_input(db, kwargs, field):
    clinic = await build_clinic()
    arguments = {
        "name": "Pack",
        "metric": Metric.SESSIONS,
        "price": 100,
        "items": [TemplateItemSpec(allowance=3, service_ids=[clinic.massage.id])],
    } | kwargs
    before = await snapshot_counts(clinic.business_id)
    with pytest.raises(DomainError) as error:
        await create_pack_template(actor=clinic.owner, **arguments)
    assert error.value.code == ErrorCode.INVALID_INPUT and error.value.field == field
    assert await snapshot_counts(clinic.business_id) == before


async def test_template_with_another_business_service_is_not_found(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    with pytest.raises(DomainError) as error:
        await create_pack_template(
            actor=clinic.owner,
            name="Pack",
            metric=Metric.SESSIONS,
            price=100,
            items=[TemplateItemSpec(allowance=3, service_ids=[other.massage.id])],
        )
    assert error.value.code == ErrorCode.NOT_FOUND


async def test_staff_and_integrations_cannot_change_setup(db):
    clinic = await build_clinic()
    for actor in (clinic.staff, clinic.integration):
        with pytest.raises(DomainError) as error:
            await create_service(actor=actor, name="Yoga", duration_minutes=60, price=10)
        assert error.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(DomainError) as error:
        await create_client(actor=clinic.integration, name="Bo")
    assert error.value.code == ErrorCode.PERMISSION_DENIED


async def test_editing_a_template_never_changes_sold_packs(db):
    # given a sold 10-massage pack
    clinic = await build_clinic()
    sale = await sell(clinic)

    # when the template's price and items change
    await update_pack_template(
        actor=clinic.owner,
        template_id=clinic.ten_massages.id,
        price=1_000_00,
        items=[TemplateItemSpec(allowance=12, service_ids=[clinic.physio.id])],
        default_service_id=clinic.physio.id,
    )

    # then the sold pack keeps its copy
    from tests.domain.builders import item_usage, reload_pack

    assert (await reload_pack(sale.pack.id)).price == 800_00
    assert await item_usage(sale.pack.id) == [(0, 10)]
    [spec] = await template_item_specs(None, clinic.ten_massages)
    assert spec.allowance == 12


async def test_archived_template_cannot_be_sold(db):
    clinic = await build_clinic()
    await archive_pack_template(actor=clinic.manager, template_id=clinic.ten_massages.id)
    with pytest.raises(DomainError) as error:
        await sell(clinic)
    assert error.value.code == ErrorCode.INVALID_STATE


async def test_billing_preference_takes_a_pack_of_the_client_or_a_service(db):
    clinic = await build_clinic()
    sale = await sell(clinic)
    client = await set_client_billing_preference(
        actor=clinic.staff, client_id=clinic.client.id, pack_id=sale.pack.id
    )
    assert client.preferred_pack_id == sale.pack.id and client.preferred_service_id is None
    client = await set_client_billing_preference(
        actor=clinic.staff, client_id=clinic.client.id, service_id=clinic.physio.id
    )
    stored = await Client.get(id=clinic.client.id)
    assert stored.preferred_pack_id is None and stored.preferred_service_id == clinic.physio.id

    # a pack of another client is NOT_FOUND, like an unknown one
    other_client = await add_client(clinic.owner, "Bo")
    with pytest.raises(DomainError) as error:
        await set_client_billing_preference(
            actor=clinic.staff, client_id=other_client.id, pack_id=sale.pack.id
        )
    assert error.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as error:
        await set_client_billing_preference(
            actor=clinic.staff,
            client_id=clinic.client.id,
            pack_id=sale.pack.id,
            service_id=clinic.physio.id,
        )
    assert error.value.code == ErrorCode.INVALID_INPUT


async def test_other_business_ids_look_like_unknown_ids(db):
    clinic = await build_clinic()
    other = await build_clinic("Other")
    messages = set()
    for client_id in (other.client.id, 999_999):
        with pytest.raises(DomainError) as error:
            await update_client(actor=clinic.staff, client_id=client_id, name="X")
        assert error.value.code == ErrorCode.NOT_FOUND
        messages.add(error.value.message)
    assert len(messages) == 1
    with pytest.raises(DomainError) as error:
        await update_service(actor=clinic.owner, service_id=other.massage.id, price=1)
    assert error.value.code == ErrorCode.NOT_FOUND


async def test_business_settings_are_for_managers(db):
    clinic = await build_clinic()
    business = await update_business_settings(
        actor=clinic.manager, redemption_requires_full_payment=True, timezone="Australia/Sydney"
    )
    assert business.redemption_requires_full_payment and business.timezone == "Australia/Sydney"
    assert (await Business.get(id=clinic.business_id)).redemption_requires_full_payment
    with pytest.raises(DomainError) as error:
        await update_business_settings(actor=clinic.staff, redeem_on_no_show=True)
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(DomainError) as error:
        await update_business_settings(actor=clinic.owner, timezone="Mars/Olympus")
    assert error.value.code == ErrorCode.INVALID_INPUT
