"""The typed error every mutation payload carries, and the payload base class."""

from __future__ import annotations

import re

import strawberry

from packgraph.domain.errors import DomainError
from packgraph.schema.enums import UserErrorCode


def _camel(segment: str) -> str:
    head, *rest = segment.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def input_path(field: str | None) -> list[str] | None:
    """``"items.0.allowance"`` or ``"pack_id"`` -> ``["input", "items", "0", "allowance"]``."""
    if not field:
        return None
    return ["input", *(_camel(part) for part in re.split(r"[.\[\]]+", field) if part)]


@strawberry.type(description="An expected failure of a mutation, e.g. not enough balance left.")
class UserError:
    code: UserErrorCode = strawberry.field(  # type: ignore[valid-type]
        description="What went wrong, as a stable code to branch on."
    )
    field: list[str] | None = strawberry.field(
        description='The path of the input value at fault, e.g. `["input", "packId"]`; '
        "null when the failure is not about one value."
    )
    message: str = strawberry.field(description="A sentence to show the user.")

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(
            code=UserErrorCode(error.code.value),  # type: ignore[operator]
            field=input_path(error.field),
            message=error.message,
        )


@strawberry.type(description="What every mutation payload carries.")
class Payload:
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why the mutation did not happen; empty when it succeeded. When not empty, "
        "nothing was changed.",
    )
