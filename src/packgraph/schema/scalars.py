"""Scalar overrides: strawberry's own scalars, parsed more strictly where input could break us.

The names and descriptions are strawberry's, so the SDL does not change.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dateutil.parser
from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition


def parse_datetime(value: str) -> datetime:
    """ISO 8601, as strawberry parses it, refusing a time whose UTC form is outside the
    calendar (``9999-12-31T23:00:00-12:00``): it could not be stored or compared."""
    moment = dateutil.parser.isoparse(value)
    if moment.tzinfo is not None:
        moment.astimezone(UTC)
    return moment


DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    parse_value=wrap_parser(parse_datetime, "DateTime", exceptions=(ValueError, OverflowError)),
    parse_literal=None,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATETIME}
