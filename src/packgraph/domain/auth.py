"""Who may act: businesses, staff logins, sessions and integration API keys.

Passwords are hashed with argon2. Session and API-key tokens are random; only their SHA-256 is
stored, so a database leak gives no usable token. The login rate limit lives in the database
(``LoginAttempt``), so it holds across every server process.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from packgraph.domain.actor import STAFF_ROLES, Actor
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import DomainError, ErrorCode, invalid, not_found
from packgraph.models import ApiKey, Business, LoginAttempt, Role, Staff, StaffSession
from packgraph.settings import Settings

SESSION_PREFIX = "pgs_"
API_KEY_PREFIX = "pgk_"
INVALID_LOGIN_MESSAGE = "email or password is incorrect"

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class LoginResult:
    """A new staff session: the bearer token is shown once and never stored."""

    token: str
    staff: Staff
    expires_at: datetime


@functools.cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so a wrong email costs as much as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def hash_password(password: str) -> str:
    """Argon2 hash of ``password``, computed off the event loop (it takes tens of milliseconds)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; a malformed hash never matches."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def staff_actor(staff: Staff) -> Actor:
    """The actor a logged-in staff member acts as."""
    return Actor(
        business_id=staff.business_id,  # type: ignore[attr-defined]
        role=Role(staff.role),
        staff_id=staff.id,
        name=staff.name,
    )


async def login(*, email: str, password: str, address: str, settings: Settings) -> LoginResult:
    """Exchange an email and password for a staff session token.

    Unknown email, wrong password and inactive staff all fail with the same INVALID_CREDENTIALS
    message. Failed attempts are recorded per email and per client address; once either has
    ``login_max_attempts`` failures within ``login_window_seconds``, further attempts fail with
    RATE_LIMITED without checking the password. The attempt row is written *before* counting, so
    concurrent attempts in several processes see each other and cannot slip past the limit.
    """
    email = normalise_email(email)
    address = (address or "unknown")[:64]
    now = utcnow()
    window_start = now - timedelta(seconds=settings.login_window_seconds)
    attempt = await LoginAttempt.create(email=email[:254], address=address, attempted_at=now)
    recent = LoginAttempt.filter(attempted_at__gt=window_start)
    by_email = await recent.filter(email=attempt.email).count()
    by_address = await recent.filter(address=address).count()
    # Both counts include this attempt: the limit is on *earlier* failures.
    if max(by_email, by_address) > settings.login_max_attempts:
        await LoginAttempt.filter(id=attempt.id).delete()
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            "too many failed login attempts; try again later",
        )

    staff = await Staff.get_or_none(email=email)
    matches = await verify_password(staff.password_hash if staff else _dummy_hash(), password)
    if staff is None or not matches or not staff.active:
        await LoginAttempt.filter(attempted_at__lt=window_start).delete()
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, INVALID_LOGIN_MESSAGE)

    # The user's own earlier typos from this address are forgiven; failures of the same email
    # from other addresses stay, so a success never resets an attack in progress.
    await LoginAttempt.filter(email=email, address=address).delete()
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = await hash_password(password)
        await staff.save(update_fields=["password_hash"])
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=settings.session_ttl_hours)
    await StaffSession.create(
        business_id=staff.business_id,  # type: ignore[attr-defined]
        staff=staff,
        token_hash=hash_token(token),
        expires_at=expires_at,
    )
    return LoginResult(token=token, staff=staff, expires_at=expires_at)


async def authenticate(token: str | None) -> Actor | None:
    """The actor behind a bearer token, or None when it is unknown, expired or revoked."""
    if not token:
        return None
    token = token.strip()
    if token.startswith(SESSION_PREFIX):
        session = (
            await StaffSession.filter(
                token_hash=hash_token(token), revoked_at=None, expires_at__gt=utcnow()
            )
            .select_related("staff")
            .first()
        )
        if session is None or not session.staff.active:
            return None
        return staff_actor(session.staff)
    if token.startswith(API_KEY_PREFIX):
        key = await ApiKey.get_or_none(token_hash=hash_token(token), revoked_at=None)
        if key is None:
            return None
        return Actor(
            business_id=key.business_id,  # type: ignore[attr-defined]
            role=Role.INTEGRATION,
            api_key_id=key.id,
            name=key.name,
        )
    return None


async def logout(token: str) -> bool:
    """Revoke a staff session. True when a live session was revoked."""
    if not token.startswith(SESSION_PREFIX):
        return False
    revoked = await StaffSession.filter(token_hash=hash_token(token), revoked_at=None).update(
        revoked_at=utcnow()
    )
    return revoked > 0


async def create_business(*, name: str, timezone: str, currency: str) -> Business:
    """A new tenant. ``timezone`` is an IANA name; ``currency`` an ISO 4217 code such as AUD."""
    name = name.strip()
    if not name:
        raise invalid("name is required", "name")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise invalid(f"unknown timezone {timezone!r}", "timezone") from None
    if not _CURRENCY.match(currency):
        raise invalid("currency must be three uppercase letters (ISO 4217)", "currency")
    return await Business.create(name=name, timezone=timezone, currency=currency)


async def create_staff(
    *, business_id: int, name: str, email: str, role: Role | str, password: str
) -> Staff:
    """A staff login in ``business_id``. Emails are unique across all businesses."""
    name = name.strip()
    email = normalise_email(email)
    if not name:
        raise invalid("name is required", "name")
    if not _EMAIL.match(email) or len(email) > 254:
        raise invalid("email is not a valid address", "email")
    try:
        role = Role(role)
    except ValueError:
        role = None  # type: ignore[assignment]
    if role not in STAFF_ROLES:
        raise invalid("role must be OWNER, MANAGER or STAFF", "role")
    if not password:
        raise invalid("password is required", "password")
    if not await Business.exists(id=business_id):
        raise not_found("business", "businessId")
    password_hash = await hash_password(password)
    if await Staff.exists(email=email):
        raise invalid("email already in use", "email")
    try:
        return await Staff.create(
            business_id=business_id, name=name, email=email, role=role, password_hash=password_hash
        )
    except IntegrityError:
        # Two concurrent creations of the same email: the unique index decides.
        raise invalid("email already in use", "email") from None


async def deactivate_staff(*, actor: Actor, staff_id: int) -> Staff:
    """Stop a staff member from logging in and end their open sessions (managers and owners)."""
    actor.require_manager("deactivate staff")
    staff = await Staff.get_or_none(id=staff_id, business_id=actor.business_id)
    if staff is None:
        raise not_found("staff member", "staffId")
    if staff.id == actor.staff_id:
        raise invalid("you cannot deactivate yourself", "staffId")
    if staff.role == Role.OWNER and actor.role != Role.OWNER:
        raise DomainError(ErrorCode.PERMISSION_DENIED, "only owners can deactivate an owner")
    async with in_transaction() as connection:
        await Staff.filter(id=staff.id).using_db(connection).update(active=False)
        await (
            StaffSession.filter(staff_id=staff.id, revoked_at=None)
            .using_db(connection)
            .update(revoked_at=utcnow())
        )
    staff.active = False
    return staff


async def create_api_key(*, actor: Actor, name: str) -> tuple[ApiKey, str]:
    """A new integration key for the actor's business. The token is returned once, never again."""
    actor.require_manager("create API keys")
    name = name.strip()
    if not name:
        raise invalid("name is required", "name")
    token = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = await ApiKey.create(
        business_id=actor.business_id,
        name=name,
        role=Role.INTEGRATION,
        token_hash=hash_token(token),
        token_prefix=token[:12],
        created_by_id=actor.staff_id,
    )
    return key, token


async def revoke_api_key(*, actor: Actor, api_key_id: int) -> ApiKey:
    """Revoke an integration key of the actor's business; revoking twice is harmless."""
    actor.require_manager("revoke API keys")
    key = await ApiKey.get_or_none(id=api_key_id, business_id=actor.business_id)
    if key is None:
        raise not_found("API key", "apiKeyId")
    await ApiKey.filter(Q(id=key.id) & Q(revoked_at=None)).update(revoked_at=utcnow())
    await key.refresh_from_db()
    return key
