"""Setup mutations through the API: clients, services, templates, API keys, settings."""

from __future__ import annotations

from packgraph.models import ApiKey, Business, Client, PackTemplate, PackTemplateItem, Service
from tests.api.support import VIEWER_QUERY, gid, given_catalog, make_tenant, pk, running_app


async def test_create_and_update_a_client(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        created = await api.mutate(
            "createClient",
            {"name": "  Bea Cruz ", "email": "bea@example.test", "phone": "0400 000 000"},
            "client { id name email phone notes }",
            token=tenant.staff_token,
        )
        assert created["userErrors"] == []
        assert created["client"]["name"] == "Bea Cruz"
        client_id = created["client"]["id"]
        updated = await api.mutate(
            "updateClient",
            {"clientId": client_id, "notes": "left knee"},
            "client { name notes email }",
            token=tenant.staff_token,
        )
        assert updated["client"] == {
            "name": "Bea Cruz",
            "notes": "left knee",
            "email": "bea@example.test",
        }
        row = await Client.get(id=pk(client_id))
        assert (row.business_id, row.notes) == (tenant.id, "left knee")


async def test_a_blank_client_name_is_refused_with_its_field(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        created = await api.mutate(
            "createClient", {"name": "  "}, "client { id }", token=tenant.staff_token
        )
        assert created["client"] is None
        assert created["userErrors"] == [
            {
                "code": "INVALID_INPUT",
                "field": ["input", "name"],
                "message": "name must not be empty",
            }
        ]
        nulled = await api.mutate(
            "updateClient",
            {"clientId": gid("Client", 1), "name": None},
            "client { id }",
            token=tenant.staff_token,
        )
        assert nulled["userErrors"][0]["field"] == ["input", "name"]
        assert await Client.all().count() == 0


async def test_services_are_created_and_updated_by_managers(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        created = await api.mutate(
            "createService",
            {"name": "Facial", "durationMinutes": 30, "price": 6000},
            "service { id name durationMinutes price active }",
            token=tenant.manager_token,
        )
        service_id = created["service"]["id"]
        updated = await api.mutate(
            "updateService",
            {"serviceId": service_id, "price": 6500, "active": False},
            "service { price active }",
            token=tenant.manager_token,
        )
        assert updated["service"] == {"price": 6500, "active": False}
        listed = await api.ok(
            "{ active: services { name } all: services(includeInactive: true) { name } }",
            token=tenant.staff_token,
        )
        assert listed == {"active": [], "all": [{"name": "Facial"}]}
        assert (await Service.get(id=pk(service_id))).price == 6500


async def test_pack_templates_create_update_archive(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        created = await api.mutate(
            "createPackTemplate",
            {
                "name": "5 physio + 5 massage",
                "metric": "SESSIONS",
                "price": 70000,
                "items": [
                    {"allowance": 5, "serviceIds": [gid("Service", catalog.physio.id)]},
                    {"allowance": 5, "serviceIds": [gid("Service", catalog.massage.id)]},
                ],
                "validityMonths": 6,
                "autoRenew": "ON_FULLY_USED",
            },
            "packTemplate { id name validityMonths autoRenew "
            "items { allowance services { name } } }",
            token=tenant.owner_token,
        )
        assert created["userErrors"] == []
        template = created["packTemplate"]
        assert template["items"] == [
            {"allowance": 5, "services": [{"name": "Physio"}]},
            {"allowance": 5, "services": [{"name": "Massage 60"}]},
        ]
        updated = await api.mutate(
            "updatePackTemplate",
            {"templateId": template["id"], "price": 65000, "validityMonths": None},
            "packTemplate { validityMonths price }",
            token=tenant.owner_token,
        )
        assert updated["packTemplate"] == {"validityMonths": None, "price": 65000}
        archived = await api.mutate(
            "archivePackTemplate",
            {"templateId": template["id"]},
            "packTemplate { archived }",
            token=tenant.owner_token,
        )
        assert archived["packTemplate"] == {"archived": True}
        listed = await api.ok(
            "{ offered: packTemplates { name } "
            "all: packTemplates(includeArchived: true) { name } }",
            token=tenant.staff_token,
        )
        assert listed["offered"] == [{"name": "10 massages"}]
        assert len(listed["all"]) == 2
        row = await PackTemplate.get(id=pk(template["id"]))
        assert (row.archived, row.price) == (True, 65000)
        assert await PackTemplateItem.filter(template_id=row.id).count() == 2


async def test_a_template_with_an_unknown_service_is_not_found(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        payload = await api.mutate(
            "createPackTemplate",
            {
                "name": "x",
                "metric": "SESSIONS",
                "price": 1,
                "items": [{"allowance": 1, "serviceIds": ["bm9wZQ=="]}],
            },
            "packTemplate { id }",
            token=tenant.owner_token,
        )
        assert payload["userErrors"][0]["code"] == "NOT_FOUND"
        assert payload["userErrors"][0]["field"] == ["input", "items", "0", "serviceIds"]
        assert await PackTemplate.all().count() == 0


async def test_api_keys_are_created_once_and_revoked(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        created = await api.mutate(
            "createApiKey",
            {"name": "Xero"},
            "apiKey { id name role tokenPrefix revokedAt createdBy { name } } token",
            token=tenant.owner_token,
        )
        assert created["userErrors"] == []
        token = created["token"]
        assert token.startswith("pgk_") and token.startswith(created["apiKey"]["tokenPrefix"])
        assert created["apiKey"]["role"] == "INTEGRATION"
        assert created["apiKey"]["createdBy"] == {"name": "Clinic Owner"}
        viewer = await api.ok(VIEWER_QUERY, token=token)
        assert viewer["viewer"]["role"] == "INTEGRATION"
        revoked = await api.mutate(
            "revokeApiKey",
            {"apiKeyId": created["apiKey"]["id"]},
            "apiKey { revokedAt }",
            token=tenant.owner_token,
        )
        assert revoked["apiKey"]["revokedAt"] is not None
        body = await api.run(VIEWER_QUERY, token=token)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await ApiKey.get(id=pk(created["apiKey"]["id"]))).revoked_at is not None


async def test_update_business_settings(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        payload = await api.mutate(
            "updateBusinessSettings",
            {"timezone": "Europe/London", "redemptionRequiresFullPayment": True, "reminderDays": 7},
            "business { timezone settings { redemptionRequiresFullPayment reminderDays } }",
            token=tenant.owner_token,
        )
        assert payload["userErrors"] == []
        assert payload["business"] == {
            "timezone": "Europe/London",
            "settings": {"redemptionRequiresFullPayment": True, "reminderDays": 7},
        }
        bad = await api.mutate(
            "updateBusinessSettings",
            {"timezone": "Mars/Olympus"},
            "business { timezone }",
            token=tenant.owner_token,
        )
        assert bad["userErrors"][0]["field"] == ["input", "timezone"]
        business = await Business.get(id=tenant.id)
        assert (business.timezone, business.reminder_days) == ("Europe/London", 7)
