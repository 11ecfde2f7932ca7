"""Who may call what. The domain enforces every rule again; these checks make the API's answer
(PERMISSION_DENIED userError, UNAUTHENTICATED top-level error) uniform and early."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from packgraph.domain.actor import Actor
from packgraph.domain.errors import DomainError, ErrorCode
from packgraph.models import Role

# Root fields an anonymous caller may use: logging in, and what GraphiQL needs to show the docs.
PUBLIC_ROOT_FIELDS = frozenset({"login", "__schema", "__type", "__typename"})


def require_writer(actor: Actor) -> None:
    """Integration keys read and subscribe only: every mutation refuses them."""
    if actor.role == Role.INTEGRATION:
        raise DomainError(
            ErrorCode.PERMISSION_DENIED, "integration keys can only read and subscribe"
        )


def require_manager(actor: Actor, what: str) -> None:
    if not actor.is_manager:
        raise DomainError(ErrorCode.PERMISSION_DENIED, f"only managers and owners can {what}")


def _root_fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                yield from _root_fields(fragment.selection_set, fragments, seen | {name})


def needs_authentication(document: DocumentNode, operation_name: str | None) -> bool:
    """True when the operation selects any root field other than the public ones."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        )
    ]
    return any(
        name not in PUBLIC_ROOT_FIELDS
        for operation in operations
        for name in _root_fields(operation.selection_set, fragments)
    )
