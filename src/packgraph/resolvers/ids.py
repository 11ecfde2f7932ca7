"""Global IDs, opaque cursors, page sizes and search text: what a client sends to name rows.

Global IDs are strawberry's (base64 of ``TypeName:pk``). Cursors are base64 of a small JSON list
that starts with a tag naming the ordering, so a cursor from one ordering is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from graphql import GraphQLError
from strawberry.relay.utils import from_base64, to_base64

from packgraph.domain.search import MAX_SEARCH_WORDS, search_words

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Primary keys are 32-bit integers on every backend: a larger number names nothing, and passing
# it to the driver would fail (OverflowError on SQLite, out of int32 range on PostgreSQL).
MAX_PK = 2**31 - 1


class BadRequestError(GraphQLError):
    """A malformed argument (page size, cursor): a top-level error with a stable code."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message, extensions={"code": code})


def global_id(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)


def parse_global_id(value: str | None, type_name: str | None = None) -> tuple[str, int] | None:
    """``(type name, primary key)`` of a global ID, or None when it is malformed or of another
    type. Callers treat None exactly like an unknown ID."""
    if not value:
        return None
    try:
        found_type, raw_pk = from_base64(str(value))
        pk = int(raw_pk)
    except (ValueError, TypeError, binascii.Error):
        return None
    if type_name is not None and found_type != type_name:
        return None
    if not 0 < pk <= MAX_PK:
        return None
    return found_type, pk


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise BadRequestError(
            f"`first` must be between 0 and {MAX_PAGE_SIZE}; got {first}. "
            "Page through larger lists with `after`.",
            code="PAGE_SIZE_OUT_OF_RANGE",
        )
    return first


# Longer than any searchable column (names, emails, phones): such a search matches nothing, and
# SQLite refuses LIKE patterns over 50 kB.
MAX_SEARCH_LENGTH = 254


def search_text(search: str | None) -> str | None:
    """The trimmed text of a ``search`` argument; None when there is nothing to search for."""
    text = (search or "").strip()
    if len(text) > MAX_SEARCH_LENGTH:
        raise BadRequestError(f"`search` is at most {MAX_SEARCH_LENGTH} characters.")
    if len(search_words(text)) > MAX_SEARCH_WORDS:
        raise BadRequestError(f"`search` has at most {MAX_SEARCH_WORDS} different words.")
    return text or None


def encode_cursor(tag: str, *values: Any) -> str:
    raw = json.dumps([tag, *values], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, tag: str) -> list[Any] | None:
    """The values a cursor of ordering ``tag`` was made from; a foreign cursor is an error."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        decoded = None
    if not isinstance(decoded, list) or not decoded or decoded[0] != tag:
        raise BadRequestError(
            "`after` is not a cursor of this list and ordering; use an `endCursor` or an edge "
            "`cursor` returned by the same field with the same `orderBy`.",
            code="INVALID_CURSOR",
        )
    return decoded[1:]
