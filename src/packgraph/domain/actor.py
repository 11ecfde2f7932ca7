"""Who is acting: a staff member, an integration key, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass

from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.models.enums import Role

MANAGERS = frozenset({Role.OWNER, Role.MANAGER})
STAFF_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.STAFF})


@dataclass(frozen=True)
class Actor:
    """The caller of a domain function, always bound to one business."""

    business_id: int
    role: Role
    staff_id: int | None = None
    api_key_id: int | None = None
    name: str = ""

    @classmethod
    def system(cls, business_id: int) -> Actor:
        """Background jobs (expiry processing) act as the system, with manager rights."""
        return cls(business_id=business_id, role=Role.OWNER, name="packgraph")

    @property
    def label(self) -> str:
        """Stored on events: ``staff:12``, ``api_key:3`` or ``system``."""
        if self.staff_id is not None:
            return f"staff:{self.staff_id}"
        if self.api_key_id is not None:
            return f"api_key:{self.api_key_id}"
        return "system"

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGERS

    def require_staff(self) -> None:
        """Writes need a staff role: integrations read and subscribe only."""
        if self.role not in STAFF_ROLES:
            raise DomainError(
                ErrorCode.PERMISSION_DENIED, "integration keys can only read and subscribe"
            )

    def require_manager(self, what: str) -> None:
        if self.role not in MANAGERS:
            raise DomainError(ErrorCode.PERMISSION_DENIED, f"only managers and owners can {what}")
