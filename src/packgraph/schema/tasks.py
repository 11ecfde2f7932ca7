"""Tasks the system raises for staff: a pack used up, expired or expiring soon."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from packgraph.models import Task
from packgraph.resolvers import visits as visit_resolvers
from packgraph.resolvers.context import Info
from packgraph.resolvers.ids import DEFAULT_PAGE_SIZE
from packgraph.schema.clients import ClientType
from packgraph.schema.enums import TaskKind
from packgraph.schema.refs import PackRef, resolved
from packgraph.schema.relay import AFTER, FIRST, CountedConnection, connection_of
from packgraph.schema.tenants import StaffType


@strawberry.type(name="Task", description="A to-do raised by the system, e.g. `offer a new pack`.")
class TaskType(relay.Node):
    id: relay.NodeID[int]
    kind: TaskKind = strawberry.field(description="Why it was raised.")  # type: ignore[valid-type]
    created_at: datetime = strawberry.field(description="When it was raised.")
    done_at: datetime | None = strawberry.field(description="When it was completed; null: open.")
    is_open: bool = strawberry.field(description="True until completed.")
    row: strawberry.Private[Task]

    @classmethod
    def from_row(cls, row: Task) -> TaskType:
        return cls(
            id=row.id,
            kind=row.kind,
            created_at=row.created_at,
            done_at=row.done_at,
            is_open=row.done_at is None,
            row=row,
        )

    @strawberry.field(description="The pack it is about.")
    async def pack(self, info: Info) -> PackRef | None:
        row = await info.context.loaders.pack.load(self.row.pack_id)  # type: ignore[attr-defined]
        return resolved(PackRef).from_row(row) if row else None

    @strawberry.field(description="The client it is about.")
    async def client(self, info: Info) -> ClientType | None:
        row = await info.context.loaders.client.load(self.row.client_id)  # type: ignore[attr-defined]
        return ClientType.from_row(row) if row else None

    @strawberry.field(description="Who completed it.")
    async def done_by(self, info: Info) -> StaffType | None:
        staff_id = self.row.done_by_id  # type: ignore[attr-defined]
        row = await info.context.loaders.staff.load(staff_id) if staff_id else None
        return StaffType.from_row(row) if row else None


@strawberry.type(description="A page of tasks.")
class TaskConnection(CountedConnection[TaskType]):
    pass


@strawberry.type(description="Tasks raised by the system.")
class TaskQueries:
    @strawberry.field(description="Tasks raised by the system, newest first.")
    async def tasks(
        self,
        info: Info,
        open: Annotated[
            bool | None,
            strawberry.argument(description="true: open tasks only; false: done only; null: all."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> TaskConnection:
        page = await visit_resolvers.task_page(info, open=open, first=first, after=after)
        return connection_of(TaskConnection, page, TaskType.from_row)


QUERY_AREAS: list[type] = [TaskQueries]
