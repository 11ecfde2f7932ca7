"""Keyset pagination: a page is ``WHERE (sort key, id) after the cursor ORDER BY sort key, id
LIMIT first + 1``, one statement whatever the page number.

The cursor holds the last row's sort key and id, not an offset, so a page stays correct while
rows are added, removed or re-sorted: nothing is skipped or repeated because of a change
elsewhere in the list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from tortoise.expressions import Case, Q, When
from tortoise.queryset import QuerySet

from packgraph.resolvers.ids import MAX_PK, BadRequestError, decode_cursor, encode_cursor, page_size

Row = TypeVar("Row")


@dataclass(frozen=True)
class Ordering:
    """Sort by ``field`` (then by id in the same direction). A nullable field sorts its nulls
    last in either direction."""

    tag: str
    field: str | None = None
    descending: bool = False
    nullable: bool = False
    is_datetime: bool = False

    def key_of(self, row: Any) -> list[Any]:
        if self.field is None:
            return [row.pk]
        value = getattr(row, self.field)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        if self.nullable:
            return [1 if value is None else 0, value, row.pk]
        return [value, row.pk]

    def cursor_of(self, row: Any) -> str:
        return encode_cursor(self.tag, *self.key_of(row))

    def _parse(self, value: Any) -> Any:
        if self.is_datetime:
            return datetime.fromisoformat(value)
        # Cursors are client input: only text a column can hold (no NUL, valid UTF-8) compares.
        if not isinstance(value, str) or "\x00" in value:
            raise TypeError(value)
        value.encode("utf-8")
        return value

    @staticmethod
    def _id(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PK:
            raise ValueError(value)
        return value

    def _after(self, values: list[Any]) -> Q:
        greater = "lt" if self.descending else "gt"
        try:
            if self.field is None:
                (last_id,) = values
                return Q(**{f"id__{greater}": self._id(last_id)})
            if self.nullable:
                is_null, value, last_id = values
                last_id = self._id(last_id)
                if is_null:
                    return Q(**{f"{self.field}__isnull": True, f"id__{greater}": last_id})
                value = self._parse(value)
                return (
                    Q(**{f"{self.field}__isnull": True})
                    | Q(**{f"{self.field}__{greater}": value})
                    | Q(**{self.field: value, f"id__{greater}": last_id})
                )
            value, last_id = values
            value = self._parse(value)
            last_id = self._id(last_id)
            # The first condition is implied by the other two; it is there for the database,
            # which can seek an index on (..., field, id) to it instead of reading and
            # discarding every row of the earlier pages.
            return Q(**{f"{self.field}__{greater}e": value}) & (
                Q(**{f"{self.field}__{greater}": value})
                | Q(**{self.field: value, f"id__{greater}": last_id})
            )
        except (TypeError, ValueError):
            raise BadRequestError("`after` is not a valid cursor.", code="INVALID_CURSOR") from None

    def apply(self, query: QuerySet, after: str | None) -> QuerySet:
        values = decode_cursor(after, self.tag)
        if values is not None:
            query = query.filter(self._after(values))
        direction = "-" if self.descending else ""
        if self.field is None:
            return query.order_by(f"{direction}id")
        if self.nullable:
            query = query.annotate(
                _nulls_last=Case(When(**{f"{self.field}__isnull": True}, then="1"), default="0")
            )
            return query.order_by("_nulls_last", f"{direction}{self.field}", f"{direction}id")
        return query.order_by(f"{direction}{self.field}", f"{direction}id")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a list: its rows, whether more follow, and how to count the whole list."""

    rows: Sequence[Row]
    has_next_page: bool
    after: str | None
    cursor_of: Callable[[Row], str]
    count_rows: Callable[[], Awaitable[int]]

    @classmethod
    def of(
        cls,
        rows: Sequence[Row],
        *,
        size: int,
        after: str | None,
        cursor_of: Callable[[Row], str],
        count_rows: Callable[[], Awaitable[int]],
    ) -> Page[Row]:
        """The page of up to ``size + 1`` rows fetched after the cursor (the extra row only
        says whether there is a next page)."""
        return cls(list(rows[:size]), len(rows) > size, after, cursor_of, count_rows)


async def keyset_page(
    query: QuerySet, *, ordering: Ordering, first: int | None, after: str | None
) -> Page[Any]:
    """One page of ``query``; its ``count_rows`` runs a COUNT only when asked."""
    size = page_size(first)
    # With first: 0 one row is still read, so hasNextPage says whether the list is empty.
    rows = list(await ordering.apply(query, after).limit(size + 1))
    return Page.of(
        rows, size=size, after=after, cursor_of=ordering.cursor_of, count_rows=query.count
    )
