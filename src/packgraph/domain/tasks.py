"""Tasks the system raises for staff (pack used up, expired, expiring soon) and completing them.

Raising is idempotent through the unique ``(business, dedupe_key)`` constraint: two server
processes that both notice the same pack ending insert one task between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.clock import utcnow
from packgraph.domain.errors import not_found
from packgraph.domain.transaction import write_transaction
from packgraph.models import Task, TaskKind


@dataclass(frozen=True)
class TaskResult:
    """The task after ``complete_task``; ``completed`` is False when it was already done."""

    task: Task
    completed: bool


async def raise_task(
    conn: BaseDBAsyncClient,
    *,
    business_id: int,
    kind: TaskKind,
    pack_id: int,
    client_id: int,
    dedupe_key: str,
    now: datetime | None = None,
) -> bool:
    """Insert a task in the caller's transaction unless one with ``dedupe_key`` exists already.

    Returns True when this call created it. ``INSERT ... ON CONFLICT DO NOTHING`` (both SQLite and
    PostgreSQL) rather than catching IntegrityError: on PostgreSQL a failed INSERT aborts the
    whole surrounding transaction, and a concurrent insert of the same key waits for the other
    transaction and then does nothing instead of failing.
    """
    postgres = conn.capabilities.dialect == "postgres"
    marks = ", ".join(f"${index}" if postgres else "?" for index in range(1, 7))
    rows = await conn.execute_query_dict(
        "INSERT INTO task (business_id, kind, pack_id, client_id, dedupe_key, created_at) "
        f"VALUES ({marks}) ON CONFLICT (business_id, dedupe_key) DO NOTHING RETURNING id",
        [business_id, kind.value, pack_id, client_id, dedupe_key, now or utcnow()],
    )
    return bool(rows)


async def complete_task(*, actor: Actor, task_id: int) -> TaskResult:
    """Mark a task done by the acting staff member. Completing a done task changes nothing.

    Tasks have no event type of their own (SPEC §2): completing one emits no outbox event.
    """
    actor.require_staff()
    async with write_transaction(actor.business_id) as conn:
        completed = await (
            Task.filter(id=task_id, business_id=actor.business_id, done_at__isnull=True)
            .using_db(conn)
            .update(done_at=utcnow(), done_by_id=actor.staff_id)
        )
        task = await Task.filter(id=task_id, business_id=actor.business_id).using_db(conn).first()
        if task is None:
            raise not_found("task", "taskId")
    return TaskResult(task=task, completed=bool(completed))
