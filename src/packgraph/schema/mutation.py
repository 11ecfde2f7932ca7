"""The one place where a DomainError becomes ``userErrors``, and global-ID decoding for inputs."""

from __future__ import annotations

import functools
import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from tortoise.exceptions import ValidationError

from packgraph.domain.errors import DomainError, invalid, not_found
from packgraph.resolvers.context import Info
from packgraph.resolvers.ids import parse_global_id
from packgraph.resolvers.permissions import require_writer
from packgraph.schema.errors import UserError

P = TypeVar("P")

# The description of every mutation's single ``input`` argument.
INPUT = strawberry.argument(description="The mutation's input object.")
# Descriptions of the idempotency fields of the mutations that take a key.
IDEMPOTENCY_KEY = (
    "Any unique string (e.g. a UUID). A retry with the same key returns the first result and "
    "changes nothing more."
)
REPLAYED = "True when this is the stored result of an earlier call with the same idempotencyKey."
Resolver = Callable[..., Awaitable[P]]


def mutation(*, public: bool = False) -> Callable[[Resolver[P]], Resolver[P]]:
    """Wrap a mutation resolver ``(info, input) -> Payload``.

    Checks the caller may write (``public`` skips it, for ``login``) and turns any DomainError
    into the payload with one ``userErrors`` entry. The domain's transaction has rolled back by
    then, so a payload with errors always means nothing changed.
    """

    def decorate(resolver: Resolver[P]) -> Resolver[P]:
        payload_class: type[Any] | None = None

        @functools.wraps(resolver)
        async def wrapper(info: Info, input: Any) -> P:
            nonlocal payload_class
            try:
                if not public:
                    require_writer(info.context.require_actor())
                return await resolver(info, input)
            except (DomainError, ValidationError) as error:
                if isinstance(error, ValidationError):
                    error = _refused_value(error)
                if payload_class is None:
                    payload_class = typing.get_type_hints(resolver)["return"]
                return payload_class(user_errors=[UserError.from_domain(error)])

        return wrapper

    return decorate


def _refused_value(error: ValidationError) -> DomainError:
    """A value a model's validators refused before any write (a string longer than its column,
    say ``"name: Length of '...' 300 > 200"``), as INVALID_INPUT on that field. The value itself
    is not repeated: it may be huge."""
    field, _, reason = str(error).partition(":")
    field = field.strip()
    problem = "is too long" if reason.strip().startswith("Length of") else "is not valid"
    return invalid(f"{field.replace('_', ' ')} {problem}", field or None)


def pk_of(value: str, type_name: str, field: str, what: str | None = None) -> int:
    """The primary key in a global ID of ``type_name``. A malformed ID, or one of another type,
    is NOT_FOUND exactly like an unknown one."""
    parsed = parse_global_id(value, type_name)
    if parsed is None:
        raise not_found(what or _words(type_name), field)
    return parsed[1]


def optional_pk_of(
    value: str | None, type_name: str, field: str, what: str | None = None
) -> int | None:
    return None if value is None else pk_of(value, type_name, field, what)


def _words(type_name: str) -> str:
    """``InvoiceLine`` -> ``invoice line``."""
    out = "".join(" " + char.lower() if char.isupper() else char for char in type_name)
    return out.strip()


def changes_of(input: Any, *names: str, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields of an update input that were given, as domain keyword arguments.

    Omitted fields are left out (the domain keeps them); ``null`` is passed only for fields in
    ``nullable`` (clearing them) and refused for the others.
    """
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(input, name)
        if value is strawberry.UNSET:
            continue
        if value is None and name not in nullable:
            raise invalid(f"{name} cannot be null", name)
        changes[name] = value
    return changes
