"""Businesses, staff logins, sessions, API keys and the login rate limit, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from packgraph.domain import auth
from packgraph.domain.actor import Actor
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.models import ApiKey, LoginAttempt, Role, Staff, StaffSession
from packgraph.settings import Settings

SETTINGS = Settings(login_max_attempts=3, login_window_seconds=600, session_ttl_hours=2)


async def _clinic(email: str = "ann@clinic.test", role: Role = Role.OWNER) -> Staff:
    business = await auth.create_business(name="Clinic", timezone="Europe/Paris", currency="EUR")
    return await auth.create_staff(
        business_id=business.id, name="Ann", email=email, role=role, password="s3cret!"
    )


async def _login(email: str, password: str, address: str = "10.0.0.1") -> auth.LoginResult:
    return await auth.login(email=email, password=password, address=address, settings=SETTINGS)


async def test_password_hash_is_argon2_and_verifies():
    hashed = await auth.hash_password("correct horse")
    assert hashed.startswith("$argon2")
    assert await auth.verify_password(hashed, "correct horse")
    assert not await auth.verify_password(hashed, "wrong")
    assert not await auth.verify_password("not a hash", "wrong")


async def test_create_business_validates_timezone_and_currency(db):
    business = await auth.create_business(name=" Clinic ", timezone="Asia/Tokyo", currency="JPY")
    assert (business.name, business.timezone, business.currency) == ("Clinic", "Asia/Tokyo", "JPY")
    with pytest.raises(DomainError) as error:
        await auth.create_business(name="X", timezone="Mars/Olympus", currency="AUD")
    assert (error.value.code, error.value.field) == (ErrorCode.INVALID_INPUT, "timezone")
    for currency in ("aud", "AU", "AUDX"):
        with pytest.raises(DomainError) as error:
            await auth.create_business(name="X", timezone="UTC", currency=currency)
        assert error.value.field == "currency"


async def test_create_staff_normalises_email_and_refuses_duplicates(db):
    staff = await _clinic(email="  Ann@Clinic.TEST ")
    assert staff.email == "ann@clinic.test"
    assert staff.password_hash.startswith("$argon2") and "s3cret" not in staff.password_hash
    with pytest.raises(DomainError) as error:
        await auth.create_staff(
            business_id=staff.business_id,
            name="Other Ann",
            email="ANN@clinic.test",
            role=Role.STAFF,
            password="x",
        )
    assert (error.value.code, error.value.message) == (
        ErrorCode.INVALID_INPUT,
        "email already in use",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"role": "INTEGRATION"}, "role"),
        ({"role": "BOSS"}, "role"),
        ({"password": ""}, "password"),
        ({"name": "  "}, "name"),
    ],
)
async def test_create_staff_rejects_bad_input(db, changes, field):
    owner = await _clinic()
    arguments = {
        "business_id": owner.business_id,
        "name": "Bo",
        "email": "bo@clinic.test",
        "role": Role.STAFF,
        "password": "pw",
    } | changes
    with pytest.raises(DomainError) as error:
        await auth.create_staff(**arguments)
    assert (error.value.code, error.value.field) == (ErrorCode.INVALID_INPUT, field)


async def test_create_staff_in_unknown_business_is_not_found(db):
    with pytest.raises(DomainError) as error:
        await auth.create_staff(
            business_id=999, name="Bo", email="bo@x.test", role=Role.STAFF, password="pw"
        )
    assert error.value.code == ErrorCode.NOT_FOUND


async def test_login_returns_a_session_token_stored_only_as_hash(db):
    staff = await _clinic()
    before = datetime.now(UTC)
    result = await _login("ANN@clinic.test", "s3cret!")
    assert result.token.startswith("pgs_") and len(result.token) > 40
    assert result.staff.id == staff.id
    assert (
        before + timedelta(hours=2) <= result.expires_at <= datetime.now(UTC) + timedelta(hours=2)
    )
    session = await StaffSession.get(staff_id=staff.id)
    assert session.token_hash == auth.hash_token(result.token)
    assert result.token not in session.token_hash

    actor = await auth.authenticate(result.token)
    assert actor == Actor(
        business_id=staff.business_id, role=Role.OWNER, staff_id=staff.id, name="Ann"
    )


async def test_wrong_password_unknown_email_and_inactive_staff_look_the_same(db):
    owner = await _clinic()
    clerk = await auth.create_staff(
        business_id=owner.business_id,
        name="Cy",
        email="cy@clinic.test",
        role=Role.STAFF,
        password="pw",
    )
    await auth.deactivate_staff(actor=auth.staff_actor(owner), staff_id=clerk.id)
    messages = set()
    for email, password in [
        ("ann@clinic.test", "wrong"),
        ("nobody@clinic.test", "s3cret!"),
        ("cy@clinic.test", "pw"),
    ]:
        with pytest.raises(DomainError) as error:
            await auth.login(email=email, password=password, address=email, settings=SETTINGS)
        assert error.value.code == ErrorCode.INVALID_CREDENTIALS
        messages.add(error.value.message)
    assert messages == {auth.INVALID_LOGIN_MESSAGE}


async def test_failed_logins_per_email_are_rate_limited_even_with_the_right_password(db):
    await _clinic()
    for attempt in range(3):
        with pytest.raises(DomainError) as error:
            await _login("ann@clinic.test", "wrong", address=f"10.0.0.{attempt}")
        assert error.value.code == ErrorCode.INVALID_CREDENTIALS
    with pytest.raises(DomainError) as error:
        await _login("ann@clinic.test", "s3cret!", address="10.9.9.9")
    assert error.value.code == ErrorCode.RATE_LIMITED
    # A rate-limited attempt is not itself recorded: only real password checks count.
    assert await LoginAttempt.filter(email="ann@clinic.test").count() == 3


async def test_failed_logins_per_address_are_rate_limited(db):
    await _clinic()
    for attempt in range(3):
        with pytest.raises(DomainError):
            await _login(f"guess{attempt}@clinic.test", "x", address="192.0.2.7")
    with pytest.raises(DomainError) as error:
        await _login("ann@clinic.test", "s3cret!", address="192.0.2.7")
    assert error.value.code == ErrorCode.RATE_LIMITED
    # Another address is not affected.
    assert (await _login("ann@clinic.test", "s3cret!", address="192.0.2.8")).token


async def test_old_failures_fall_out_of_the_window(db):
    await _clinic()
    long_ago = datetime.now(UTC) - timedelta(seconds=SETTINGS.login_window_seconds + 5)
    for _ in range(5):
        await LoginAttempt.create(
            email="ann@clinic.test", address="10.0.0.1", attempted_at=long_ago
        )
    assert (await _login("ann@clinic.test", "s3cret!")).token


async def test_success_forgives_own_typos_but_not_failures_from_elsewhere(db):
    await _clinic()
    with pytest.raises(DomainError):
        await _login("ann@clinic.test", "typo", address="10.0.0.1")
    with pytest.raises(DomainError):
        await _login("ann@clinic.test", "attack", address="203.0.113.5")
    await _login("ann@clinic.test", "s3cret!", address="10.0.0.1")
    remaining = await LoginAttempt.filter(email="ann@clinic.test").values_list("address", flat=True)
    assert remaining == ["203.0.113.5"]


async def test_authenticate_refuses_unknown_expired_revoked_and_inactive(db):
    owner = await _clinic()
    assert await auth.authenticate(None) is None
    assert await auth.authenticate("") is None
    assert await auth.authenticate("pgs_unknown") is None
    assert await auth.authenticate("Bearer nonsense") is None

    expired = await _login("ann@clinic.test", "s3cret!")
    await StaffSession.filter(token_hash=auth.hash_token(expired.token)).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert await auth.authenticate(expired.token) is None

    logged_out = await _login("ann@clinic.test", "s3cret!")
    assert await auth.logout(logged_out.token) is True
    assert await auth.logout(logged_out.token) is False
    assert await auth.authenticate(logged_out.token) is None

    live = await _login("ann@clinic.test", "s3cret!")
    assert await auth.authenticate(live.token) is not None
    await Staff.filter(id=owner.id).update(active=False)
    assert await auth.authenticate(live.token) is None


async def test_api_keys_are_created_by_managers_and_authenticate_as_integration(db):
    owner = await _clinic()
    key, token = await auth.create_api_key(actor=auth.staff_actor(owner), name="Xero sync")
    assert token.startswith("pgk_") and key.token_hash == auth.hash_token(token)
    assert key.token_prefix == token[:12] and key.created_by_id == owner.id
    actor = await auth.authenticate(token)
    assert actor == Actor(
        business_id=owner.business_id, role=Role.INTEGRATION, api_key_id=key.id, name="Xero sync"
    )

    revoked = await auth.revoke_api_key(actor=auth.staff_actor(owner), api_key_id=key.id)
    assert revoked.revoked_at is not None
    assert await auth.authenticate(token) is None
    again = await auth.revoke_api_key(actor=auth.staff_actor(owner), api_key_id=key.id)
    assert again.revoked_at == revoked.revoked_at


async def test_staff_and_integrations_cannot_manage_api_keys(db):
    owner = await _clinic()
    clerk = await auth.create_staff(
        business_id=owner.business_id,
        name="Cy",
        email="cy@clinic.test",
        role=Role.STAFF,
        password="pw",
    )
    with pytest.raises(DomainError) as error:
        await auth.create_api_key(actor=auth.staff_actor(clerk), name="mine")
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    key, token = await auth.create_api_key(actor=auth.staff_actor(owner), name="CRM")
    integration = await auth.authenticate(token)
    with pytest.raises(DomainError) as error:
        await auth.create_api_key(actor=integration, name="escalate")
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(DomainError) as error:
        await auth.revoke_api_key(actor=auth.staff_actor(clerk), api_key_id=key.id)
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    assert await ApiKey.filter(business_id=owner.business_id).count() == 1


async def test_api_key_of_another_business_is_not_found(db):
    owner = await _clinic()
    rival = await _clinic(email="rex@rival.test")
    key, _ = await auth.create_api_key(actor=auth.staff_actor(rival), name="theirs")
    with pytest.raises(DomainError) as error:
        await auth.revoke_api_key(actor=auth.staff_actor(owner), api_key_id=key.id)
    assert error.value.code == ErrorCode.NOT_FOUND


async def test_deactivate_staff_ends_sessions_and_respects_roles(db):
    owner = await _clinic()
    manager = await auth.create_staff(
        business_id=owner.business_id,
        name="Mo",
        email="mo@clinic.test",
        role=Role.MANAGER,
        password="pw",
    )
    clerk = await auth.create_staff(
        business_id=owner.business_id,
        name="Cy",
        email="cy@clinic.test",
        role=Role.STAFF,
        password="pw",
    )
    session = await _login("cy@clinic.test", "pw")
    with pytest.raises(DomainError) as error:
        await auth.deactivate_staff(actor=auth.staff_actor(clerk), staff_id=manager.id)
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(DomainError) as error:
        await auth.deactivate_staff(actor=auth.staff_actor(manager), staff_id=owner.id)
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(DomainError) as error:
        await auth.deactivate_staff(actor=auth.staff_actor(manager), staff_id=manager.id)
    assert error.value.code == ErrorCode.INVALID_INPUT

    await auth.deactivate_staff(actor=auth.staff_actor(manager), staff_id=clerk.id)
    assert not (await Staff.get(id=clerk.id)).active
    assert await auth.authenticate(session.token) is None
    assert await StaffSession.filter(staff_id=clerk.id, revoked_at=None).count() == 0
