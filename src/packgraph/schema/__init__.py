"""Strawberry types, inputs, payloads, enums and scalars. No writes happen here.

The root types are composed in :mod:`packgraph.schema.root` from one class per area; importing
this package stays cheap and free of import cycles (resolvers import the type modules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import strawberry

    from packgraph.settings import Settings


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The packgraph schema with the limits and extensions of ``settings``."""
    from packgraph.schema.root import build_schema as build

    return build(settings)


def export_sdl() -> str:
    """The schema as SDL text, as committed in ``schema.graphql``."""
    from packgraph.schema.root import export_sdl as export

    return export()


__all__ = ["build_schema", "export_sdl"]
